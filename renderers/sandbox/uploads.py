"""A static design's parts: STEP files read by OCC, meshes (STL, 3MF, OBJ) read by trimesh.

Uploaded files are untrusted input, so they are opened only here, inside a
confined worker. Before a parser sees a mesh it is checked against what it
claims: a binary STL's header count against its size, a 3MF's unpacked size
against a cap (a zip bomb is refused before it inflates), every mesh's
triangle count against the job's cap, its coordinates for NaN and infinity.
Degenerate triangles are dropped and counted in the log; whether a mesh is
watertight is measured by the host on what leaves here, never assumed.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass

import cadquery as cq

#: A 3MF (a zip) may unpack to at most this, and to at most this many times its own size.
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_UNPACK_RATIO = 200
#: A mesh part may hold at most this many triangles unless the job says otherwise.
DEFAULT_MAX_TRIANGLES = 2_000_000
SVG_VIEW = (1.0, -1.0, 0.8)  # the same view as the B-rep SVGs (job.SVG_OPTIONS)
#: Edges sharper than this are drawn in a mesh's SVG (a mesh has no B-rep edges to project).
FEATURE_ANGLE_DEG = 25.0

BREP = (".step", ".stp")
MESH = (".stl", ".3mf", ".obj")


class UploadError(Exception):
    """An uploaded part file that cannot be used; the message names the file and the reason."""


@dataclass
class MeshPart:
    """A checked mesh: (n, 3, 3) float triangles."""

    triangles: object
    degenerate: int = 0


def load_step(path: str) -> cq.Shape:
    """Read a STEP file; the whole file as one shape."""
    try:
        shape = cq.importers.importStep(path).val()
    except Exception as exc:  # noqa: BLE001 — OCC reports unreadable files in several ways
        raise UploadError(f"{path}: is not a STEP file that can be read ({type(exc).__name__}: {exc})") from None
    if not isinstance(shape, cq.Shape) or not shape.Faces():
        raise UploadError(f"{path}: the STEP file holds no solid or surface")
    return shape


def _check_binary_stl(path: str, data: bytes, max_triangles: int) -> bool:
    """True for a binary STL that is what its header says; False for an ASCII one."""
    if len(data) < 84:
        if data.lstrip().lower().startswith(b"solid"):
            return False
        raise UploadError(f"{path}: is {len(data)} bytes, too short for an STL (a binary STL has an 84-byte header)")
    (count,) = struct.unpack_from("<I", data, 80)
    expected = 84 + 50 * count
    if len(data) == expected:
        if count > max_triangles:
            raise UploadError(f"{path}: holds {count} triangles; the limit for a part is {max_triangles}")
        return True
    if data.lstrip()[:5].lower() == b"solid" and b"facet" in data[:4096]:
        return False  # ASCII STL; its size says nothing about its triangles
    holds = (len(data) - 84) // 50 if len(data) >= 84 else 0
    raise UploadError(f"{path}: the binary STL header says {count} triangles ({expected} bytes) but the file is "
                      f"{len(data)} bytes (room for {holds}): truncated or not an STL")


def _check_3mf(path: str, data: bytes) -> None:
    import io

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UploadError(f"{path}: is not a 3MF file (a 3MF is a zip archive)") from None
    unpacked = sum(info.file_size for info in archive.infolist())
    limit = min(MAX_UNPACKED_BYTES, max(len(data), 1) * MAX_UNPACK_RATIO)
    if unpacked > limit:
        raise UploadError(f"{path}: would unpack to {unpacked} bytes from {len(data)} (limit {limit}): "
                          "refused as a zip bomb")


def load_mesh(path: str, max_triangles: int = DEFAULT_MAX_TRIANGLES) -> MeshPart:
    """Check and read a mesh file; every triangle as (n, 3, 3) floats."""
    import numpy as np
    import trimesh

    with open(path, "rb") as f:
        data = f.read()
    suffix = path[path.rfind("."):].lower()
    if suffix == ".stl":
        _check_binary_stl(path, data, max_triangles)
    elif suffix == ".3mf":
        _check_3mf(path, data)
    try:
        import io

        loaded = trimesh.load(io.BytesIO(data), file_type=suffix[1:], force="mesh", process=False)
    except Exception as exc:  # noqa: BLE001 — trimesh's loaders raise many kinds
        raise UploadError(f"{path}: cannot be read as {suffix[1:].upper()} ({type(exc).__name__}: {exc})") from None
    faces = getattr(loaded, "faces", None)
    vertices = getattr(loaded, "vertices", None)
    if faces is None or vertices is None or len(faces) == 0:
        raise UploadError(f"{path}: holds no triangles")
    if len(faces) > max_triangles:
        raise UploadError(f"{path}: holds {len(faces)} triangles; the limit for a part is {max_triangles}")
    vertices = np.asarray(vertices, dtype=np.float64)
    bad = int((~np.isfinite(vertices)).any(axis=1).sum())
    if bad:
        raise UploadError(f"{path}: {bad} vertices are not finite numbers (NaN or infinity)")
    triangles = vertices[np.asarray(faces)]
    area = np.linalg.norm(np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0]), axis=1)
    degenerate = area <= 1e-12 * max(1.0, float(np.abs(triangles).max()) ** 2)
    if degenerate.all():
        raise UploadError(f"{path}: every triangle is degenerate (zero area)")
    return MeshPart(triangles[~degenerate].astype(np.float32), int(degenerate.sum()))


def write_stl(mesh: MeshPart, out: str) -> None:
    """A binary STL of the checked triangles, the same format the B-rep parts leave in."""
    import numpy as np

    tri = np.asarray(mesh.triangles, dtype=np.float32)
    record = np.zeros(len(tri), dtype=[("normal", "<f4", (3,)), ("vertices", "<f4", (3, 3)), ("attr", "<u2")])
    record["vertices"] = tri
    with open(out, "wb") as f:
        f.write(b"opendesign static part".ljust(80, b" ") + struct.pack("<I", len(tri)))
        f.write(record.tobytes())


def write_mesh_svg(meshes: list[MeshPart], out: str) -> None:
    """An SVG of a mesh's sharp and open edges seen from the B-rep SVGs' view direction.

    A mesh has no B-rep for OCC's hidden-line projection; trimesh projects its
    feature edges instead (hidden edges included: said in the README).
    """
    import numpy as np
    import trimesh

    tri = np.concatenate([np.asarray(m.triangles, dtype=np.float64) for m in meshes])
    mesh = trimesh.Trimesh(vertices=tri.reshape(-1, 3), faces=np.arange(len(tri) * 3).reshape(-1, 3), process=True)
    sharp = mesh.face_adjacency_edges[mesh.face_adjacency_angles > np.radians(FEATURE_ANGLE_DEG)]
    edges = np.concatenate([sharp, mesh.edges[trimesh.grouping.group_rows(mesh.edges_sorted, require_count=1)]])
    if not len(edges):
        edges = mesh.edges_unique
    view = np.asarray(SVG_VIEW) / np.linalg.norm(SVG_VIEW)
    transform = trimesh.geometry.align_vectors(view, [0, 0, 1])
    path = trimesh.load_path(mesh.vertices[edges])
    path.apply_transform(transform)
    # SVG's y axis points down.
    path.apply_transform(np.diag([1.0, -1.0, 1.0, 1.0]))
    planar, _ = path.to_planar(to_2D=np.eye(4), check=False)
    from trimesh.path.exchange.svg_io import export_svg

    (x0, y0), (x1, y1) = planar.bounds
    pad = 0.03 * max(x1 - x0, y1 - y0, 1e-9)
    box = f"{x0 - pad:.4f} {y0 - pad:.4f} {x1 - x0 + 2 * pad:.4f} {y1 - y0 + 2 * pad:.4f}"
    width = 0.004 * max(x1 - x0, y1 - y0, 1e-9)
    d = export_svg(planar, return_path=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600" viewBox="{box}">'
                f'<path d="{d}" fill="none" stroke="#000000" stroke-width="{width:.4f}"/></svg>')
