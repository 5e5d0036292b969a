"""``opendesign okh export`` and back: every seed design survives a trip through its OKH manifest."""

from __future__ import annotations

import csv
import io
import json

import tomlkit
from sqlalchemy import delete

from opendesign.catalogue import origins, queries
from opendesign.catalogue.importer import import_designs
from opendesign.cli import main
from opendesign.models import Base
from opendesign.okh.export import export_manifest
from opendesign.okh.importer import import_manifests

from .okh_fixtures import STL, write_losh_messy

#: What "the same design" means for a static copy: everything but the model code and its knobs.
SAME = ("slug", "title", "summary", "version", "license", "category", "authors", "tags", "bom", "derived_from",
        "links")


def _catalogue(db) -> dict[str, dict]:
    with db.session() as s:
        return {d.slug: queries.version_detail(d.latest_version) for d in queries.list_designs(s)}


def _unzipped_bundle(root, manifest: dict, detail: dict) -> None:
    """What an unpacked bundle holds that its manifest names: README, BOM.csv, the part exports."""
    folder = root / detail["slug"]
    (folder / "export").mkdir(parents=True)
    (folder / "okh.toml").write_text(tomlkit.dumps(manifest))
    (folder / "README.md").write_text(detail["readme"] if "readme" in detail else "# readme\n")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["item", "quantity", "unit", "note"])
    for line in detail["bom"]:
        writer.writerow([line["item"], f"{line['quantity']:g}", line["unit"], line["note"]])
    (folder / "BOM.csv").write_text(out.getvalue())
    for part in manifest["part"]:
        for path in part["export"]:
            if path.endswith(".stl"):
                (folder / path).write_bytes(STL)


def _clear(db) -> None:
    with db.session() as s:
        for table in reversed(Base.metadata.sorted_tables):
            s.execute(delete(table))


def test_every_seed_design_round_trips_through_its_manifest(db, settings, tmp_path):
    seed = import_designs(db, [settings.designs_dir])
    assert seed.ok, seed.as_dict()["errors"]
    before = _catalogue(db)
    with db.session() as s:
        readmes = {slug: queries.get_version(s, slug).readme for slug in before}
    manifests = {slug: export_manifest(db, settings, slug) for slug in before}
    _clear(db)
    for slug, manifest in manifests.items():
        _unzipped_bundle(tmp_path / "bundles", manifest, {**before[slug], "readme": readmes[slug]})

    report = import_manifests(db, [tmp_path / "bundles"])
    assert report.ok, [r.errors for r in report.results if r.errors]
    after = _catalogue(db)
    assert set(after) == set(before)
    for slug, old in before.items():
        new = after[slug]
        assert {k: new[k] for k in SAME} == {k: old[k] for k in SAME}, slug
        assert [(p["name"], p["material"], p["process"], p["quantity"]) for p in new["parts"]] == \
            [(p["name"], p["material"], p["process"], p["quantity"]) for p in old["parts"]], slug
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
