"""``opendesign okh export`` and back: every seed design survives a trip through its OKH manifest."""

from __future__ import annotations

import csv
import io
import json

import tomlkit
from sqlalchemy import delete, func, select

from opendesign.catalogue import origins, queries
from opendesign.catalogue.importer import import_designs
from opendesign.cli import main
from opendesign.manifests import kinds
from opendesign.models import Base, Design, DesignFile, DesignVersion
from opendesign.okh.export import export_manifest
from opendesign.okh.importer import import_manifests

from .okh_fixtures import STL, write_losh_messy

#: What "the same design" means: every field of the version, its model code and its knobs.
SAME = ("slug", "title", "summary", "version", "license", "category", "authors", "tags", "bom", "derived_from",
        "links", "kind", "parameters", "presets", "parts")


def _catalogue(db) -> dict[str, dict]:
    with db.session() as s:
        return {d.slug: queries.version_detail(d.latest_version) for d in queries.list_designs(s)}


def _files(db, slug: str) -> dict[str, bytes]:
    with db.session() as s:
        return {f.path: f.data for f in queries.get_version(s, slug).files}


def _model_sha256(detail: dict) -> dict[str, str]:
    """sha256 of each file that makes the geometry (model.py, or a static design's part files)."""
    by_path = {f["path"]: f["sha256"] for f in detail["files"]}
    return {path: by_path.get(path, "absent") for path in kinds.model_files(detail)}


def _bom_csv(detail: dict, files: dict[str, bytes]) -> bytes:
    if "bom.csv" in files:
        return files["bom.csv"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["item", "quantity", "unit", "note"])
    for line in detail["bom"]:
        writer.writerow([line["item"], f"{line['quantity']:g}", line["unit"], line["note"]])
    return out.getvalue().encode()


def _unzipped_bundle(root, manifest: dict, detail: dict, files: dict[str, bytes]) -> None:
    """What an unpacked bundle holds: the design folder's files (design.toml, model.py, README...),
    BOM.csv, the manifest, and the part exports it names (STL stand-ins; the rest are not rendered)."""
    folder = root / detail["slug"]
    (folder / "export").mkdir(parents=True)
    for path, data in files.items():
        if path != "bom.csv":
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_bytes(data)
    (folder / "okh.toml").write_text(tomlkit.dumps(manifest))
    (folder / "BOM.csv").write_bytes(_bom_csv(detail, files))
    for part in manifest["part"]:
        for path in part["export"]:
            if path.endswith(".stl"):
                (folder / path).write_bytes(STL)


def _clear(db) -> None:
    with db.session() as s:
        for table in reversed(Base.metadata.sorted_tables):
            s.execute(delete(table))


def _exported_seed(db, settings, tmp_path, slugs: tuple[str, ...] = ()) -> dict[str, dict]:
    """Import the seed (or the designs *slugs*), write each design's exported manifest beside its files,
    empty the catalogue."""
    seed = import_designs(db, [settings.designs_dir / slug for slug in slugs] or [settings.designs_dir])
    assert seed.ok, seed.as_dict()["errors"]
    before = _catalogue(db)
    files = {slug: _files(db, slug) for slug in before}
    manifests = {slug: export_manifest(db, settings, slug) for slug in before}
    _clear(db)
    for slug, manifest in manifests.items():
        _unzipped_bundle(tmp_path / "bundles", manifest, before[slug], files[slug])
    return before


def test_every_seed_design_round_trips_through_its_manifest(db, settings, tmp_path):
    before = _exported_seed(db, settings, tmp_path)
    assert {d["kind"] for d in before.values()} >= {"cadquery", "cqgi", "build123d", "static"}
    report = import_manifests(db, [tmp_path / "bundles"])
    assert report.ok, [r.errors for r in report.results if r.errors]
    after = _catalogue(db)
    assert set(after) == set(before)
    for slug, old in before.items():
        new = after[slug]
        assert {k: new[k] for k in SAME} == {k: old[k] for k in SAME}, slug
        assert _model_sha256(new) == _model_sha256(old), slug
        # The design's own files come back byte for byte; the manifest is kept beside them.
        old_files = {f["path"]: f["sha256"] for f in old["files"]}
        new_files = {f["path"]: f["sha256"] for f in new["files"]}
        assert {p: new_files.get(p) for p in old_files} == old_files, slug
        assert "okh.toml" in new_files, slug
    with db.session() as s:
        assert {v.origin for d in queries.list_designs(s) for v in d.versions} == {origins.OKH}
    # And a second trip changes nothing.
    assert {r.status for r in import_manifests(db, [tmp_path / "bundles"]).results} == {"unchanged"}


def test_export_of_an_okh_design_carries_its_unmapped_fields_back(runner, db, tmp_path):
    write_losh_messy(tmp_path)
    import_manifests(db, [tmp_path])
    result = runner.invoke(main, ["okh", "export", "solar-cooker-reflector-hinge@1.2.0"])
    assert result.exit_code == 0, result.output
    exported = tomlkit.parse(result.output)
    assert exported["okhv"] == "OKH-LOSHv1.0"
    assert (exported["paint-colour"], exported["tsdc-id"], exported["cpc-patent-class"]) == ("black", "3DP", "F24S")
    assert exported["outer-dimensions"] == {"width": 275.0, "depth": 125.0, "height": 105.0}
    assert exported["technology-readiness-level"] == "OTRL-5"
    assert exported["organization"] == ["Sun Kitchen Group"]
    part = exported["part"][0]
    assert (part["name"], part["mass"], part["outer-dimensions"]["width"]) == ("hinge_leaf", 42.5, 60.0)
    # A mesh part has no STEP; this part's file is a STEP, so its bundle offers all three formats.
    assert part["export"] == ["export/hinge_leaf.stl", "export/hinge_leaf.3mf", "export/hinge_leaf.step"]
    as_json = json.loads(runner.invoke(main, ["okh", "export", "solar-cooker-reflector-hinge", "--json"]).output)
    assert as_json["paint-colour"] == "black"


def test_export_of_an_unknown_design(runner):
    result = runner.invoke(main, ["okh", "export", "no-such-design"])
    assert result.exit_code == 1
    assert "error: no design 'no-such-design' in the catalogue" in result.output


def _one_exported(db, settings, tmp_path, slug: str):
    """The exported folder of one seed design, the catalogue emptied; its okh.toml path."""
    _exported_seed(db, settings, tmp_path, (slug,))
    return tmp_path / "bundles" / slug / "okh.toml"


def _rows(db) -> dict[str, int]:
    with db.session() as s:
        return {m.__name__: s.scalar(select(func.count()).select_from(m)) for m in (Design, DesignVersion, DesignFile)}


def test_an_invalid_referenced_design_toml_refuses_the_manifest(db, settings, tmp_path):
    manifest = _one_exported(db, settings, tmp_path, "seed-tray-dibber")
    design_toml = manifest.parent / "design.toml"
    text = design_toml.read_text()
    assert "default = 3\nmin = 1\nmax = 8" in text
    design_toml.write_text(text.replace("default = 3\nmin = 1\nmax = 8", "default = 30\nmin = 1\nmax = 8"))
    result = import_manifests(db, [manifest]).results[0]
    assert result.status == "invalid"
    assert result.errors == [f"{design_toml}: parameters[0]: default 30 is above max 8"]
    assert _rows(db) == {"Design": 0, "DesignVersion": 0, "DesignFile": 0}


def test_a_cqgi_parameter_the_script_lacks_is_refused_without_running_the_script(db, settings, tmp_path):
    manifest = _one_exported(db, settings, tmp_path, "seed-tray-dibber")
    folder = manifest.parent
    marker = tmp_path / "ran"
    model = folder / "model.py"
    # Were the script run on import, it would leave the marker; the loader only parses it.
    model.write_text(f"open({str(marker)!r}, 'w').close()\n" + model.read_text().replace("rows = 3", "row_count = 3"))
    result = import_manifests(db, [manifest]).results[0]
    assert result.status == "invalid"
    assert any(e.startswith(f"{folder}/design.toml: parameters[0]: parameter 'rows' is not defined in model.py")
               for e in result.errors), result.errors
    assert not marker.exists()
    assert _rows(db)["DesignVersion"] == 0


def test_a_missing_referenced_design_toml_falls_back_to_a_static_copy(db, settings, tmp_path):
    manifest = _one_exported(db, settings, tmp_path, "seed-tray-dibber")
    (manifest.parent / "design.toml").unlink()
    result = import_manifests(db, [manifest]).results[0]
    assert result.status == "created", result.errors
    assert any(str(manifest.parent / "design.toml") in w and "static copy" in w for w in result.warnings), \
        result.warnings
    with db.session() as s:
        detail = queries.version_detail(queries.get_version(s, "seed-tray-dibber"))
    assert (detail["kind"], detail["parameters"]) == ("static", [])
    assert [p["file"] for p in detail["parts"]] == ["export/board.stl"]


def test_a_source_reference_out_of_the_folder_is_refused(db, settings, tmp_path):
    manifest = _one_exported(db, settings, tmp_path, "seed-tray-dibber")
    (manifest.parent.parent / "x").write_text("outside\n")
    data = tomlkit.parse(manifest.read_text())
    data["source"] = ["model.py", "design.toml", "../x"]
    manifest.write_text(tomlkit.dumps(data))
    result = import_manifests(db, [manifest]).results[0]
    assert result.status == "invalid"
    assert f"{manifest}: source: '../x' leaves the manifest's folder; references must stay inside it" in \
        result.errors
    assert _rows(db) == {"Design": 0, "DesignVersion": 0, "DesignFile": 0}


def test_an_export_reference_out_of_the_folder_is_refused_though_renders_are_not_read(db, settings, tmp_path):
    manifest = _one_exported(db, settings, tmp_path, "seed-tray-dibber")
    data = tomlkit.parse(manifest.read_text())
    data["export"] = [*data["export"], "../../etc/passwd"]
    manifest.write_text(tomlkit.dumps(data))
    result = import_manifests(db, [manifest]).results[0]
    assert result.status == "invalid"
    assert any(e.startswith(f"{manifest}: export: '../../etc/passwd' leaves") for e in result.errors), result.errors
