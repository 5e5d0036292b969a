"""The catalogue commands end to end through click: import, validate, list, show."""

from __future__ import annotations

import json

from opendesign.cli import main


def test_import_counts_and_json(runner, make_design):
    make_design("alpha")
    make_design("beta")
    result = runner.invoke(main, ["import", str(make_design.root)])
    assert result.exit_code == 0, result.output
    assert "2 created, 0 updated, 0 unchanged, 0 invalid" in result.output
    result = runner.invoke(main, ["import", "--json", str(make_design.root)])
    data = json.loads(result.output)
    assert (data["created"], data["unchanged"], data["invalid"]) == (0, 2, 0)
    assert data["errors"] == []


def test_import_invalid_exits_1_and_lists_errors(runner, make_design):
    make_design("alpha")
    make_design("broken", version="1.0")
    result = runner.invoke(main, ["import", str(make_design.root)])
    assert result.exit_code == 1
    assert "1 created, 0 updated, 0 unchanged, 1 invalid" in result.output
    assert "broken/design.toml: version: '1.0' is not a semantic version" in result.output
    data = json.loads(runner.invoke(main, ["import", "--json", str(make_design.root)]).output)
    assert data["invalid"] == 1
    assert data["errors"][0]["slug"] == "broken"


def test_validate_writes_nothing(runner, make_design):
    make_design("alpha")
    result = runner.invoke(main, ["validate", str(make_design.root / "alpha")])
    assert result.exit_code == 0
    assert "ok       alpha@1.0.0" in result.output
    assert "the catalogue is empty" in runner.invoke(main, ["list"]).output


def test_validate_invalid(runner, make_design):
    path = make_design("alpha", license="MIT AND")
    result = runner.invoke(main, ["validate", "--json", str(path)])
    assert result.exit_code == 1
    (entry,) = json.loads(result.output)
    assert entry["valid"] is False
    assert "license: 'MIT AND' is not a valid SPDX expression" in entry["errors"][0]


def test_list_and_show(runner, make_design):
    make_design("alpha")
    make_design("beta", derived_from=["alpha@1.0.0"])
    assert runner.invoke(main, ["import", str(make_design.root)]).exit_code == 0
    listing = json.loads(runner.invoke(main, ["list", "--json"]).output)
    assert [(r["slug"], r["license"]) for r in listing] == [("alpha", "CERN-OHL-S-2.0"), ("beta", "CERN-OHL-S-2.0")]
    text = runner.invoke(main, ["list"]).output
    assert "alpha@1.0.0" in text and "beta@1.0.0" in text
    shown = json.loads(runner.invoke(main, ["show", "alpha", "--json"]).output)
    assert shown["derivatives"] == ["beta@1.0.0"]
    assert shown["versions"] == ["1.0.0"]
    text = runner.invoke(main, ["show", "beta@1.0.0"]).output
    assert "derived from: alpha@1.0.0" in text
    assert "width" in text and "[5.0..100.0]" in text


def test_show_unknown(runner):
    result = runner.invoke(main, ["show", "ghost"])
    assert result.exit_code == 1
    assert "error: no design 'ghost' in the catalogue" in result.output


def test_show_unknown_version(runner, make_design):
    make_design("alpha")
    runner.invoke(main, ["import", str(make_design.root)])
    result = runner.invoke(main, ["show", "alpha@9.9.9"])
    assert result.exit_code == 1
    assert "design 'alpha' has no version 9.9.9 (published: 1.0.0)" in result.output


def test_show_bad_reference(runner):
    result = runner.invoke(main, ["show", "alpha@latest"])
    assert result.exit_code == 1
    assert "'latest' is not a semantic version" in result.output
