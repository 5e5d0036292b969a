"""Bundles of the seed commons: okh.toml, LICENSE texts, and (slow) real renders of every design."""

from __future__ import annotations

import io
import tomllib
import zipfile

import pytest

from opendesign.bundles import build_bundle, okh, texts, verify
from opendesign.catalogue.importer import import_designs
from opendesign.licenses.spdx import license_keys
from opendesign.manifests import load_design_folder
from renderers.provenance import read_provenance
from tests.conftest import SEED_DESIGNS
from tests.test_bundles_support import InProcessRenderer, StubRenderer, sample_exports

SEEDS = sorted(p for p in SEED_DESIGNS.iterdir() if (p / "design.toml").is_file())
SEED_LICENSES = sorted({key for folder in SEEDS for key in license_keys(load_design_folder(folder).manifest.license)})


@pytest.fixture
def seeded(db):
    report = import_designs(db, [SEED_DESIGNS])
    assert report.ok, report.as_dict()["errors"]
    return db


@pytest.fixture(scope="module")
def samples():
    return sample_exports()


def _files(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename.split("/", 1)[1]: zf.read(i) for i in zf.infolist()}


@pytest.mark.parametrize("spdx", [k for k in SEED_LICENSES if not k.startswith("LicenseRef-")])
def test_license_has_full_text_for_each_seed_spdx_license(spdx):
    entry = texts.license_text(spdx)
    assert entry.text is not None and len(entry.text) > 1000, spdx
    text = texts.license_file(spdx, "x@1.0.0")
    assert entry.text in text


def test_seed_licenses_without_packaged_text_name_their_url():
    for key in SEED_LICENSES:
        if key.startswith("LicenseRef-"):
            text = texts.license_file(key, "x@1.0.0")
            assert texts.license_text(key).url in text and "https://" in text


def test_okh_of_every_seed_design(seeded, settings, tmp_path, samples):
    renderer = StubRenderer(seeded, samples)
    derived = 0
    for folder in SEEDS:
        manifest = load_design_folder(folder).manifest
        result = build_bundle(seeded, settings, folder.name, out_dir=tmp_path, renderer=renderer)
        assert verify(result.path).ok, folder.name
        files = _files(result.path)
        data = tomllib.loads(files["okh.toml"].decode())
        assert okh.missing_fields(data) == [], folder.name
        assert data["license"] == manifest.license and data["version"] == manifest.version
        assert [p["name"] for p in data["part"]] == [p.name for p in manifest.parts]
        if manifest.derived_from:
            derived += 1
            assert data["fork-of"], folder.name
        else:
            assert "fork-of" not in data
        license_text = files["LICENSE"].decode()
        for key in license_keys(manifest.license):
            entry = texts.license_text(key)
            assert (entry.text or entry.url) in license_text, (folder.name, key)
    assert derived >= 1


@pytest.mark.slow
def test_every_seed_design_bundles_with_real_renders(seeded, settings, tmp_path):
    renderer = InProcessRenderer(seeded)
    trimesh = pytest.importorskip("trimesh")
    from opendesign.catalogue.queries import get_version

    for folder in SEEDS:
        with seeded.session() as session:
            kind = (get_version(session, folder.name).manifest or {}).get("kind", "cadquery")
        if kind != "cadquery":
            # InProcessRenderer runs build(params) only; the other kinds' seeds are bundled with
            # real renders by `make bundles` (tests/test_bundles_make.py) and by the CLI.
            continue
        result = build_bundle(seeded, settings, folder.name, out_dir=tmp_path, renderer=renderer)
        assert verify(result.path).ok
        files = _files(result.path)
        data = tomllib.loads(files["okh.toml"].decode())
        for part in data["part"]:
            assert part["outer-dimensions"]["width"] > 0, (folder.name, part["name"])
            for path in part["export"]:
                assert read_provenance(files[path])["slug"] == folder.name
                kind = path.rsplit(".", 1)[1]
                if kind in ("stl", "3mf"):
                    mesh = trimesh.load(io.BytesIO(files[path]), file_type=kind, force="mesh")
                    assert len(mesh.faces) > 0
