"""The seed commons in designs/: enough real, valid, varied designs, and all of them import."""

from __future__ import annotations

import pytest

from opendesign.catalogue.importer import discover, import_designs
from opendesign.manifests import load_design_folder

from .conftest import SEED_DESIGNS

REQUIRED_LICENSES = {"CERN-OHL-S-2.0", "CERN-OHL-W-2.0", "CERN-OHL-P-2.0", "CC-BY-SA-4.0", "CC-BY-4.0", "CC0-1.0",
                     "LicenseRef-PPL"}


@pytest.fixture(scope="module")
def seed():
    return [load_design_folder(path) for path in discover([SEED_DESIGNS])]


def test_at_least_15_designs_in_6_categories(seed):
    assert len(seed) >= 15
    assert len({f.manifest.category for f in seed}) >= 6


def test_licenses_cover_the_required_set(seed):
    assert REQUIRED_LICENSES <= {f.manifest.license for f in seed}


def test_derivatives(seed):
    derived = [f for f in seed if f.manifest.derived_from]
    assert len(derived) >= 4
    assert any(len(f.manifest.derived_from) >= 2 for f in derived)
    refs = {f"{f.slug}@{f.version}" for f in seed}
    for f in derived:
        assert set(f.manifest.derived_from) <= refs, f.slug


def test_each_design_is_parametric_and_documented(seed):
    for f in seed:
        assert len(f.readme) > 300, f.slug
        if f.manifest.kind == "static":
            # Designs that arrive as files: no code, no parameters, every part a file.
            assert not f.manifest.parameters and all(p.file for p in f.manifest.parts), f.slug
            continue
        assert len(f.manifest.parameters) >= 3, f.slug
        marker = "show_object(" if f.manifest.kind == "cqgi" else "build("
        assert marker in f.model_source, f.slug


def test_the_seed_holds_every_model_kind(seed):
    kinds = [f.manifest.kind for f in seed]
    assert kinds.count("cqgi") >= 2 and kinds.count("build123d") >= 1
    static = [p.file.rsplit(".", 1)[1].lower() for f in seed if f.manifest.kind == "static" for p in f.manifest.parts]
    assert "step" in static and "stl" in static


def test_the_seed_imports_cleanly(db):
    report = import_designs(db, [SEED_DESIGNS])
    assert [r.errors for r in report.results if r.errors] == []
    assert report.count("created") == len(discover([SEED_DESIGNS]))
    again = import_designs(db, [SEED_DESIGNS])
    assert again.count("unchanged") == len(again.results)


def test_several_designs_offer_presets(seed):
    with_presets = [f for f in seed if len(f.manifest.presets) >= 2]
    assert len(with_presets) >= 4
    for f in with_presets:
        assert all(p.description for p in f.manifest.presets), f.slug
