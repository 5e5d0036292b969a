"""``opendesign okh import``: OKH manifests as static designs, lenient warnings, exact refusals."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from opendesign.catalogue import origins, queries
from opendesign.cli import main
from opendesign.models import Design, DesignFile, DesignVersion
from opendesign.okh.importer import import_manifests

from .okh_fixtures import STL, minimal, write_losh_fork, write_losh_messy, write_manifest, write_v1


def rows(db, model=DesignVersion) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def only(report):
    assert len(report.results) == 1, report.as_dict()
    return report.results[0]


def test_messy_losh_manifest_becomes_a_static_design(db, tmp_path):
    manifest = write_losh_messy(tmp_path)
    result = only(import_manifests(db, [manifest]))
    assert result.status == "created", result.errors
    assert (result.slug, result.version) == ("solar-cooker-reflector-hinge", "1.2.0")
    with db.session() as s:
        v = queries.get_version(s, "solar-cooker-reflector-hinge")
        detail = queries.version_detail(v)
        assert v.origin == origins.OKH
        assert v.manifest["kind"] == "static"
        assert v.links == {"repo": "https://example.org/solar-cooker"}
    assert detail["license"] == "CERN-OHL-W-2.0"
    assert detail["authors"] == [{"name": "Sun Kitchen Group", "contact": "hello@example.org"}]
    # The STEP is preferred as the part's file: it renders to every format.
    assert detail["parts"] == [{"name": "hinge_leaf", "material": "PETG", "process": "fdm", "quantity": 1,
                                "file": "parts/hinge-leaf.step"}]
    assert detail["bom"] == [{"item": "M4 bolt", "quantity": 2.0, "unit": "pcs", "note": "stainless"}]
    assert "okh" in detail["tags"]
    paths = {f["path"] for f in detail["files"]}
    # The STEP is preferred as the part's file (it renders to every format); the STL, image,
    # README, BOM and the manifest itself are the design's files too.
    assert {"okh.toml", "README.md", "bom.csv", "docs/cooker.png", "parts/hinge-leaf.step",
            "parts/hinge-leaf.stl", "design.toml"} <= paths
    with db.session() as s:
        assert queries.get_version(s, "solar-cooker-reflector-hinge").manifest["parts"][0]["file"] == \
            "parts/hinge-leaf.step"


def test_messy_manifest_warns_naming_file_key_and_reason(db, tmp_path):
    manifest = write_losh_messy(tmp_path)
    result = only(import_manifests(db, [manifest]))
    warnings = "\n".join(result.warnings)
    assert f"{manifest}: tsdc-id: misspelt or retired key; read as 'tsdc'" in warnings
    assert f"{manifest}: outer-dimension: misspelt or retired key; read as 'outer-dimensions'" in warnings
    assert f"{manifest}: paint-colour: not an OKH-LOSH key; kept as written" in warnings
    assert f"{manifest}: version: '1.2' is not a semantic version; imported as 1.2.0" in warnings
    assert f"{manifest}: technology-readiness-level: 'OTLR-5' read as OTRL-5" in warnings
    assert f"{manifest}: part[1].material: missing; recorded as 'unspecified'" in warnings
    assert result.missing == [f"{manifest}: part[1].export: 'parts/pin.stl': no such file beside the manifest"]


def test_unmapped_fields_and_facts_are_kept(db, tmp_path):
    from opendesign.okh.extras import okh_view

    write_losh_messy(tmp_path)
    import_manifests(db, [tmp_path])
    with db.session() as s:
        v = queries.get_version(s, "solar-cooker-reflector-hinge")
        view = okh_view({f.path: f.data for f in v.files})
    assert view["unmapped"] == {"paint-colour": "black", "tsdc-id": "3DP", "cpc-patent-class": "F24S"}
    facts = view["facts"]
    assert facts["outer-dimensions"] == {"width": 275.0, "depth": 125.0, "height": 105.0}
    assert facts["mass"] == 1200.0
    assert facts["technology-readiness-level"] == "OTRL-5"
    assert facts["documentation-readiness-level"] == "ODRL-3"
    assert facts["organization"] == ["Sun Kitchen Group"]
    assert facts["okhv"] == "2.4"
    assert view["parts"][0]["outer-dimensions"] == {"width": 60.0, "depth": 40.0, "height": 8.0}


def test_reimport_is_idempotent_and_a_change_needs_a_new_version(db, tmp_path):
    manifest = write_losh_messy(tmp_path)
    assert only(import_manifests(db, [manifest])).status == "created"
    assert only(import_manifests(db, [manifest])).status == "unchanged"
    (manifest.parent / "parts" / "hinge-leaf.step").write_bytes(b"ISO-10303-21;\nchanged\n")
    result = only(import_manifests(db, [manifest]))
    assert result.status == "invalid"
    assert result.errors == [
        f"{manifest}: version: 1.2.0 of 'solar-cooker-reflector-hinge' is already in the catalogue with different "
        "content (the manifest or a file it references changed); released versions are immutable — bump the "
        "version in the manifest (e.g. to 1.2.1)"]
    manifest.write_text(manifest.read_text().replace('version = "1.2"', 'version = "1.3.0"'))
    assert only(import_manifests(db, [manifest])).status == "updated"
    assert rows(db) == 2


def test_v1_yaml_manifest(db, tmp_path):
    manifest = write_v1(tmp_path)
    result = only(import_manifests(db, [manifest]))
    assert result.status == "created", result.errors
    with db.session() as s:
        detail = queries.version_detail(queries.get_version(s, "treadle-water-pump-valve@2.0.1"))
    assert detail["license"] == "CERN-OHL-P-2.0"
    assert detail["category"] == "water"
    assert detail["authors"] == [{"name": "Pump Makers Cooperative", "contact": "pumps@example.org"}]
    assert set(detail["tags"]) == {"okh", "water", "pump", "irrigation"}
    assert detail["parts"] == [{"name": "valve", "material": "unspecified", "process": "manual", "quantity": 1,
                                "file": "files/valve.3mf"}]
    assert f"{manifest}: readme: no readme beside the manifest; README.md was written from its name and " \
           "function" in result.warnings


def test_fork_of_is_lineage_and_license_checked(db, tmp_path):
    write_losh_messy(tmp_path)
    fork = write_losh_fork(tmp_path)
    report = import_manifests(db, [tmp_path])  # the fork's parent is found in the same run, imported first
    assert {r.slug: r.status for r in report.results} == {"solar-cooker-reflector-hinge": "created",
                                                          "solar-cooker-reflector-hinge-wide": "created"}
    with db.session() as s:
        assert queries.version_detail(queries.get_version(s, "solar-cooker-reflector-hinge-wide"))[
            "derived_from"] == ["solar-cooker-reflector-hinge@1.2.0"]
    # The same fork under a license its parent does not allow is refused, naming the manifest.
    fork.write_text(fork.read_text().replace('"CERN-OHL-S-2.0"', '"CC0-1.0"').replace('"0.2.0"', '"0.3.0"'))
    result = only(import_manifests(db, [fork]))
    assert result.status == "invalid"
    assert result.errors[0].startswith(f"{fork}: license: CC0-1.0 is not allowed for this derivative")


def test_fork_of_a_design_not_in_the_catalogue_is_refused(db, tmp_path):
    manifest = write_manifest(tmp_path / "p", minimal(**{"fork-of": '"https://example.org/not-here"'}))
    result = only(import_manifests(db, [manifest]))
    assert result.status == "invalid"
    assert result.errors == [f"{manifest}: fork-of: 'https://example.org/not-here' names no design in the "
                             "catalogue; import the parent first (a derivative is license-checked against its "
                             "parent)"]
    assert rows(db, Design) == 0


def test_unknown_license_is_refused(db, tmp_path):
    manifest = write_manifest(tmp_path / "p", minimal(license='"Open Hardware License 9"'))
    result = only(import_manifests(db, [manifest]))
    assert result.errors == [f"{manifest}: license: unknown license: Open Hardware License 9 (not an SPDX "
                             "license identifier); give an SPDX expression or a known LicenseRef"]
    manifest = write_manifest(tmp_path / "q", minimal(license='"Foo-Hardware-1.0"'))
    result = only(import_manifests(db, [manifest]))
    assert result.errors == [f"{manifest}: license: unknown license: Foo-Hardware-1.0 (not an SPDX license "
                             "identifier); give an SPDX expression or a known LicenseRef"]
    assert rows(db, Design) == 0


def test_no_name_and_no_license_are_refused(db, tmp_path):
    manifest = write_manifest(tmp_path / "p", minimal(name=None, license=None))
    result = only(import_manifests(db, [manifest]))
    assert result.errors == [
        f"{manifest}: name: missing; an OKH manifest needs a name to become a design",
        f"{manifest}: license: missing; a design needs a license (an SPDX expression such as 'CERN-OHL-S-2.0')"]


def test_known_license_ref_is_accepted(db, tmp_path):
    manifest = write_manifest(tmp_path / "p", minimal(license='"LicenseRef-PPL"'))
    assert only(import_manifests(db, [manifest])).status == "created"


def test_part_path_out_of_the_folder_is_refused(db, tmp_path):
    (tmp_path / "secret.stl").write_bytes(STL)
    text = minimal().replace('export = "part.stl"', 'export = "../../etc/passwd"')
    manifest = write_manifest(tmp_path / "a" / "p", text)
    result = only(import_manifests(db, [manifest]))
    assert result.status == "invalid"
    assert f"{manifest}: part[0].export: '../../etc/passwd' leaves the manifest's folder; references must stay " \
           "inside it" in result.errors
    assert rows(db, Design) == 0


def test_symlink_out_of_the_folder_is_refused(db, tmp_path):
    (tmp_path / "outside.stl").write_bytes(STL)
    manifest = write_manifest(tmp_path / "p", minimal(), files={})
    (tmp_path / "p" / "part.stl").symlink_to(tmp_path / "outside.stl")
    result = only(import_manifests(db, [manifest]))
    assert result.status == "invalid"
    assert any(e.startswith(f"{manifest}: part[0].export: 'part.stl' is a symbolic link that leads out of the "
                            "manifest's folder") for e in result.errors), result.errors


def test_home_and_drive_paths_are_refused(db, tmp_path):
    manifest = write_manifest(tmp_path / "p", minimal(readme='"~/notes.md"', bom='"C:\\\\bom.csv"'))
    result = only(import_manifests(db, [manifest]))
    assert f"{manifest}: readme: '~/notes.md' is an absolute path on someone's computer; give a path relative " \
           "to the manifest's folder" in result.errors
    assert f"{manifest}: bom: 'C:\\\\bom.csv' is an absolute path on someone's computer; give a path relative " \
           "to the manifest's folder" in result.errors


def test_leading_slash_is_the_manifest_folder(db, tmp_path):
    text = minimal().replace('export = "part.stl"', 'export = "/parts/part.stl"')
    manifest = write_manifest(tmp_path / "p", text, files={"parts/part.stl": STL})
    assert only(import_manifests(db, [manifest])).status == "created"


def test_ten_thousand_parts_are_refused_with_the_cap(db, tmp_path):
    parts = "".join(f'\n[[part]]\nname = "p{i}"\nexport = "part.stl"\n' for i in range(10_000))
    manifest = write_manifest(tmp_path / "p", minimal() + parts)
    result = only(import_manifests(db, [manifest]))
    assert result.errors == [f"{manifest}: part: lists 10001 parts; the limit is 500"]
    assert rows(db, Design) == 0


def test_okh_yml_that_is_not_yaml(db, tmp_path):
    manifest = write_manifest(tmp_path / "p", "title: [unclosed\nlicense: MIT\n", name="okh.yml")
    result = only(import_manifests(db, [manifest]))
    assert result.status == "invalid"
    assert result.errors == [f"{manifest}: line 2: is not valid YAML: expected ',' or ']', but got ':'"]
    manifest = write_manifest(tmp_path / "q", "- just\n- a list\n", name="okh.yml")
    assert only(import_manifests(db, [manifest])).errors == [
        f"{manifest}: is a YAML list, not a YAML mapping of OKH keys"]


def test_yaml_aliases_are_refused(db, tmp_path):
    manifest = write_manifest(tmp_path / "p", "a: &x [1, 2]\nb: *x\ntitle: Bomb\n", name="okh.yml")
    assert only(import_manifests(db, [manifest])).errors == [
        f"{manifest}: line 2: uses a YAML alias (*name); aliases are refused in OKH manifests"]


def test_okh_toml_that_is_not_toml(db, tmp_path):
    manifest = write_manifest(tmp_path / "p", 'name = "x\n')
    result = only(import_manifests(db, [manifest]))
    assert result.errors[0].startswith(f"{manifest}: line 1: is not valid TOML")


def test_no_part_file_at_all_is_refused(db, tmp_path):
    manifest = write_manifest(tmp_path / "p", minimal(), files={})
    result = only(import_manifests(db, [manifest]))
    assert f"{manifest}: part: no STEP, STL, 3MF or OBJ file that the manifest references exists beside it; a " \
           "design needs at least one part file" in result.errors


def test_a_refused_manifest_leaves_the_catalogue_as_it_was(db, tmp_path):
    write_losh_messy(tmp_path / "ok")
    import_manifests(db, [tmp_path / "ok"])
    before = (rows(db, Design), rows(db, DesignVersion), rows(db, DesignFile))
    bad = write_manifest(tmp_path / "bad", minimal(license='"Nope-1.0"'))
    evil = write_manifest(tmp_path / "evil", minimal().replace('export = "part.stl"', 'export = "../x.stl"'))
    report = import_manifests(db, [bad, evil])
    assert [r.status for r in report.results] == ["invalid", "invalid"]
    assert (rows(db, Design), rows(db, DesignVersion), rows(db, DesignFile)) == before


def test_tree_of_manifests_and_cli_json(runner, tmp_path):
    write_losh_messy(tmp_path / "tree" / "a")
    write_v1(tmp_path / "tree" / "b")
    write_manifest(tmp_path / "tree" / "c", minimal(license=None))
    result = runner.invoke(main, ["okh", "import", str(tmp_path / "tree"), "--json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert (data["created"], data["invalid"]) == (2, 1)
    by_status = {m["status"] for m in data["manifests"]}
    assert by_status == {"created", "invalid"}
    again = runner.invoke(main, ["okh", "import", str(tmp_path / "tree" / "a"), str(tmp_path / "tree" / "b")])
    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated, 2 unchanged, 0 invalid" in again.output


def test_imported_design_is_of_origin_okh_and_needs_the_sandbox(db, settings, tmp_path):
    from opendesign.trust import refusal

    write_losh_messy(tmp_path)
    import_manifests(db, [tmp_path])
    with db.session() as s:
        version = queries.get_version(s, "solar-cooker-reflector-hinge")
        assert version.origin == origins.OKH
    # The fail-closed rule: without an isolating sandbox an OKH design does not render.
    why = refusal(settings, False, origins.OKH, "solar-cooker-reflector-hinge@1.2.0")
    assert why.startswith("solar-cooker-reflector-hinge@1.2.0 was taken in from an Open Know-How manifest, and "
                          "this server cannot render it safely")
    assert refusal(settings, True, origins.OKH, "x@1.0.0") is None


def test_processes_categories_and_duplicates(db, tmp_path):
    text = minimal(name='"Pedal Powered Grain Mill"').replace('manufacturing-process = "FDM"\n', "") + \
        '\n[[part]]\nname = "gear"\nexport = "part.stl"\nprinting-process = "SLA"\ntsdc = "3DP"\nmaterial = "resin"\n' \
        '\n[[part]]\nname = "gear"\nexport = "part.stl"\ntsdc = "LAS"\nmaterial = "plywood"\n'
    manifest = write_manifest(tmp_path / "p", text)
    result = only(import_manifests(db, [manifest]))
    assert result.status == "created", result.errors
    with db.session() as s:
        detail = queries.version_detail(queries.get_version(s, "pedal-powered-grain-mill"))
    assert [(p["name"], p["process"]) for p in detail["parts"]] == [("frame", "manual"), ("gear", "sla"),
                                                                     ("gear_2", "laser")]
    assert detail["category"] == "food-agriculture"  # mill and grain outweigh "powered"
    assert f"{manifest}: function: OKH has no category; 'food-agriculture' was inferred from the name and " \
           "function" in result.warnings


def test_two_manifests_making_one_slug_and_a_slug_of_another_origin(db, make_design, tmp_path):
    first = write_manifest(tmp_path / "a", minimal())
    second = write_manifest(tmp_path / "b", minimal(repo='"https://example.org/other"'))
    report = import_manifests(db, [first, second])
    # A duplicate is refused while the run is read, before anything is imported.
    assert [(r.path, r.status) for r in report.results] == [(str(second), "invalid"), (str(first), "created")]
    assert [r.errors for r in report.results if r.errors] == [[
        f"{second}: name: makes the slug 'compost-sieve-frame', as {first} does; slugs must be unique"]]
    from opendesign.catalogue.importer import import_designs

    make_design("test-widget")
    import_designs(db, [make_design.root])
    clash = write_manifest(tmp_path / "c", minimal(name='"Test Widget"'))
    assert only(import_manifests(db, [clash])).errors == [
        f"{clash}: name: the slug 'test-widget' belongs to a design that was not taken in from OKH; rename the "
        "project"]


def test_folder_with_both_dialects_reads_okh_toml(db, tmp_path):
    write_manifest(tmp_path / "p", minimal())
    (tmp_path / "p" / "okh.yml").write_text("title: Old\n")
    report = import_manifests(db, [tmp_path])
    assert [r.status for r in report.results] == ["created"]
    assert report.notes == [f"{tmp_path / 'p' / 'okh.yml'}: skipped: okh.toml in the same folder describes the "
                            "project"]


def test_v1_license_table_is_kept_as_a_fact(db, tmp_path):
    from opendesign.okh.extras import okh_view

    write_v1(tmp_path)
    import_manifests(db, [tmp_path])
    with db.session() as s:
        v = queries.get_version(s, "treadle-water-pump-valve")
        view = okh_view({f.path: f.data for f in v.files})
    assert view["dialect"] == "v1"
    assert view["facts"]["licenses"] == {"hardware": "CERN-OHL-P-2.0", "documentation": "CC-BY-4.0"}
    assert view["unmapped"]["health-safety-notice"] == "Keep fingers clear of the treadle."
    assert view["unmapped"]["manufacturing-files"] == [{"path": "files/valve.3mf", "title": "Valve body"}]


def test_imported_manifest_is_searchable(db, settings, tmp_path):
    from opendesign import search
    from opendesign.search import SearchQuery

    index = search.install(settings)
    try:
        write_losh_messy(tmp_path)
        import_manifests(db, [tmp_path])
        hits = index.search(SearchQuery("reflector hinge")).hits
        assert [(h.slug, h.version) for h in hits] == [("solar-cooker-reflector-hinge", "1.2.0")]
    finally:
        search.uninstall(settings)
        index.close()


def test_another_project_with_the_same_name_is_not_a_new_version(db, tmp_path):
    first = write_manifest(tmp_path / "a", minimal())
    assert only(import_manifests(db, [first])).status == "created"
    other = write_manifest(tmp_path / "b", minimal(repo='"https://example.org/another-sieve"', version='"2.0.0"'))
    assert only(import_manifests(db, [other])).errors == [
        f"{other}: name: makes the slug 'compost-sieve-frame', which belongs to another OKH project "
        "(https://example.org/sieve); this manifest's repo is https://example.org/another-sieve; rename the project"]
    assert rows(db) == 1


def test_a_part_file_that_lies_about_itself_refuses_the_manifest(db, tmp_path):
    import struct

    lying = b"\0" * 80 + struct.pack("<I", 1000) + b"\0" * 50
    text = minimal().replace('export = "part.stl"', 'export = "missing.stl"') + \
        '\n[[part]]\nname = "lid"\nexport = "lid.stl"\nmaterial = "PLA"\nmanufacturing-process = "FDM"\n'
    manifest = write_manifest(tmp_path / "p", text, files={"lid.stl": lying})
    result = only(import_manifests(db, [manifest]))
    # The first OKH part has no file, so "lid" is the design's parts[0]; the error uses the manifest's numbering.
    assert result.errors == [f"{manifest}: part[1].file: lid.stl: the binary STL header says 1000 triangles "
                             "(50084 bytes) but the file is 134 bytes (room for 1): truncated or not an STL"]
    assert rows(db, Design) == 0


def test_a_path_that_does_not_exist_fails_the_run(runner, tmp_path):
    result = runner.invoke(main, ["okh", "import", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert f"note: {tmp_path / 'nowhere'}: no such file or folder" in result.output
