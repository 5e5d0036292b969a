"""The lenient parsers of OKH values: what they understand, and the reason when they had to guess."""

from __future__ import annotations

import pytest

from opendesign.okh import values


@pytest.mark.parametrize("raw, expected", [
    ("cube(size = [275,125,105])", {"width": 275.0, "depth": 125.0, "height": 105.0}),
    ("cube([10, 20.5, 3], center=true)", {"width": 10.0, "depth": 20.5, "height": 3.0}),
    ({"openSCAD": "cube(size = [1,2,3])", "unit": "cm"}, {"width": 10.0, "depth": 20.0, "height": 30.0}),
    ({"width": 60, "depth": 40, "height": 8}, {"width": 60.0, "depth": 40.0, "height": 8.0}),
    ([1, 2, 3], {"width": 1.0, "depth": 2.0, "height": 3.0}),
])
def test_dimensions_understood(raw, expected):
    assert values.dimensions(raw) == (expected, None)


@pytest.mark.parametrize("raw, reason", [
    ("sphere(r = 3)", "'sphere(r = 3)' is neither a table nor an OpenSCAD cube(size = [x, y, z])"),
    ("cube(size = [1, 2])", "needs exactly three extents: width, depth and height"),
    ({"width": 1, "depth": 2}, "needs width, depth and height (in mm) or an OpenSCAD cube(size = [...])"),
    ({"openSCAD": "cube([1,2,3])", "unit": "furlong"}, "unit 'furlong' is not a length unit (mm, cm, m, in)"),
    ([1, -2, 3], "-2 is not a positive number"),
    ([1, float("nan"), 3], "nan is not a positive number"),
])
def test_dimensions_refused_with_reason(raw, reason):
    assert values.dimensions(raw) == (None, reason)


@pytest.mark.parametrize("raw, expected", [
    (1200, (1200.0, None)),
    ("1.2 kg", (1200.0, "'1.2 kg' read as 1200.0 g (OKH-LOSH gives mass as a number of grams)")),
    ("heavy", (None, "'heavy' is not a mass (a number of grams)")),
    (-3, (None, "-3 is not a positive mass")),
])
def test_mass(raw, expected):
    assert values.mass(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("1.0.0", ("1.0.0", None)),
    ("v2.1.0", ("2.1.0", "'v2.1.0' read as 2.1.0")),
    ("1.2", ("1.2.0", "'1.2' is not a semantic version; imported as 1.2.0")),
    (3, ("3.0.0", "'3' is not a semantic version; imported as 3.0.0")),
    ("beta", ("0.1.0", "'beta' is not a version; imported as 0.1.0")),
    (None, ("0.1.0", "missing; imported as 0.1.0")),
])
def test_semantic_version(raw, expected):
    assert values.semantic_version(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("OTRL-4", ("OTRL-4", None)),
    ("OTLR-5", ("OTRL-5", "'OTLR-5' read as OTRL-5")),
    (6, ("OTRL-6", "'6' read as OTRL-6")),
    ("OTRL-9", (None, "'OTRL-9' is not a readiness level (OTRL-1, OTRL-2, OTRL-3, OTRL-4, OTRL-5, OTRL-6, OTRL-7, "
                      "OTRL-8)")),
])
def test_technology_readiness(raw, expected):
    assert values.readiness(raw, values.TECHNOLOGY_LEVELS, "OTRL") == expected


def test_documentation_readiness_keeps_the_star():
    assert values.readiness("ODRL-3*", values.DOCUMENTATION_LEVELS, "ODRL") == ("ODRL-3*", None)
    assert values.readiness("odrl 2*", values.DOCUMENTATION_LEVELS, "ODRL") == ("ODRL-2*", "'odrl 2*' read as ODRL-2*")


@pytest.mark.parametrize("raw, expected", [
    ("Jane Doe <jane@example.org>", {"name": "Jane Doe", "contact": "jane@example.org"}),
    ({"name": "Pump Co", "email": "p@example.org"}, {"name": "Pump Co", "contact": "p@example.org"}),
    ("Just A Name", {"name": "Just A Name"}),
])
def test_person(raw, expected):
    assert values.person(raw) == (expected, None)


def test_slug_and_identifier():
    assert values.slugify("Pedal-Powered Grain Mill (v2)!") == "pedal-powered-grain-mill-v2"
    assert values.slugify("X") == "okh-x"
    assert len(values.slugify("a" * 200)) == 64
    assert values.identifier("Burr Housing #2") == "burr_housing_2"
    assert values.identifier("3D frame") == "part_3d_frame"
