"""Turning a job's raw files into the artifacts users download — run in the conversion helper.

A render job leaves one binary STL per part (or ``model.stl``) and the STEP/SVG
files it was asked for. :func:`convert` parses and checks the STLs
(:func:`renderers.meshes.parse_stl`), measures them, writes every requested
format (:mod:`renderers.formats`) and embeds provenance. Each of those steps
costs memory and time in proportion to the triangles, and the bytes come
from model code, so this runs only in :mod:`renderers.convert_helper`, a
process with memory, CPU and wall-clock limits (see :mod:`renderers.converter`).
Calling it in-process is the old path, kept for the benchmark's baseline.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from . import meshes
from .errors import SANDBOX_FAILURE, RenderError
from .formats import FORMATS
from .provenance import Provenance
from .provenance import embed as embed_provenance
from .sandbox.names import part_stem


@dataclass(frozen=True)
class Request:
    """What to make of one job's files; crosses to the helper as JSON."""

    slug: str
    ref: str
    formats: tuple[str, ...]
    parts: tuple[str, ...]
    max_triangles: int
    #: Provenance per artifact: key ``""`` for the whole model, else the part name.
    provenance: Mapping[str, dict]

    def as_dict(self) -> dict:
        return {"slug": self.slug, "ref": self.ref, "formats": list(self.formats), "parts": list(self.parts),
                "max_triangles": self.max_triangles, "provenance": dict(self.provenance)}

    @classmethod
    def from_dict(cls, data: dict) -> Request:
        formats = tuple(str(f) for f in data["formats"])
        unknown = [f for f in formats if f not in FORMATS]
        if unknown:
            raise ValueError(f"unknown formats {unknown}")
        return cls(slug=str(data["slug"]), ref=str(data["ref"]), formats=formats,
                   parts=tuple(str(p) for p in data["parts"]), max_triangles=int(data["max_triangles"]),
                   provenance={str(k): dict(v) for k, v in dict(data["provenance"]).items()})

    def inputs(self) -> list[str]:
        """The job files this request reads, in the order they are sent."""
        names = [f"{part_stem(p)}.stl" for p in self.parts] or [f"{part_stem(None)}.stl"]
        for fmt in self.formats:
            if FORMATS[fmt].kind == "shape":
                names.extend(f"{part_stem(p)}.{fmt}" for p in (None, *self.parts))
        return names


def convert(request: Request, files: dict[str, bytes | bytearray]) -> Iterator[tuple[dict, bytes]]:
    """Yield ``({"format", "part", "stats"}, data)`` per artifact: each format's whole model, then its parts.

    *files* is emptied of each STL once it is parsed, so its bytes can be freed
    before the exports run.

    :raises RenderError: ``invalid-geometry`` for a mesh that fails its checks,
        ``sandbox-failure`` for a missing or malformed file.
    """
    budget = request.max_triangles
    part_meshes: dict[str, meshes.Mesh] = {}
    for part in request.parts or (None,):
        name = f"{part_stem(part)}.stl"
        data = files.pop(name, None)
        if data is None:
            raise RenderError(SANDBOX_FAILURE, f"the render returned no {name}")
        mesh = meshes.parse_stl(data, max_triangles=budget, name=part or request.slug)
        del data
        budget -= len(mesh)
        part_meshes[part or request.slug] = mesh
    if request.parts:
        whole_scene = list(part_meshes.items())
        whole_stats = meshes.combined_stats(list(part_meshes.values()))
    else:
        whole_scene = [(request.slug, part_meshes[request.slug])]
        whole_stats = part_meshes[request.slug].stats
    for fmt in request.formats:
        spec = FORMATS[fmt]
        for part in (None, *request.parts):
            label = f"{request.ref}{' ' + part if part else ''}"
            if spec.kind == "mesh":
                scene = whole_scene if part is None else [(part, part_meshes[part])]
                data = spec.export(scene, label)
            else:
                name = f"{part_stem(part)}.{fmt}"
                if name not in files:
                    raise RenderError(SANDBOX_FAILURE, f"the render returned no {name}")
                data = spec.export(bytes(files[name]), label)
            prov = Provenance.from_dict(request.provenance[part or ""])
            data = embed_provenance(data, fmt, prov)
            stats = whole_stats if part is None else part_meshes[part].stats
            yield {"format": fmt, "part": part, "stats": stats.as_dict()}, data
