"""Every seed design renders with its defaults, and its files load back.

Two designs (a one-part and a multi-part one) run in the fast suite; the rest
are marked slow (``make test-slow`` / CI).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import trimesh
from lxml import etree

from opendesign.catalogue.importer import discover, import_designs
from opendesign.config import load_settings
from renderers import service
from renderers.pool import WarmPool

SEED_DESIGNS = Path(__file__).resolve().parent.parent / "designs"
FAST = {"hand-mill-spur-gear", "rocket-stove-combustion-chamber"}
#: One seed of each newer kind (cqgi, build123d, static STEP, static STL): small, and run in the fast suite.
FAST_KINDS = {"rain-barrel-overflow-adapter", "drip-line-stake", "pallet-compost-bin-corner", "bucket-filter-bulkhead"}
SEEDS = sorted(p.name for p in discover([SEED_DESIGNS]) if (p / "design.toml").exists())


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    settings = load_settings(environ={}, home=str(tmp_path_factory.mktemp("seed-pool")), render_timeout=180,
                             render_cpu_seconds=180)
    pool = WarmPool(settings)
    yield pool
    pool.close()


@pytest.fixture
def seeds(db):
    report = import_designs(db, [SEED_DESIGNS])
    return {r.slug for r in report.results if r.status != "invalid"}, report


def load_step_volume(path) -> tuple[int, float]:
    import cadquery as cq

    shape = cq.importers.importStep(str(path)).val()
    return len(shape.Solids()), shape.Volume()


@pytest.mark.parametrize("slug", [pytest.param(s, marks=() if s in FAST | FAST_KINDS else pytest.mark.slow) for s in SEEDS])
def test_seed_design_renders_with_defaults(slug, seeds, db, settings, pool):
    imported, report = seeds
    assert slug in imported, f"{slug} did not import: {report.as_dict()['errors']}"
    snap = service.snapshot(db, slug)
    formats = ["stl", "3mf", "glb", "svg"] + ([] if snap.mesh_parts else ["step"])
    infos = service.render(db, settings, slug, {}, formats, pool=pool)
    by = {(i.format, i.part): i for i in infos}
    parts = [i.part for i in infos if i.format == "stl" and i.part]
    whole = by[("stl", None)]
    assert whole.triangles > 0 and whole.volume > 0
    assert whole.watertight, f"{slug}: the STL is not watertight"
    for part in parts:
        assert by[("stl", part)].watertight, f"{slug}: part {part} is not watertight"
    stl = trimesh.load(io.BytesIO(whole.path.read_bytes()), file_type="stl")
    assert len(stl.faces) == whole.triangles

    three = trimesh.load(io.BytesIO(by[("3mf", None)].path.read_bytes()), file_type="3mf")
    assert sum(len(g.faces) for g in three.geometry.values()) == whole.triangles
    assert sum(abs(g.volume) for g in three.geometry.values()) == pytest.approx(whole.volume, rel=1e-3)

    glb = trimesh.load(io.BytesIO(by[("glb", None)].path.read_bytes()), file_type="glb")
    assert sum(len(g.faces) for g in glb.geometry.values()) == whole.triangles

    if "step" in formats:
        solids, volume = load_step_volume(by[("step", None)].path)
        assert solids >= max(1, len(parts))
        # the exact B-rep volume and the tessellated one agree within the tessellation error
        assert volume == pytest.approx(whole.volume, rel=0.03)
    else:
        with pytest.raises(service.RenderError, match="has no STEP"):
            service.render(db, settings, slug, {}, ["step"], pool=pool)

    svg = etree.fromstring(by[("svg", None)].path.read_bytes())
    assert svg.tag.endswith("svg") and len(svg.findall(".//{http://www.w3.org/2000/svg}path")) > 0


def test_there_are_seed_designs():
    assert FAST <= set(SEEDS)


def _seed_presets() -> list[tuple[str, str]]:
    from opendesign.manifests import load_design_folder

    return [(slug, p.name) for slug in SEEDS for p in load_design_folder(SEED_DESIGNS / slug).manifest.presets]


@pytest.mark.slow
@pytest.mark.parametrize(("slug", "preset"), _seed_presets())
def test_seed_preset_renders_watertight(slug, preset, seeds, db, settings, pool):
    from opendesign.catalogue.queries import get_version, version_detail

    with db.session() as s:
        (values,) = [p["values"] for p in version_detail(get_version(s, slug))["presets"] if p["name"] == preset]
    (stl,) = [i for i in service.render(db, settings, slug, values, ["stl"], quality="draft", pool=pool)
              if i.part is None]
    assert stl.triangles > 0 and stl.watertight, f"{slug}: preset {preset!r} is not a watertight model"
