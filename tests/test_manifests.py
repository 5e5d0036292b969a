"""Design folder validation: every bad input names the file, the field and the reason."""

from __future__ import annotations

import pytest

from opendesign.errors import ManifestError
from opendesign.manifests import content_hash, load_design_folder


def errors_of(path) -> list[str]:
    with pytest.raises(ManifestError) as info:
        load_design_folder(path, display=f"designs/{path.name}")
    return [str(e) for e in info.value.errors]


def test_valid_folder_loads(make_design):
    folder = load_design_folder(make_design())
    assert folder.slug == "test-widget"
    assert folder.manifest.license == "CERN-OHL-S-2.0"
    assert [p.name for p in folder.manifest.parameters] == ["width", "holes", "rounded", "finish"]
    assert len(folder.content_hash) == 64
    assert set(folder.files) == {"design.toml", "model.py", "README.md"}


def test_license_expression_is_normalised(make_design):
    folder = load_design_folder(make_design(license="mit OR cern-ohl-s-2.0"))
    assert folder.manifest.license == "MIT OR CERN-OHL-S-2.0"


def test_malformed_toml(make_design):
    errs = errors_of(make_design(raw_toml='slug = "test-widget"\ntitle = \n'))
    assert len(errs) == 1
    assert errs[0].startswith("designs/test-widget/design.toml: line 2: is not valid TOML")


def test_missing_field(make_design):
    path = make_design()
    text = (path / "design.toml").read_text().replace('summary = "A small parametric test part used by the test suite."\n', "")
    (path / "design.toml").write_text(text)
    assert "designs/test-widget/design.toml: summary: field required" in errors_of(path)


def test_unknown_field_is_a_typo(make_design):
    errs = errors_of(make_design(licence="MIT"))
    assert any(e.startswith("designs/test-widget/design.toml: licence: unknown field") for e in errs)


def test_unknown_nested_field(make_design):
    parts = [{"name": "body", "material": "PLA", "process": "fdm", "quantity": 1, "colour": "red"}]
    errs = errors_of(make_design(parts=parts))
    assert any(e.startswith("designs/test-widget/design.toml: parts[0].colour: unknown field") for e in errs)


def test_slug_must_match_folder(make_design):
    errs = errors_of(make_design("other-name", folder="test-widget"))
    assert "designs/test-widget/design.toml: slug: 'other-name' must equal the folder name 'test-widget'" in errs


def test_version_must_be_semver(make_design):
    errs = errors_of(make_design(version="1.0"))
    assert any(e.startswith("designs/test-widget/design.toml: version: '1.0' is not a semantic version") for e in errs)


def _params(**changes):
    base = {"name": "width", "type": "float", "default": 20.0, "min": 5.0, "max": 100.0, "label": "Width"}
    base.update(changes)
    return [{"name": "a", "type": "int", "default": 1, "label": "A"},
            {"name": "b", "type": "int", "default": 1, "label": "B"}, base]


def test_default_outside_bounds(make_design):
    errs = errors_of(make_design(parameters=_params(default=500.0)))
    assert "designs/test-widget/design.toml: parameters[2]: default 500.0 is above max 100.0" in errs


def test_min_greater_than_max(make_design):
    errs = errors_of(make_design(parameters=_params(min=200.0, max=100.0, default=150.0)))
    assert "designs/test-widget/design.toml: parameters[2]: max must be greater than min (200.0)" in errs


def test_choice_default_not_among_choices(make_design):
    params = [{"name": "finish", "type": "choice", "default": "shiny", "choices": ["matte", "gloss"], "label": "F"}]
    errs = errors_of(make_design(parameters=params))
    assert ("designs/test-widget/design.toml: parameters[0]: default 'shiny' is not one of the choices "
            "['matte', 'gloss']") in errs


def test_unknown_parameter_type(make_design):
    params = [{"name": "x", "type": "string", "default": "a", "label": "X"}]
    errs = errors_of(make_design(parameters=params))
    assert any(e.startswith("designs/test-widget/design.toml: parameters[0].type:") for e in errs)


def test_invalid_spdx_expression(make_design):
    errs = errors_of(make_design(license="MIT AND"))
    assert any(e.startswith("designs/test-widget/design.toml: license: 'MIT AND' is not a valid SPDX expression")
               for e in errs)


def test_unknown_license_ref(make_design):
    errs = errors_of(make_design(license="LicenseRef-Mine"))
    assert any(e.startswith("designs/test-widget/design.toml: license: unknown license: LicenseRef-Mine "
                            "(not in the project's license registry") for e in errs)


def test_unknown_category(make_design):
    errs = errors_of(make_design(category="space"))
    assert any(e.startswith("designs/test-widget/design.toml: category:") for e in errs)


def test_bad_derived_from_reference(make_design):
    errs = errors_of(make_design(derived_from=["solar-dryer"]))
    assert any("derived_from: 'solar-dryer' must be 'slug@version'" in e for e in errs)


def test_missing_model(make_design):
    assert "designs/test-widget/model.py: file is missing" in errors_of(make_design(model=None))


def test_model_without_build(make_design):
    errs = errors_of(make_design(model="import cadquery as cq\n\ndef make(p):\n    return None\n"))
    assert "designs/test-widget/model.py: build: model.py must define a top-level function build(params)" in errs


def test_model_syntax_error(make_design):
    errs = errors_of(make_design(model="def build(params):\n    return (\n"))
    assert any(e.startswith("designs/test-widget/model.py: line ") and "syntax error" in e for e in errs)


def test_model_forbidden_import(make_design):
    # The standard library passes this early check; the sandbox, not the parser, stops network use.
    load_design_folder(make_design(model="import socket\n\ndef build(params):\n    return None\n"))
    errs = errors_of(make_design(model="import requests\n\ndef build(params):\n    return None\n"))
    assert ("designs/test-widget/model.py: line 1: imports 'requests'; model.py may import only cadquery, math "
            "and the standard library") in errs


def test_missing_readme(make_design):
    assert "designs/test-widget/README.md: file is missing" in errors_of(make_design(readme=None))


def test_every_problem_is_reported_at_once(make_design):
    errs = errors_of(make_design(version="one", license="MIT AND", model=None))
    assert len(errs) >= 3


def test_bom_csv(make_design):
    csv = b"item,quantity,unit,note\nM4 bolt,8,pcs,stainless\nPlywood 12mm,0.5,m2,\n"
    folder = load_design_folder(make_design(bom=[], extra_files={"bom.csv": csv}))
    assert [(b.item, b.quantity, b.unit) for b in folder.bom] == [("M4 bolt", 8, "pcs"), ("Plywood 12mm", 0.5, "m2")]


def test_bom_given_twice(make_design):
    errs = errors_of(make_design(extra_files={"bom.csv": b"item,quantity\nbolt,1\n"}))
    assert any("bom: give the BOM either in design.toml or in bom.csv, not both" in e for e in errs)


def test_bom_csv_bad_row(make_design):
    errs = errors_of(make_design(bom=[], extra_files={"bom.csv": b"item,quantity\nbolt,many\n"}))
    assert any(e.startswith("designs/test-widget/bom.csv: row 2:") for e in errs)


def test_symlink_in_folder_refused(make_design, tmp_path):
    path = make_design()
    secret = tmp_path / "secret.txt"
    secret.write_text("x")
    (path / "notes.txt").symlink_to(secret)
    assert "designs/test-widget/notes.txt: symbolic links are not allowed in a design folder" in errors_of(path)


def test_content_hash_depends_on_names_and_bytes():
    a = content_hash({"a.txt": b"1", "b.txt": b"2"})
    assert a == content_hash({"b.txt": b"2", "a.txt": b"1"})
    assert a != content_hash({"a.txt": b"2", "b.txt": b"1"})
    assert a != content_hash({"a.txt": b"1", "c.txt": b"2"})


def test_editor_litter_is_not_content(make_design):
    path = make_design()
    before = load_design_folder(path).content_hash
    (path / "__pycache__").mkdir()
    (path / "__pycache__" / "model.cpython-311.pyc").write_bytes(b"junk")
    (path / ".DS_Store").write_bytes(b"junk")
    assert load_design_folder(path).content_hash == before
