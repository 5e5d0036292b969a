"""Designs taken in from OKH in bundles (their okh.toml carries the original's fields back) and in the
render sandbox (slow: a real STEP part rendered to every format)."""

from __future__ import annotations

import io
import shutil
import tomllib
import zipfile
from pathlib import Path

import pytest

from opendesign.bundles import build_bundle
from opendesign.okh.importer import import_manifests
from tests.test_bundles_support import StubRenderer, sample_exports

from .okh_fixtures import write_losh_messy, write_manifest

STEP_SEED = Path(__file__).resolve().parent.parent / "designs" / "pallet-compost-bin-corner" / "parts" / \
    "corner-bracket.step"


def test_bundle_of_an_okh_design_carries_its_fields_back(db, settings, tmp_path):
    write_losh_messy(tmp_path / "src")
    assert import_manifests(db, [tmp_path / "src"]).ok
    result = build_bundle(db, settings, "solar-cooker-reflector-hinge", out_dir=tmp_path / "dist",
                          renderer=StubRenderer(db, sample_exports()))
    with zipfile.ZipFile(result.path) as zf:
        names = {i.filename.split("/", 1)[1] for i in zf.infolist()}
        manifest = tomllib.loads(zf.read(f"{result.name}/okh.toml").decode())
    assert {"okh.toml", "README.md", "docs/cooker.png", "parts/hinge-leaf.step", "BOM.csv"} <= names
    assert manifest["paint-colour"] == "black"
    assert manifest["cpc-patent-class"] == "F24S"
    assert manifest["technology-readiness-level"] == "OTRL-5"
    assert manifest["outer-dimensions"] == {"width": 275.0, "depth": 125.0, "height": 105.0}
    assert manifest["source"] == ["parts/hinge-leaf.step", "design.toml"]
    assert manifest["opendesign"]["source-okhv"] == "2.4"
    # The part's measures come from the render; the manifest's own fields of the part are kept beside them.
    assert manifest["part"][0]["outer-dimensions"] == {"width": 20.0, "depth": 10.0, "height": 5.0}


def test_an_unpacked_bundle_gives_back_its_parametric_design(db, settings, tmp_path):
    from sqlalchemy import delete

    from opendesign.catalogue import origins, queries
    from opendesign.catalogue.importer import import_designs
    from opendesign.models import Base

    slugs = ("seed-tray-dibber", "rocket-stove-combustion-chamber")  # a CQGI script; a build(params) with bom.csv
    assert import_designs(db, [settings.designs_dir / slug for slug in slugs]).ok
    renderer = StubRenderer(db, sample_exports())
    before = {}
    for slug in slugs:
        with db.session() as s:
            before[slug] = queries.version_detail(queries.get_version(s, slug))
        result = build_bundle(db, settings, slug, out_dir=tmp_path / "dist", renderer=renderer)
        with zipfile.ZipFile(result.path) as zf:
            zf.extractall(tmp_path / "unpacked")
    with db.session() as s:
        for table in reversed(Base.metadata.sorted_tables):
            s.execute(delete(table))

    report = import_manifests(db, [tmp_path / "unpacked"])
    assert report.ok, [r.errors for r in report.results]
    assert all(not r.missing for r in report.results), [r.missing for r in report.results]
    for slug in slugs:
        with db.session() as s:
            version = queries.get_version(s, slug)
            after = queries.version_detail(version)
            assert version.origin == origins.OKH
            files = {f.path for f in version.files}
        for key in ("kind", "parameters", "presets", "parts", "bom", "license", "derived_from", "authors", "tags"):
            assert after[key] == before[slug][key], (slug, key)
        old = {f["path"]: f["sha256"] for f in before[slug]["files"]}
        assert {f["path"]: f["sha256"] for f in after["files"] if f["path"] in old} == old, slug
        # The bundle's renders, license text and provenance are not the design's files.
        assert files == set(old) | {"okh.toml"}, slug


@pytest.mark.slow
def test_okh_step_part_renders_in_the_sandbox(db, settings, tmp_path):
    from renderers import service

    text = ('okhv = "OKH-LOSHv1.0"\nname = "Pallet Corner From OKH"\nrepo = "https://example.org/corner"\n'
            'version = "1.0.0"\nlicense = "CERN-OHL-S-2.0"\nlicensor = "Corner Folk"\n'
            'function = "A corner bracket for a pallet compost bin."\n\n[[part]]\nname = "bracket"\n'
            'source = "cad/bracket.step"\nmaterial = "PETG"\nmanufacturing-process = "FDM"\n')
    manifest = write_manifest(tmp_path / "corner", text, files={})
    (tmp_path / "corner" / "cad").mkdir()
    shutil.copy(STEP_SEED, tmp_path / "corner" / "cad" / "bracket.step")
    assert import_manifests(db, [manifest]).ok
    infos = service.render(db, settings, "pallet-corner-from-okh", {}, ["stl", "3mf", "glb", "svg", "step"])
    by = {(i.format, i.part): i for i in infos}
    assert by[("stl", None)].triangles > 0 and by[("stl", None)].volume > 0
    assert by[("step", None)].path.read_bytes().startswith(b"ISO-10303-21")
    import trimesh

    mesh = trimesh.load(io.BytesIO(by[("stl", None)].path.read_bytes()), file_type="stl")
    assert len(mesh.faces) == by[("stl", None)].triangles
