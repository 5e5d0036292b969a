"""The derivation DAG: refused edges, queries, and ``opendesign lineage``."""

from __future__ import annotations

import json

import pytest

from opendesign.catalogue import queries
from opendesign.catalogue.importer import import_designs
from opendesign.cli import main
from opendesign.commons import lineage
from opendesign.errors import LineageError


def statuses(report):
    return {r.slug: r.status for r in report.results}


def errors_of(report, slug):
    return next(r.errors for r in report.results if r.slug == slug)


@pytest.fixture
def chain(db, make_design):
    """base <- middle <- (leaf, other-leaf); and base has a second version."""
    make_design("base")
    assert import_designs(db, [make_design.root / "base"]).ok
    make_design("base", version="2.0.0")
    assert import_designs(db, [make_design.root / "base"]).ok
    make_design("middle", derived_from=["base@1.0.0"])
    make_design("leaf", derived_from=["middle@1.0.0"])
    make_design("other-leaf", derived_from=["middle@1.0.0", "base@2.0.0"])
    report = import_designs(db, [make_design.root / name for name in ("middle", "leaf", "other-leaf")])
    assert report.ok, report.as_dict()
    return db


def refs(versions):
    return [v.ref for v in versions]


def test_ancestors_descendants_and_forks(chain):
    with chain.session() as s:
        leaf = queries.get_version(s, "other-leaf@1.0.0")
        assert refs(lineage.ancestors(s, leaf)) == ["middle@1.0.0", "base@2.0.0", "base@1.0.0"]
        base = queries.get_version(s, "base@1.0.0")
        assert refs(lineage.descendants(s, base)) == ["middle@1.0.0", "leaf@1.0.0", "other-leaf@1.0.0"]
        assert lineage.fork_count(s, "base") == 2  # middle, and other-leaf (from 2.0.0)
        assert lineage.fork_count(s, "middle") == 2
        assert lineage.fork_count(s, "leaf") == 0
        assert lineage.fork_counts(s) == {"base": 2, "middle": 2}


def test_family_has_every_version_ancestors_and_descendants(chain, make_design):
    make_design("cousin", derived_from=["base@1.0.0"])
    assert import_designs(chain, [make_design.root / "cousin"]).ok
    with chain.session() as s:
        fam = lineage.family(s, "middle")
        # what middle owes and what owes middle; not base's other children
        assert refs(fam.versions) == ["base@1.0.0", "base@2.0.0", "leaf@1.0.0", "middle@1.0.0", "other-leaf@1.0.0"]
        assert [(e.parent.ref, e.child.ref) for e in fam.edges] == [
            ("middle@1.0.0", "leaf@1.0.0"),
            ("base@1.0.0", "middle@1.0.0"),
            ("middle@1.0.0", "other-leaf@1.0.0"),
            ("base@2.0.0", "other-leaf@1.0.0"),
        ]
        assert "cousin" in lineage.family(s, "base").designs


def test_cycle_is_refused_with_the_path(chain):
    with chain.session() as s:
        base = queries.get_version(s, "base@1.0.0")
        leaf = queries.get_version(s, "leaf@1.0.0")
        with pytest.raises(LineageError) as exc:
            lineage.link(s, base, [leaf])
    message = str(exc.value)
    assert "leaf@1.0.0: deriving base@1.0.0 from it would close a cycle" in message
    assert "base@1.0.0 -> middle@1.0.0 -> leaf@1.0.0 -> base@1.0.0" in message


def test_link_adds_an_acyclic_edge(chain):
    with chain.session() as s:
        leaf = queries.get_version(s, "leaf@1.0.0")
        lineage.link(s, leaf, [queries.get_version(s, "base@2.0.0")])
    with chain.session() as s:
        leaf = queries.get_version(s, "leaf@1.0.0")
        assert refs(lineage.parents(leaf)) == ["middle@1.0.0", "base@2.0.0"]


def test_self_derivation_is_refused(db, make_design):
    make_design("loop", derived_from=["loop@1.0.0"])
    report = import_designs(db, [make_design.root])
    assert statuses(report) == {"loop": "invalid"}
    assert "derived_from[0]: 'loop@1.0.0': a design cannot derive from itself" in errors_of(report, "loop")[0]
    # a new version may not derive from an older version of the same design
    make_design("base")
    assert import_designs(db, [make_design.root / "base"]).ok
    make_design("base", version="2.0.0", derived_from=["base@1.0.0"])
    report = import_designs(db, [make_design.root / "base"])
    assert "'base@1.0.0': a design cannot derive from itself" in errors_of(report, "base")[0]
    with db.session() as s:
        base = queries.get_version(s, "base@1.0.0")
        with pytest.raises(LineageError, match="a design cannot derive from itself"):
            lineage.check_edges(s, None, "base", [base])


def test_unknown_parent_is_refused(db, make_design):
    make_design("orphan", derived_from=["nowhere@1.0.0"])
    make_design("base")
    make_design("wrong-version", derived_from=["base@9.9.9"])
    report = import_designs(db, [make_design.root])
    assert statuses(report) == {"base": "created", "orphan": "invalid", "wrong-version": "invalid"}
    assert "derived_from[0]: 'nowhere@1.0.0': no design 'nowhere' in the catalogue" in errors_of(report, "orphan")[0]
    assert "has no version 9.9.9 (published: 1.0.0)" in errors_of(report, "wrong-version")[0]
    with db.session() as s, pytest.raises(LineageError, match="unknown parent: no design 'nowhere'"):
        lineage.resolve(s, ["base", "nowhere@1.0.0"])


def test_lineage_command_text_json_dot(runner, chain):
    result = runner.invoke(main, ["lineage", "middle"])
    assert result.exit_code == 0, result.output
    assert "middle@1.0.0  [CERN-OHL-S-2.0]" in result.output
    assert "↑ derives from base@1.0.0" in result.output
    assert "↓ derived by leaf@1.0.0" in result.output

    data = json.loads(runner.invoke(main, ["lineage", "middle", "--json"]).output)
    assert data["slug"] == "middle" and data["fork_count"] == 2
    assert {n["ref"] for n in data["nodes"]} >= {"base@1.0.0", "leaf@1.0.0", "other-leaf@1.0.0"}
    assert {"parent": "base@1.0.0", "child": "middle@1.0.0"}.items() <= data["edges"][1].items()
    assert all(e["compatible"] for e in data["edges"]) and data["compatible"]

    dot = runner.invoke(main, ["lineage", "middle", "--dot"]).output
    assert dot.startswith('digraph "family of middle" {')
    assert '"middle@1.0.0" [label="middle@1.0.0\\nCERN-OHL-S-2.0"' in dot
    assert '"base@1.0.0" -> "middle@1.0.0" [color="#2e7d32", label="compatible"' in dot
    assert 'subgraph "cluster_base"' in dot
    assert dot.rstrip().endswith("}")

    missing = runner.invoke(main, ["lineage", "nowhere"])
    assert missing.exit_code == 1 and "no design 'nowhere'" in missing.output
