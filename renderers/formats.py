"""The output format registry and the quality presets.

As ``trimesh.exchange`` keeps its exporters, :data:`FORMATS` maps an
extension to a :class:`Format`; adding a format is adding an entry.

Two kinds of format:

``mesh`` (stl, 3mf, glb)
    Written here, in the host, from meshes that :mod:`renderers.meshes`
    parsed and checked — the bytes never come from the sandbox.
``shape`` (step, svg)
    Need the exact B-rep, so the worker writes them; here they are only
    checked (STEP's envelope) or rebuilt from a strict whitelist (SVG), since
    an SVG may end up inline in a web page.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import INVALID_GEOMETRY, INVALID_PARAMS, RenderError

if TYPE_CHECKING:  # numpy and trimesh load only when something is exported
    from .meshes import Mesh


@dataclass(frozen=True)
class Quality:
    name: str
    #: Largest distance (mm) between the surface and its triangles.
    tolerance: float
    #: Largest angle (radians) between neighbouring triangles along a curve.
    angular_tolerance: float


QUALITIES: dict[str, Quality] = {
    "draft": Quality("draft", 0.5, 0.5),
    "normal": Quality("normal", 0.1, 0.2),
    "fine": Quality("fine", 0.02, 0.1),
}
DEFAULT_QUALITY = "normal"

#: A mesh format's input is a scene: (name, mesh) pairs — one pair, or one per part.


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    kind: str  # "mesh" | "shape"
    export: Callable[..., bytes]
    description: str = ""

    @property
    def extension(self) -> str:
        return self.name


FORMATS: dict[str, Format] = {}


def register(fmt: Format) -> Format:
    FORMATS[fmt.name] = fmt
    return fmt


def get_format(name: str) -> Format:
    try:
        return FORMATS[name.lower().lstrip(".")]
    except KeyError:
        raise RenderError(INVALID_PARAMS, f"unknown format {name!r} (known: {', '.join(FORMATS)})") from None


def get_quality(name: str) -> Quality:
    try:
        return QUALITIES[name]
    except KeyError:
        raise RenderError(INVALID_PARAMS, f"unknown quality {name!r} (known: {', '.join(QUALITIES)})") from None


# -- mesh formats ---------------------------------------------------------------------

def export_stl(scene: list[tuple[str, Mesh]], label: str = "") -> bytes:
    """Binary STL: every part's triangles in one file, with unit normals."""
    import numpy as np

    tri = np.concatenate([mesh.triangles for _, mesh in scene])
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    lengths = np.linalg.norm(normals, axis=1, keepdims=True)
    normals = np.divide(normals, lengths, out=np.zeros_like(normals), where=lengths > 0)
    records = np.zeros(len(tri), dtype=[("normal", "<f4", (3,)), ("vertices", "<f4", (3, 3)), ("attr", "<u2")])
    records["normal"] = normals
    records["vertices"] = tri
    header = f"opendesign {label}".encode("ascii", "replace")[:80].ljust(80, b" ")
    return header + len(tri).to_bytes(4, "little") + records.tobytes()


def _trimesh_scene(scene: list[tuple[str, Mesh]], transform=None):
    import trimesh

    out = trimesh.Scene()
    for name, mesh in scene:
        out.add_geometry(mesh.trimesh.copy(), geom_name=name, node_name=name, transform=transform)
    return out


def export_3mf(scene: list[tuple[str, Mesh]], label: str = "") -> bytes:
    from trimesh.exchange.threemf import export_3MF as write

    return write(_trimesh_scene(scene))  # 3MF's default unit is the millimetre, as ours


#: glTF is Y-up and in metres; our models are Z-up millimetres.
_GLTF_FROM_CAD = [[0.001, 0, 0, 0], [0, 0, 0.001, 0], [0, -0.001, 0, 0], [0, 0, 0, 1]]


def export_glb(scene: list[tuple[str, Mesh]], label: str = "") -> bytes:
    from trimesh.exchange.gltf import export_glb as write

    import numpy as np

    return write(_trimesh_scene(scene, np.array(_GLTF_FROM_CAD, dtype=float)))


# -- shape formats (checked, not trusted) ---------------------------------------------

def check_step(data: bytes, label: str = "") -> bytes:
    head, tail = data[:64].lstrip(), data[-64:].rstrip()
    if not head.startswith(b"ISO-10303-21;") or not tail.endswith(b"END-ISO-10303-21;"):
        raise RenderError(INVALID_GEOMETRY, "the STEP export is not a complete ISO 10303-21 file")
    return data


SVG_NS = "http://www.w3.org/2000/svg"
_SVG_TAGS = {"svg", "g", "path", "line", "polyline", "polygon", "circle", "ellipse", "rect", "title", "desc"}
_SVG_ATTRS = {"width", "height", "viewBox", "transform", "d", "stroke", "stroke-width", "stroke-dasharray",
              "stroke-linecap", "stroke-linejoin", "fill", "fill-opacity", "stroke-opacity", "opacity",
              "x", "y", "x1", "y1", "x2", "y2", "points", "cx", "cy", "r", "rx", "ry", "version",
              "preserveAspectRatio"}
_SVG_VALUE = re.compile(r"^[-+0-9a-zA-Z.,()#%\s]*$")


def sanitise_svg(data: bytes, label: str = "") -> bytes:
    """Rebuild an SVG from a whitelist of drawing elements and attributes; refuse anything else."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True, remove_pis=True)
    try:
        tree = etree.parse(io.BytesIO(data), parser)
    except etree.XMLSyntaxError as exc:
        raise RenderError(INVALID_GEOMETRY, f"the SVG export is not well-formed XML: {exc}") from None
    if tree.docinfo.doctype:
        raise RenderError(INVALID_GEOMETRY, "the SVG export has a DOCTYPE")

    def rebuild(src, parent=None):
        if not isinstance(src.tag, str):
            return
        namespace, _, tag = src.tag.rpartition("}")
        if namespace.lstrip("{") != SVG_NS or tag not in _SVG_TAGS:
            raise RenderError(INVALID_GEOMETRY, f"the SVG export holds a disallowed element <{tag}>")
        node = etree.Element(f"{{{SVG_NS}}}{tag}", nsmap={None: SVG_NS}) if parent is None else \
            etree.SubElement(parent, f"{{{SVG_NS}}}{tag}")
        for key, value in src.attrib.items():
            if key not in _SVG_ATTRS or not _SVG_VALUE.match(value) or "url" in value.lower():
                raise RenderError(INVALID_GEOMETRY, f"the SVG export holds a disallowed attribute {key}={value[:40]!r}")
            node.set(key, value)
        if tag in ("title", "desc"):
            node.text = (src.text or "")[:200]
        for child in src:
            rebuild(child, node)
        return node

    root = rebuild(tree.getroot())
    if root.get("viewBox") is None and root.get("width") and root.get("height"):
        root.set("viewBox", f"0 0 {root.get('width')} {root.get('height')}")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


register(Format("stl", "model/stl", "mesh", export_stl, "binary STL, for slicers"))
register(Format("3mf", "model/3mf", "mesh", export_3mf, "3D Manufacturing Format, one object per part"))
register(Format("glb", "model/gltf-binary", "mesh", export_glb, "binary glTF (metres, Y up), for the web viewer"))
register(Format("step", "model/step", "shape", check_step, "exact B-rep (ISO 10303-21), for CAD"))
register(Format("svg", "image/svg+xml", "shape", sanitise_svg, "hidden-line projection, for thumbnails"))
