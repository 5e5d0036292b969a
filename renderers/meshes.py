"""Meshes the host reads back from a worker: parsed, checked, measured.

A worker hands over each part as a binary STL written by OCC. Nothing in it is
trusted: :func:`parse_stl` checks the layout, the triangle cap and that every
coordinate is finite before anything else looks at it. The mesh formats the
user downloads are then written from these checked arrays (see
:mod:`renderers.formats`), never copied from the sandbox.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .errors import INVALID_GEOMETRY, SANDBOX_FAILURE, RenderError

_STL_RECORD = np.dtype([("normal", "<f4", (3,)), ("vertices", "<f4", (3, 3)), ("attr", "<u2")])
#: Coordinates beyond this (model units, mm) are refused as nonsense.
MAX_COORDINATE = 1e7


@dataclass(frozen=True)
class MeshStats:
    triangles: int
    watertight: bool
    volume: float
    bbox: tuple[tuple[float, float, float], tuple[float, float, float]]

    def as_dict(self) -> dict:
        return {"triangles": self.triangles, "watertight": self.watertight, "volume": self.volume,
                "bbox": [list(self.bbox[0]), list(self.bbox[1])]}


class Mesh:
    """A triangle soup: ``triangles[i]`` holds the three corners of triangle *i*."""

    def __init__(self, triangles: np.ndarray):
        self.triangles = np.ascontiguousarray(triangles, dtype=np.float32).reshape(-1, 3, 3)

    def __len__(self) -> int:
        return len(self.triangles)

    @cached_property
    def trimesh(self):
        """An indexed :class:`trimesh.Trimesh` (vertices merged) for measuring and exporting."""
        import trimesh

        faces = np.arange(len(self) * 3, dtype=np.int64).reshape(-1, 3)
        return trimesh.Trimesh(vertices=self.triangles.reshape(-1, 3).astype(np.float64), faces=faces,
                               process=True, validate=False)

    @cached_property
    def stats(self) -> MeshStats:
        mesh = self.trimesh
        lo, hi = self.triangles.reshape(-1, 3).min(axis=0), self.triangles.reshape(-1, 3).max(axis=0)
        return MeshStats(triangles=len(self), watertight=bool(mesh.is_watertight),
                         volume=round(float(abs(mesh.volume)), 6),
                         bbox=(tuple(round(float(x), 6) for x in lo), tuple(round(float(x), 6) for x in hi)))


def parse_stl(data: bytes, *, max_triangles: int, name: str = "mesh") -> Mesh:
    """Check and parse a binary STL from the sandbox.

    :raises RenderError: ``invalid-geometry`` for an empty, non-finite or
        too-large mesh; ``sandbox-failure`` for a file that is not a binary STL.
    """
    if len(data) < 84:
        raise RenderError(SANDBOX_FAILURE, f"{name}: not a binary STL ({len(data)} bytes)")
    (count,) = struct.unpack_from("<I", data, 80)
    if len(data) != 84 + 50 * count:
        raise RenderError(SANDBOX_FAILURE, f"{name}: binary STL of {len(data)} bytes cannot hold {count} triangles")
    if count == 0:
        raise RenderError(INVALID_GEOMETRY, f"{name}: the model has no surface (empty mesh)")
    if count > max_triangles:
        raise RenderError(INVALID_GEOMETRY, f"{name}: {count} triangles exceed the limit of {max_triangles}; "
                                            "use a coarser quality or simplify the model")
    records = np.frombuffer(data, dtype=_STL_RECORD, count=count, offset=84)
    triangles = records["vertices"]
    if not np.isfinite(triangles).all():
        raise RenderError(INVALID_GEOMETRY, f"{name}: the mesh has non-finite coordinates")
    if np.abs(triangles).max() > MAX_COORDINATE:
        raise RenderError(INVALID_GEOMETRY, f"{name}: coordinates beyond {MAX_COORDINATE:g} mm")
    # OCC leaves triangles with two identical corners where a surface closes in a
    # point (fillet corners, sphere poles). They cover nothing; dropped, the
    # mesh is the closed one it should be.
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    collapsed = (a == b).all(axis=1) | (b == c).all(axis=1) | (a == c).all(axis=1)
    if collapsed.any():
        triangles = triangles[~collapsed]
        if not len(triangles):
            raise RenderError(INVALID_GEOMETRY, f"{name}: the model has no surface (only degenerate triangles)")
    return Mesh(triangles)


def join(meshes: list[Mesh]) -> Mesh:
    return Mesh(np.concatenate([m.triangles for m in meshes])) if len(meshes) > 1 else meshes[0]


def combined_stats(parts: list[Mesh]) -> MeshStats:
    """Stats of a multi-part model: each part closed on its own counts as watertight."""
    stats = [p.stats for p in parts]
    lo = tuple(min(s.bbox[0][i] for s in stats) for i in range(3))
    hi = tuple(max(s.bbox[1][i] for s in stats) for i in range(3))
    return MeshStats(triangles=sum(s.triangles for s in stats), watertight=all(s.watertight for s in stats),
                     volume=round(sum(s.volume for s in stats), 6), bbox=(lo, hi))
