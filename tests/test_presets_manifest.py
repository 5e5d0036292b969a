"""``[[presets]]`` in design.toml: validated like parameters, every error naming the preset and the field."""

from __future__ import annotations

import json

import pytest

from opendesign.catalogue.importer import import_designs
from opendesign.errors import ManifestError
from opendesign.manifests import load_design_folder
from opendesign.models import DesignVersion

FILE = "designs/test-widget/design.toml"


def errors_of(path) -> list[str]:
    with pytest.raises(ManifestError) as info:
        load_design_folder(path, display=f"designs/{path.name}")
    return [str(e) for e in info.value.errors]


def preset(name="Wide", values=None, **extra) -> dict:
    return {"name": name, "values": {"width": 60.0} if values is None else values, **extra}


def test_valid_presets_load(make_design):
    folder = load_design_folder(make_design(presets=[
        preset("Wide", {"width": 60.0, "holes": 4}, description="For the big shelf."),
        preset("Glossy", {"finish": "gloss", "rounded": False})]))
    assert [(p.name, p.description) for p in folder.manifest.presets] == [("Wide", "For the big shelf."),
                                                                          ("Glossy", "")]


def test_unknown_parameter_names_preset_and_field(make_design):
    errs = errors_of(make_design(presets=[preset("Wide"), preset("Tall", {"height": 40.0})]))
    assert errs == [f"{FILE}: presets[1].values.height: preset 'Tall': unknown parameter "
                    "(this design has: finish, holes, rounded, width)"]


def test_out_of_range_value_names_preset_and_field(make_design):
    errs = errors_of(make_design(presets=[preset("Huge", {"width": 500.0})]))
    assert errs == [f"{FILE}: presets[0].values.width: preset 'Huge': must be at most 100 (got 500)"]
    errs = errors_of(make_design(presets=[preset("Tiny", {"holes": -1})]))
    assert errs == [f"{FILE}: presets[0].values.holes: preset 'Tiny': must be at least 0 (got -1)"]


def test_off_step_and_bad_choice(make_design):
    errs = errors_of(make_design(presets=[preset("Odd", {"width": 20.3, "finish": "satin"})]))
    assert f"{FILE}: presets[0].values.width: preset 'Odd': 20.3 is not a multiple of the step 0.5 from 5" in errs
    assert f"{FILE}: presets[0].values.finish: preset 'Odd': must be one of matte, gloss (got 'satin')" in errs


@pytest.mark.parametrize(("values", "reason"), [
    ({"width": "60"}, "must be a number for this float parameter, not '60'"),
    ({"holes": 2.5}, "must be a whole number for this int parameter, not 2.5"),
    ({"holes": True}, "must be a whole number for this int parameter, not True"),
    ({"rounded": 1}, "must be true or false for this bool parameter, not 1"),
    ({"finish": ["gloss"]}, "must be a string for this choice parameter, not list"),
])
def test_values_must_have_the_parameter_type(make_design, values, reason):
    name = next(iter(values))
    errs = errors_of(make_design(presets=[preset("Typed", values)]))
    assert errs == [f"{FILE}: presets[0].values.{name}: preset 'Typed': {reason}"]


def test_every_problem_is_reported_at_once(make_design):
    errs = errors_of(make_design(presets=[preset("A", {"width": 1.0}), preset("B", {"nope": 1})]))
    assert [e.split(": ")[1] for e in errs] == ["presets[0].values.width", "presets[1].values.nope"]


def test_empty_values_duplicate_names_and_unknown_fields(make_design):
    errs = errors_of(make_design(presets=[preset("Nothing", {})]))
    assert errs == [f"{FILE}: presets[0].values: preset 'Nothing' sets no parameter; give at least one value "
                    "(the defaults are always offered)"]
    errs = errors_of(make_design(presets=[preset("Wide"), preset("Wide", {"holes": 3})]))
    assert errs == [f"{FILE}: presets: names must be unique; repeated: Wide"]
    errs = errors_of(make_design(presets=[preset("Wide", colour="red")]))
    assert errs[0].startswith(f"{FILE}: presets[0].colour: unknown field")
    errs = errors_of(make_design(presets=[{"values": {"width": 30.0}}]))
    assert errs == [f"{FILE}: presets[0].name: field required"]


def test_presets_reach_the_catalogue_and_the_cli(db, runner, make_design):
    from opendesign.cli import main

    report = import_designs(db, [str(make_design(presets=[preset("Wide", {"width": 60}, description="Big.")]))])
    assert report.ok, report.as_dict()
    with db.session() as s:
        stored = s.query(DesignVersion).one().manifest["presets"]
    assert stored == [{"name": "Wide", "description": "Big.", "values": {"width": 60}}]
    result = runner.invoke(main, ["show", "test-widget", "--json"])
    assert result.exit_code == 0, result.output
    (shown,) = json.loads(result.output)["presets"]
    assert shown["changes"] == {"width": 60.0}
    assert shown["values"] == {"width": 60.0, "holes": 2, "rounded": True, "finish": "matte"}
    text = runner.invoke(main, ["show", "test-widget"]).output
    assert "presets:\n  Wide                 width=60.0  — Big." in text


def test_invalid_preset_is_not_imported(db, make_design):
    report = import_designs(db, [str(make_design(presets=[preset("Huge", {"width": 500.0})]))])
    assert not report.ok
    assert "presets[0].values.width: preset 'Huge': must be at most 100" in report.results[0].errors[0]
    with db.session() as s:
        assert s.query(DesignVersion).count() == 0
