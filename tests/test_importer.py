"""Importing design folders: idempotent sync, immutable versions, lineage references."""

from __future__ import annotations

from sqlalchemy import func, select

from opendesign.catalogue import queries
from opendesign.catalogue.importer import import_designs
from opendesign.models import Design, DesignVersion, Lineage


def statuses(report):
    return {r.slug: r.status for r in report.results}


def count(db, model):
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_import_creates_then_is_idempotent(db, make_design):
    make_design("alpha")
    make_design("beta")
    first = import_designs(db, [make_design.root])
    assert statuses(first) == {"alpha": "created", "beta": "created"}
    second = import_designs(db, [make_design.root])
    assert statuses(second) == {"alpha": "unchanged", "beta": "unchanged"}
    assert count(db, DesignVersion) == 2


def test_import_stores_everything(db, make_design):
    make_design("alpha")
    import_designs(db, [make_design.root])
    with db.session() as s:
        v = queries.get_version(s, "alpha@1.0.0")
        detail = queries.version_detail(v)
    assert detail["license"] == "CERN-OHL-S-2.0"
    assert [p["name"] for p in detail["parameters"]] == ["width", "holes", "rounded", "finish"]
    assert detail["parameters"][3]["choices"] == ["matte", "gloss"]
    assert detail["parts"] == [{"name": "body", "material": "PETG", "process": "fdm", "quantity": 1}]
    assert detail["bom"][0]["item"] == "M3 screw"
    assert detail["tags"] == ["bracket", "test"]
    assert {f["path"] for f in detail["files"]} == {"design.toml", "model.py", "README.md"}
    assert detail["latest"] is True


def test_new_version_is_an_update_and_becomes_latest(db, make_design):
    path = make_design("alpha")
    import_designs(db, [make_design.root])
    make_design("alpha", version="1.10.0", title="Alpha, improved")
    report = import_designs(db, [make_design.root])
    assert statuses(report) == {"alpha": "updated"}
    # an older version imported later must not become latest (semver, not insertion order)
    make_design("alpha", version="1.2.0")
    import_designs(db, [make_design.root])
    with db.session() as s:
        latest = queries.get_version(s, "alpha")
        assert latest.version == "1.10.0"
        assert sorted(v.version for v in latest.design.versions) == ["1.0.0", "1.10.0", "1.2.0"]
    assert path.exists()


def test_changed_content_without_bump_is_refused(db, make_design):
    path = make_design("alpha")
    import_designs(db, [make_design.root])
    (path / "README.md").write_text("# changed\n")
    report = import_designs(db, [make_design.root])
    (result,) = report.results
    assert result.status == "invalid"
    assert "version: 1.0.0 is already published with different content" in result.errors[0]
    assert "bump the version (e.g. to 1.0.1)" in result.errors[0]
    with db.session() as s:
        assert queries.get_version(s, "alpha@1.0.0").readme == "# Test widget\n\nPrint flat.\n"


def test_invalid_design_does_not_stop_others(db, make_design):
    make_design("good-one")
    make_design("bad-one", version="x")
    report = import_designs(db, [make_design.root])
    assert statuses(report) == {"good-one": "created", "bad-one": "invalid"}
    assert not report.ok
    assert count(db, Design) == 1


def test_duplicate_slug_in_one_import(db, make_design, tmp_path):
    make_design("alpha")
    other = tmp_path / "elsewhere" / "alpha"
    other.parent.mkdir()
    import shutil
    shutil.copytree(make_design.root / "alpha", other)
    report = import_designs(db, [make_design.root, other.parent])
    assert [r.status for r in report.results].count("invalid") == 1
    bad = next(r for r in report.results if r.status == "invalid")
    assert "slug: 'alpha' is also the slug of" in bad.errors[0]
    assert "slugs must be unique" in bad.errors[0]


def test_derived_from_unknown_design(db, make_design):
    make_design("child", derived_from=["ghost@1.0.0"])
    (result,) = import_designs(db, [make_design.root]).results
    assert result.status == "invalid"
    assert result.errors[0].endswith("/child/design.toml: derived_from[0]: 'ghost@1.0.0': no design 'ghost' in the "
                                     "catalogue")
    assert count(db, Design) == 0


def test_derived_from_unknown_version(db, make_design):
    make_design("parent")
    import_designs(db, [make_design.root])
    make_design("child", derived_from=["parent@2.0.0"])
    report = import_designs(db, [make_design.root])
    child = next(r for r in report.results if r.slug == "child")
    assert child.status == "invalid"
    assert child.errors[0].endswith("derived_from[0]: 'parent@2.0.0': design 'parent' has no version 2.0.0 "
                                    "(published: 1.0.0)")


def test_self_derivation_refused(db, make_design):
    make_design("loop", derived_from=["loop@1.0.0"])
    (result,) = import_designs(db, [make_design.root]).results
    assert result.status == "invalid"
    assert "a design cannot derive from itself" in result.errors[0]


def test_parents_imported_before_children(db, make_design):
    # "a-child" sorts before "z-parent": the importer must still import the parent first
    make_design("z-parent")
    make_design("a-child", derived_from=["z-parent@1.0.0"])
    report = import_designs(db, [make_design.root])
    assert statuses(report) == {"a-child": "created", "z-parent": "created"}
    with db.session() as s:
        edge = s.scalars(select(Lineage)).one()
        assert (edge.child.ref, edge.parent.ref) == ("a-child@1.0.0", "z-parent@1.0.0")


def test_failed_import_writes_nothing_for_that_design(db, make_design):
    make_design("alpha")
    import_designs(db, [make_design.root])
    before = count(db, DesignVersion)
    make_design("alpha", version="2.0.0", derived_from=["ghost@1.0.0"])
    import_designs(db, [make_design.root])
    assert count(db, DesignVersion) == before
    with db.session() as s:
        assert queries.get_version(s, "alpha").version == "1.0.0"


def test_remove_version_and_design(db, make_design):
    from opendesign.catalogue import removal

    make_design("alpha")
    import_designs(db, [make_design.root])
    make_design("alpha", version="1.1.0")
    import_designs(db, [make_design.root])
    with db.session() as s:
        assert removal.remove(s, "alpha@1.1.0") == ["alpha@1.1.0"]
    with db.session() as s:
        assert queries.get_version(s, "alpha").version == "1.0.0"
    with db.session() as s:
        assert removal.remove(s, "alpha") == ["alpha@1.0.0"]
    assert count(db, Design) == 0 and count(db, DesignVersion) == 0


def test_remove_refused_while_derived_from(db, make_design):
    import pytest

    from opendesign.catalogue import removal
    from opendesign.errors import LineageError

    make_design("parent")
    make_design("child", derived_from=["parent@1.0.0"])
    import_designs(db, [make_design.root])
    with pytest.raises(LineageError, match="cannot remove parent@1.0.0: child@1.0.0 derive from it"):
        with db.session() as s:
            removal.remove(s, "parent")
    assert count(db, DesignVersion) == 2
    with db.session() as s:
        removal.remove(s, "child")
        removal.remove(s, "parent")
    assert count(db, Design) == 0
