"""The attribution chain: every ancestor's title, version, authors, license and link."""

from __future__ import annotations

import json

from opendesign.catalogue import queries
from opendesign.catalogue.importer import import_designs
from opendesign.cli import main
from opendesign.commons.attribution import attribution_chain, attribution_text


def three_generations(db, make_design):
    make_design("grandparent", title="Rocket stove core", license="CC-BY-4.0",
                authors=[{"name": "Ada Stove"}, {"name": "Bo Kiln", "contact": "bo@example.org"}])
    make_design("other-grandparent", title="Brick jig", license="CC0-1.0", authors=[{"name": "Cy Mason"}])
    make_design("parent", title="Rocket stove with jig", license="CC-BY-SA-4.0", authors=[{"name": "Di Smith"}],
                derived_from=["grandparent@1.0.0", "other-grandparent@1.0.0"])
    make_design("child", title="Rocket stove, wide", license="CC-BY-SA-4.0", authors=[{"name": "Ed Wide"}],
                derived_from=["parent@1.0.0"])
    assert import_designs(db, [make_design.root]).ok


def test_chain_of_three_generations(db, make_design):
    three_generations(db, make_design)
    with db.session() as s:
        chain = attribution_chain(s, queries.get_version(s, "child"), "https://commons.example/")
    assert [(c["ref"], c["generation"]) for c in chain] == [
        ("child@1.0.0", 0), ("parent@1.0.0", 1), ("grandparent@1.0.0", 2), ("other-grandparent@1.0.0", 2)]
    grand = chain[2]
    assert grand["title"] == "Rocket stove core"
    assert grand["version"] == "1.0.0"
    assert grand["authors"] == [{"name": "Ada Stove", "contact": None}, {"name": "Bo Kiln", "contact": "bo@example.org"}]
    assert grand["license"] == "CC-BY-4.0"
    assert grand["licenses"][0]["url"].startswith("https://creativecommons.org/")
    assert grand["url"] == "https://commons.example/designs/grandparent/1.0.0"
    assert chain[1]["derived_from"] == ["grandparent@1.0.0", "other-grandparent@1.0.0"]

    text = attribution_text(chain)
    assert text.startswith("Rocket stove, wide (child@1.0.0)\n")
    assert '"Rocket stove, wide" 1.0.0 by Ed Wide, licensed CC-BY-SA-4.0' in text
    assert '  "Rocket stove with jig" 1.0.0 by Di Smith, licensed CC-BY-SA-4.0' in text
    assert '    "Rocket stove core" 1.0.0 by Ada Stove, Bo Kiln, licensed CC-BY-4.0' in text
    assert "https://commons.example/designs/other-grandparent/1.0.0" in text


def test_design_without_ancestors_credits_itself(db, make_design):
    make_design("alone")
    assert import_designs(db, [make_design.root]).ok
    with db.session() as s:
        chain = attribution_chain(s, queries.get_version(s, "alone@1.0.0"), "http://x")
    assert len(chain) == 1 and "Derived from" not in attribution_text(chain)


def test_attribution_command(runner, db, make_design, monkeypatch):
    three_generations(db, make_design)
    result = runner.invoke(main, ["attribution", "child"], env={"OPENDESIGN_BASE_URL": "https://od.example"})
    assert result.exit_code == 0, result.output
    assert "Derived from:" in result.output
    assert "https://od.example/designs/grandparent/1.0.0" in result.output
    data = json.loads(runner.invoke(main, ["attribution", "parent@1.0.0", "--json"]).output)
    assert [c["ref"] for c in data] == ["parent@1.0.0", "grandparent@1.0.0", "other-grandparent@1.0.0"]
    assert runner.invoke(main, ["attribution", "child@2.0.0"]).exit_code == 1
