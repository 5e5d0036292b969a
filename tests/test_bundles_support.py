"""Helpers for the bundle and provenance tests (no tests here).

CadQuery runs in one spawned helper process, never in the pytest process: a
process that has built or tessellated with OCC must not fork afterwards (the
render pool's zygote forks), and ``model.py`` is only ever run outside the
catalogue's process. Production bundles go through the sandboxed render
service; :class:`InProcessRenderer` stands in for it where a test is about
the bundle, not the renderer.
"""

from __future__ import annotations

import functools
import multiprocessing
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from opendesign.bundles.artifacts import Rendered

TOLERANCE = {"draft": (0.5, 0.5), "normal": (0.1, 0.2), "fine": (0.02, 0.1)}

SAMPLE_MODEL = '''import cadquery as cq


def build(params):
    return cq.Workplane("XY").box(params.get("width", 20.0), 10, 5).faces(">Z").workplane().hole(3)
'''


@functools.lru_cache(maxsize=1)
def _pool() -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))


# --- run in the helper process ------------------------------------------------------

def _shapes(result) -> dict[str | None, Any]:
    import cadquery as cq

    if isinstance(result, dict):
        return {name: (v.val() if isinstance(v, cq.Workplane) else v) for name, v in result.items()}
    if isinstance(result, cq.Assembly):
        return {None: result.toCompound()}
    if isinstance(result, cq.Workplane):
        vals = result.vals()
        return {None: vals[0] if len(vals) == 1 else cq.Compound.makeCompound(vals)}
    return {None: result}


def _mesh(shape, quality: str):
    import numpy as np
    import trimesh

    vertices, triangles = shape.tessellate(*TOLERANCE[quality])
    return trimesh.Trimesh(np.array([(v.x, v.y, v.z) for v in vertices]), np.array(triangles))


def _step(shape) -> bytes:
    from cadquery import exporters

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "part.step"
        exporters.export(shape, str(path), exportType="STEP")
        return path.read_bytes()


def _render(model_source: str, params: dict, quality: str) -> list[Rendered]:
    import cadquery as cq
    import trimesh
    from cadquery import exporters

    namespace: dict[str, Any] = {}
    exec(compile(model_source, "model.py", "exec"), namespace)  # tests only; see module docstring
    shapes = _shapes(namespace["build"](dict(params)))
    out: list[Rendered] = []
    meshes = {}
    for part, shape in shapes.items():
        mesh = _mesh(shape, quality)
        meshes[part] = mesh
        size = tuple(float(x) for x in mesh.extents)
        volume = float(mesh.volume) if mesh.is_watertight else None
        out += [Rendered("stl", part, mesh.export(file_type="stl"), size, volume),
                Rendered("3mf", part, mesh.export(file_type="3mf"), size, volume),
                Rendered("step", part, _step(shape), size, volume)]
    combined = shapes[None] if None in shapes else cq.Compound.makeCompound(list(shapes.values()))
    scene = trimesh.Scene({str(k or "model"): m for k, m in meshes.items()})
    out.append(Rendered("glb", None, scene.export(file_type="glb")))
    out.append(Rendered("svg", None, exporters.getSVG(combined).encode()))
    return out


def _samples(width: float) -> dict[str, bytes]:
    """The sample part in every format, from both trimesh and CadQuery's own exporters."""
    import cadquery as cq
    from cadquery import exporters

    files = {f"{r.format}": r.data for r in _render(SAMPLE_MODEL, {"width": width}, "normal")}
    shape = cq.Workplane("XY").box(width, 10, 5).faces(">Z").workplane().hole(3)
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("3mf", "stl"):
            path = Path(tmp) / f"part.{fmt}"
            exporters.export(shape, str(path))
            files[f"cq-{fmt}"] = path.read_bytes()
    files["step-again"] = _step(shape.val())
    return files


def _step_volume(data: bytes) -> float:
    import cadquery as cq

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.step"
        path.write_bytes(data)
        return cq.importers.importStep(str(path)).val().Volume()


# --- called from tests ----------------------------------------------------------------

def render_source(model_source: str, params: dict, quality: str = "normal") -> list[Rendered]:
    return _pool().submit(_render, model_source, dict(params), quality).result(timeout=300)


def sample_exports(width: float = 20.0) -> dict[str, bytes]:
    return _pool().submit(_samples, width).result(timeout=300)


def step_volume(data: bytes) -> float:
    """Volume of the solid in a STEP file, as CadQuery reads it back."""
    return _pool().submit(_step_volume, data).result(timeout=300)


class _EmbedsProvenance:
    """The render service's own provenance stamping (renderers.provenance), for the test renderers."""

    def embed_provenance(self, data: bytes, fmt: str, record) -> bytes:
        from renderers.bundle_renderer import provenance_of
        from renderers.provenance import embed

        return embed(data, fmt, provenance_of(record))


class InProcessRenderer(_EmbedsProvenance):
    """A :class:`~opendesign.bundles.artifacts.Renderer` over a catalogue, for tests.

    Counts its calls and caches by (model source, parameters, quality), as the
    render cache would.
    """

    def __init__(self, db):
        self.db = db
        self.calls = 0
        self._cache: dict[tuple, list[Rendered]] = {}

    def __call__(self, ref, parameters, formats, quality):
        from opendesign.catalogue.queries import get_version

        self.calls += 1
        with self.db.session() as session:
            source = get_version(session, ref).file("model.py").decode()
        key = (source, tuple(sorted(parameters.items())), quality)
        if key not in self._cache:
            self._cache[key] = render_source(source, dict(parameters), quality)
        return list(self._cache[key])


class StubRenderer(_EmbedsProvenance):
    """Returns the sample part's files for every part a design declares: for tests of
    everything in a bundle except the geometry (fast, no design code runs)."""

    def __init__(self, db, samples: dict[str, bytes]):
        self.db = db
        self.samples = samples

    def __call__(self, ref, parameters, formats, quality):
        from opendesign.catalogue.queries import get_version

        with self.db.session() as session:
            parts = [p.name for p in get_version(session, ref).parts]
        out = [Rendered(fmt, part, self.samples[fmt], (20.0, 10.0, 5.0), 964.66)
               for part in parts for fmt in ("stl", "3mf", "step")]
        return out + [Rendered("glb", None, self.samples["glb"]), Rendered("svg", None, self.samples["svg"])]
