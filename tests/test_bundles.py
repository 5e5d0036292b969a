"""Design bundles: contents, reproducibility, custom parameters, verification, CLI.

Rendering goes through :class:`tests.test_bundles_support.InProcessRenderer`
(CadQuery in a helper process) so these stay about the bundle; the make and
render-service round trips are in ``test_bundles_make.py``.
"""

from __future__ import annotations

import json
import tomllib
import zipfile
from pathlib import Path

import pytest

from opendesign.bundles import BundleError, build_bundle, bundle_name, verify
from opendesign.bundles import archive, okh, texts
from opendesign.catalogue.importer import import_designs
from renderers.provenance import read_provenance
from tests.test_bundles_support import InProcessRenderer

TWO_PARTS = '''import cadquery as cq


def build(params):
    body = cq.Workplane("XY").box(params["width"], 10, 5)
    lid = cq.Workplane("XY").box(params["width"], 10, 1).translate((0, 0, 10))
    return {"body": body, "lid": lid}
'''


def _read(zip_path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(zip_path) as zf:
        return {i.filename.split("/", 1)[1]: zf.read(i) for i in zf.infolist()}


@pytest.fixture
def catalogue(db, make_design):
    """A parent, a two-part derivative and a design under LicenseRef-PPL, imported."""
    make_design("test-widget")
    make_design("widget-pair", derived_from=["test-widget@1.0.0"], model=TWO_PARTS,
                title="Widget pair", authors=[{"name": "Second Collective"}],
                parts=[{"name": "body", "material": "PLA", "process": "fdm", "quantity": 1},
                       {"name": "lid", "material": "birch plywood", "process": "laser", "quantity": 2}])
    make_design("coop-widget", license="LicenseRef-PPL")
    report = import_designs(db, [make_design.root])
    assert report.ok, report.as_dict()
    return make_design.root


@pytest.fixture
def renderer(db):
    return InProcessRenderer(db)


@pytest.fixture
def build(db, settings, renderer, tmp_path):
    def run(ref, out="dist", **kwargs):
        return build_bundle(db, settings, ref, out_dir=tmp_path / out, renderer=renderer, **kwargs)
    return run


def test_contents(catalogue, build):
    result = build("widget-pair")
    assert result.path.name == "widget-pair-1.0.0.zip"
    files = _read(result.path)
    expected = {"README.md", "design.toml", "model.py", "BOM.csv", "LICENSE", "ATTRIBUTION", "okh.toml",
                "PARAMETERS.toml", "MANIFEST.sha256", "export/widget-pair.glb", "export/widget-pair.svg"}
    expected |= {f"export/{part}.{fmt}" for part in ("body", "lid") for fmt in ("stl", "3mf", "step")}
    assert set(files) == expected
    with zipfile.ZipFile(result.path) as zf:
        assert {i.filename.split("/")[0] for i in zf.infolist()} == {"widget-pair-1.0.0"}
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) and i.external_attr >> 16 == 0o100644
                   for i in zf.infolist())
        assert [i.filename for i in zf.infolist()] == sorted(i.filename for i in zf.infolist())
    assert files["BOM.csv"].decode().splitlines() == ["item,quantity,unit,note", "M3 screw,2,pcs,"]
    attribution = files["ATTRIBUTION"].decode()
    assert "widget-pair@1.0.0" in attribution and "Derived from:" in attribution and "Test Collective" in attribution
    for part in ("body", "lid"):
        for fmt in ("stl", "3mf", "step"):
            info = read_provenance(files[f"export/{part}.{fmt}"])
            assert (info["slug"], info["version"], info["license"]) == ("widget-pair", "1.0.0", "CERN-OHL-S-2.0")
    assert read_provenance(files["export/widget-pair.glb"])["slug"] == "widget-pair"
    assert read_provenance(files["export/widget-pair.svg"])["slug"] == "widget-pair"


def test_okh_manifest(catalogue, build):
    data = tomllib.loads(_read(build("widget-pair").path)["okh.toml"].decode())
    assert okh.missing_fields(data) == []
    assert data["okhv"] == "OKH-LOSHv1.0"
    assert data["repo"] == "http://127.0.0.1:5000/designs/widget-pair"
    assert data["licensor"] == "Second Collective"
    assert data["fork-of"] == "http://127.0.0.1:5000/designs/test-widget/1.0.0"
    body, lid = data["part"]
    assert body["name"] == "body" and body["material"] == "PLA" and body["tsdc"] == "3DP"
    assert body["outer-dimensions"] == {"width": 20.0, "depth": 10.0, "height": 5.0}
    assert body["mass"] == pytest.approx(20 * 10 * 5 / 1000 * 1.24, abs=0.1)
    assert lid["tsdc"] == "LAS" and lid["mass"] == pytest.approx(20 * 10 * 1 / 1000 * 0.60, abs=0.1)
    files = _read(build("widget-pair").path)
    for path in [*data["export"], data["bom"], data["manufacturing-instructions"], *data["source"]]:
        assert path in files, path
    assert "fork-of" not in tomllib.loads(_read(build("test-widget").path)["okh.toml"].decode())


def test_two_builds_are_byte_identical(catalogue, db, settings, tmp_path):
    first = build_bundle(db, settings, "widget-pair", out_dir=tmp_path / "a", renderer=InProcessRenderer(db))
    second = build_bundle(db, settings, "widget-pair", out_dir=tmp_path / "b", renderer=InProcessRenderer(db))
    assert first.path.read_bytes() == second.path.read_bytes()


def test_rebuild_with_same_bytes_does_not_rewrite(catalogue, build):
    first = build("test-widget")
    inode = first.path.stat().st_ino
    again = build("test-widget")
    assert first.written and not again.written
    assert again.path.stat().st_ino == inode


def test_custom_parameters(catalogue, build):
    default = build("test-widget")
    custom = build("test-widget", parameters={"width": "35", "finish": "gloss"})
    assert custom.custom and not default.custom
    assert custom.path.name.startswith("test-widget-1.0.0-p") and custom.path != default.path
    files = _read(custom.path)
    assert files["export/body.stl"] != _read(default.path)["export/body.stl"]
    params = tomllib.loads(files["PARAMETERS.toml"].decode())
    assert params["custom"] is True and params["changed"] == {"width": 35.0, "finish": "gloss"}
    assert params["parameters"]["holes"] == 2
    meta = tomllib.loads(files["okh.toml"].decode())["opendesign"]
    assert meta["custom-parameters"] is True and meta["parameters"]["width"] == 35.0
    assert custom.path.stem.endswith(meta["parameters-hash"])
    assert read_provenance(files["export/body.3mf"])["parameters"]["width"] == 35.0
    assert verify(custom.path).ok
    # the same values spelled differently are the same bundle; defaults spelled out are the default bundle
    assert build("test-widget", parameters={"width": 35.0, "finish": "gloss"}).path == custom.path
    assert build("test-widget", parameters={"width": "20"}).path == default.path
    assert bundle_name("a", "1.0.0", quality="fine") == "a-1.0.0-fine"


def test_license_file(catalogue, build):
    text = _read(build("test-widget").path)["LICENSE"].decode()
    assert text.startswith("test-widget@1.0.0 is licensed under: CERN-OHL-S-2.0")
    assert "CERN Open Hardware Licence Version 2 - Strongly Reciprocal" in text
    assert "Text from licensedcode-data" in text and len(text) > 10_000
    ppl = _read(build("coop-widget").path)["LICENSE"].decode()
    assert "Peer Production License" in ppl and "https://" in ppl and "No packaged license database" in ppl


@pytest.mark.parametrize("spdx, phrase", [
    ("CERN-OHL-S-2.0", "Strongly Reciprocal"), ("CERN-OHL-W-2.0", "Weakly Reciprocal"),
    ("CERN-OHL-P-2.0", "Permissive"), ("CC-BY-SA-4.0", "ShareAlike"), ("CC-BY-4.0", "Attribution 4.0"),
    ("CC0-1.0", "CC0"), ("TAPR-OHL-1.0", "TAPR"), ("GPL-3.0-or-later", "GNU GENERAL PUBLIC LICENSE"),
])
def test_license_texts_come_from_licensedcode(spdx, phrase):
    entry = texts.license_text(spdx)
    assert entry.text and phrase.lower() in entry.text.lower() and len(entry.text) > 1000
    assert entry.source.startswith("licensedcode-data")


def test_or_expression_carries_every_text():
    text = texts.license_file("CERN-OHL-W-2.0 OR CC-BY-SA-4.0", "x@1.0.0")
    assert "Weakly Reciprocal" in text and "Attribution-ShareAlike 4.0 International" in text


def test_verify_catches_flipped_byte_missing_and_extra(catalogue, build, tmp_path):
    good = build("test-widget").path
    assert verify(good).ok
    files = _read(good)
    root = "test-widget-1.0.0"

    def rezip(name, entries, raw=False):
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as zf:
            for rel, data in entries.items():
                zf.writestr(f"{root}/{rel}", data)
        return path

    flipped = dict(files)
    stl = bytearray(flipped["export/body.stl"])
    stl[200] ^= 0x01
    flipped["export/body.stl"] = bytes(stl)
    report = verify(rezip("flipped.zip", flipped))
    assert not report.ok and [p[0] for p in report.problems] == ["export/body.stl"]

    missing = {k: v for k, v in files.items() if k != "export/body.step"}
    report = verify(rezip("missing.zip", missing))
    assert [p[0] for p in report.problems] == ["export/body.step"] and "missing" in report.problems[0][1]

    extra = {**files, "notes.txt": b"hello"}
    report = verify(rezip("extra.zip", extra))
    assert [p[0] for p in report.problems] == ["notes.txt"] and "extra" in report.problems[0][1]

    no_license = {k: v for k, v in files.items() if k != "LICENSE"}
    no_license["MANIFEST.sha256"] = archive.manifest_text(
        {k: v for k, v in no_license.items() if k != "MANIFEST.sha256"}).encode()
    report = verify(rezip("nolicense.zip", no_license))
    assert [p[0] for p in report.problems] == ["LICENSE"]

    # a byte flipped in the compressed stream itself: the zip's own CRC check fires
    raw = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo(f"{root}/export/body.stl")
    raw[info.header_offset + 30 + len(info.filename) + 10] ^= 0xFF
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(bytes(raw))
    report = verify(corrupt)
    assert [p[0] for p in report.problems] == ["export/body.stl"]

    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    assert not verify(tmp_path / "junk.zip").ok


def test_check_folder_refuses_a_changed_design(catalogue, build):
    (catalogue / "test-widget" / "README.md").write_text("# Changed after import\n")
    with pytest.raises(BundleError, match="bump the version"):
        build("test-widget", check_folder_path=catalogue / "test-widget")
    build("widget-pair", check_folder_path=catalogue / "widget-pair")


def test_unknown_design_and_bad_parameters(catalogue, build):
    from opendesign.errors import NotFound
    from opendesign.parameters import ParameterError

    with pytest.raises(NotFound):
        build("no-such-design")
    with pytest.raises(ParameterError, match="width"):
        build("test-widget", parameters={"width": "1e308"})


# --- CLI ------------------------------------------------------------------------------

@pytest.fixture
def cli(runner, db, monkeypatch):
    """The CLI with the render service replaced by the test renderer."""
    from opendesign.cli import main
    from renderers import bundle_renderer

    monkeypatch.setattr(bundle_renderer, "ServiceRenderer", lambda db_, settings: InProcessRenderer(db_))
    return lambda *args: runner.invoke(main, list(args))


def test_cli_bundle_build_and_verify(catalogue, cli, tmp_path):
    out = tmp_path / "out"
    result = cli("bundle", "test-widget@1.0.0", "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["path"] == str(out / "test-widget-1.0.0.zip") and info["written"]
    result = cli("bundle", "build", "test-widget", "-p", "width=30", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "built" in result.output and "width=30.0" in result.output
    zips = sorted(out.glob("*.zip"))
    assert len(zips) == 2
    result = cli("bundle", "verify", *map(str, zips))
    assert result.exit_code == 0 and result.output.count("ok ") == 2

    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(zips[0]) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            if not item.filename.endswith("/ATTRIBUTION"):
                dst.writestr(item, src.read(item))
    result = cli("bundle", "verify", str(bad))
    assert result.exit_code == 1 and "ATTRIBUTION" in result.output


def test_cli_errors(catalogue, cli, tmp_path):
    assert cli("bundle", "test-widget", "-p", "width", "-o", str(tmp_path)).exit_code == 2
    result = cli("bundle", "test-widget", "-p", "width=abc", "-o", str(tmp_path))
    assert result.exit_code == 1 and "width" in result.output
    result = cli("bundle", "nope", "-o", str(tmp_path))
    assert result.exit_code == 1 and "nope" in result.output
    assert cli("bundle", "--help").exit_code == 0
    assert "verify" in cli("bundle", "--help").output
