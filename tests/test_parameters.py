"""Parameter validation and canonical forms (opendesign.parameters)."""

from __future__ import annotations

import json
import math

import pytest

from opendesign.errors import OpenDesignError
from opendesign.manifests.schema import ParameterSpec
from opendesign.parameters import ParameterError, canonical_json, canonicalise, defaults


def spec(**kw) -> ParameterSpec:
    kw.setdefault("label", kw["name"].title())
    return ParameterSpec(**kw)


SPECS = [
    spec(name="width", type="float", default=20.0, min=5.0, max=100.0, step=0.5),
    spec(name="holes", type="int", default=2, min=0, max=6),
    spec(name="rounded", type="bool", default=True),
    spec(name="finish", type="choice", default="matte", choices=["matte", "gloss"]),
    spec(name="angle", type="float", default=0.0),
]


def refused(values: dict) -> dict[str, str]:
    with pytest.raises(ParameterError) as info:
        canonicalise(SPECS, values)
    assert isinstance(info.value, OpenDesignError)
    return info.value.errors


def test_defaults_fill_every_parameter():
    assert defaults(SPECS) == {"width": 20.0, "holes": 2, "rounded": True, "finish": "matte", "angle": 0.0}
    assert canonicalise(SPECS, None) == canonicalise(SPECS, {})


def test_strings_from_the_command_line_are_parsed():
    got = canonicalise(SPECS, {"width": "12.5", "holes": "3", "rounded": "false", "finish": "gloss",
                               "angle": " -1e1 "})
    assert got == {"width": 12.5, "holes": 3, "rounded": False, "finish": "gloss", "angle": -10.0}
    assert type(got["holes"]) is int and type(got["width"]) is float


@pytest.mark.parametrize("text,value", [("true", True), ("TRUE", True), ("1", True), ("yes", True), ("on", True),
                                        ("false", False), ("0", False), ("No", False), ("off", False)])
def test_bool_spellings(text, value):
    assert canonicalise(SPECS, {"rounded": text})["rounded"] is value


def test_equal_values_give_the_same_key():
    a = canonicalise(SPECS, {"width": 0.1 + 0.2 + 12.2, "angle": -0.0, "holes": 3.0})
    b = canonicalise(SPECS, {"width": "12.5", "angle": "0", "holes": "3"})
    assert a == b
    assert canonical_json(a) == canonical_json(b)
    assert canonical_json(a) == json.dumps(json.loads(canonical_json(a)), sort_keys=True, separators=(",", ":"))
    assert "-0.0" not in canonical_json(a)


def test_canonical_json_is_order_independent():
    a = canonicalise(SPECS, {"holes": 1, "width": 10})
    b = canonicalise(SPECS, {"width": 10, "holes": 1})
    assert canonical_json(a) == canonical_json(b)


def test_floats_are_rounded_to_nine_significant_digits():
    got = canonicalise(SPECS, {"angle": 1.23456789123})
    assert got["angle"] == 1.23456789


@pytest.mark.parametrize("value", [float("nan"), "nan", "NaN", float("inf"), "-inf", "Infinity", "1e400"])
def test_non_finite_numbers_are_refused(value):
    assert "finite" in refused({"angle": value})["angle"] or "number" in refused({"angle": value})["angle"]


@pytest.mark.parametrize("value", [1e308, "1e308", -1e300, 10**30])
def test_overflowing_magnitudes_are_refused(value):
    assert "out of range" in refused({"angle": value})["angle"]


def test_bounds():
    assert "at least 5" in refused({"width": 4.5})["width"]
    assert "at most 100" in refused({"width": "100.5"})["width"]
    assert canonicalise(SPECS, {"width": 100})["width"] == 100.0


def test_steps_are_relative_to_min_with_tolerance():
    s = [spec(name="t", type="float", default=1.0, min=0.2, max=10.0, step=0.4)]
    assert canonicalise(s, {"t": 0.6})["t"] == 0.6
    assert canonicalise(s, {"t": 0.2 + 0.4 * 7})["t"] == 3.0  # 2.9999999999999996 snaps onto the grid
    with pytest.raises(ParameterError) as info:
        canonicalise(s, {"t": 0.5})
    assert "step 0.4" in info.value.errors["t"]


def test_an_off_grid_default_is_still_accepted():
    s = [spec(name="t", type="float", default=1.25, min=0.0, max=10.0, step=0.5)]
    assert canonicalise(s, {})["t"] == 1.25
    assert canonicalise(s, {"t": "1.25"})["t"] == 1.25


def test_int_type():
    assert "whole number" in refused({"holes": 2.5})["holes"]
    assert "whole number" in refused({"holes": "2.5"})["holes"]
    assert canonicalise(SPECS, {"holes": "4.0"})["holes"] == 4


@pytest.mark.parametrize("value", [True, None, [1], {"a": 1}, "", "12abc", "0x10", "1_000", "١٢"])
def test_wrong_types_are_refused(value):
    assert "number" in refused({"width": value})["width"]


def test_choices_and_bools_refuse_other_values():
    errors = refused({"finish": "shiny", "rounded": "maybe"})
    assert "one of matte, gloss" in errors["finish"]
    assert "true or false" in errors["rounded"]
    assert "one of" in refused({"finish": 1})["finish"]


def test_unknown_names_are_refused_with_the_known_ones():
    errors = refused({"widht": 10})
    assert "unknown parameter" in errors["widht"] and "width" in errors["widht"]


def test_every_problem_is_reported_at_once():
    with pytest.raises(ParameterError) as info:
        canonicalise(SPECS, {"width": "wide", "holes": 99, "nope": 1})
    assert set(info.value.errors) == {"width", "holes", "nope"}
    message = str(info.value)
    assert "width:" in message and "holes:" in message and "nope:" in message


def test_long_strings_are_refused_cheaply():
    assert "number" in refused({"width": "9" * 100_000})["width"]


def test_parameter_rows_work_as_specs(db, make_design):
    from opendesign.catalogue import queries
    from opendesign.catalogue.importer import import_designs

    make_design("alpha")
    import_designs(db, [make_design.root])
    with db.session() as s:
        version = queries.get_version(s, "alpha")
        got = canonicalise(version.parameters, {"width": "30", "holes": "1"})
    assert got == {"width": 30.0, "holes": 1, "rounded": True, "finish": "matte"}
    assert not math.isnan(got["width"])
