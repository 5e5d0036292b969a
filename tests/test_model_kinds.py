"""Model kinds in design.toml: detection, explicit override, and each kind's errors."""

from __future__ import annotations

import pytest

from opendesign.errors import ManifestError
from opendesign.manifests import load_design_folder

CQGI_SCRIPT = '''import cadquery as cq

length = 40.0
holes = 2
label = "x"
size = (1, 2)
computed = length * 2

result = cq.Workplane("XY").box(length, 10, 5)
show_object(result, name="body")
'''
BUILD123D_MODULE = '''from build123d import Box


def build(params):
    return Box(params["width"], 10, 5)
'''
STATIC_PART = [{"name": "frame", "material": "PLA", "process": "fdm", "file": "parts/frame.step"}]


def errors_of(path) -> list[str]:
    with pytest.raises(ManifestError) as info:
        load_design_folder(path, display=f"designs/{path.name}")
    return [str(e) for e in info.value.errors]


def _static(make_design, **overrides):
    path = make_design(model=None, parameters=[], presets=[], parts=STATIC_PART, **overrides)
    (path / "parts").mkdir(exist_ok=True)
    (path / "parts" / "frame.step").write_bytes(b"ISO-10303-21;\nEND-ISO-10303-21;\n")
    return path


def _cqgi_params(name="length", type_="float", default=40.0):
    return [{"name": name, "type": type_, "default": default, "min": 1.0, "max": 100.0, "label": "Length"}]


def test_existing_build_module_is_cadquery(make_design):
    assert load_design_folder(make_design()).manifest.kind == "cadquery"


def test_script_with_show_object_is_cqgi(make_design):
    folder = load_design_folder(make_design(model=CQGI_SCRIPT, parameters=_cqgi_params(), presets=[]))
    assert folder.manifest.kind == "cqgi"
    # Stored byte for byte as the author wrote it.
    assert folder.files["model.py"] == CQGI_SCRIPT.encode()


def test_build123d_module_detected_by_its_import(make_design):
    params = [{"name": "width", "type": "float", "default": 20.0, "min": 5.0, "max": 100.0, "label": "Width"}]
    folder = load_design_folder(make_design(model=BUILD123D_MODULE, parameters=params, presets=[]))
    assert folder.manifest.kind == "build123d"


def test_files_without_code_are_static(make_design):
    folder = load_design_folder(_static(make_design))
    assert folder.manifest.kind == "static"
    assert folder.manifest.parts[0].file == "parts/frame.step"
    assert folder.manifest.model_dump(mode="json")["kind"] == "static"


def test_explicit_kind_overrides_detection(make_design):
    errs = errors_of(make_design(kind="cqgi"))
    assert errs == ["designs/test-widget/model.py: kind: design.toml says kind = \"cqgi\" but model.py defines "
                    "build(params) and calls no show_object(): that is kind = \"cadquery\""]


def test_unknown_kind(make_design):
    errs = errors_of(make_design(kind="openscad"))
    assert errs == ["designs/test-widget/design.toml: kind: Input should be 'cadquery', 'cqgi', 'build123d' "
                    "or 'static'"]


def test_build123d_kind_without_build123d_import(make_design):
    errs = errors_of(make_design(kind="build123d"))
    assert errs == ["designs/test-widget/model.py: kind: design.toml says kind = \"build123d\" but model.py "
                    "does not import build123d"]


def test_cqgi_parameter_not_in_script_names_both(make_design):
    errs = errors_of(make_design(model=CQGI_SCRIPT, parameters=_cqgi_params("width"), presets=[]))
    assert errs == ["designs/test-widget/design.toml: parameters[0]: parameter 'width' is not defined in "
                    "model.py (a CQGI parameter is a top-level constant assignment; the script has: "
                    "holes, label, length)"]


@pytest.mark.parametrize("name, what", [("size", "a tuple"), ("computed", "an expression (BinOp)")])
def test_cqgi_parameter_of_a_type_cqgi_cannot_expose(make_design, name, what):
    line = 6 if name == "size" else 7
    errs = errors_of(make_design(model=CQGI_SCRIPT, parameters=_cqgi_params(name), presets=[]))
    assert errs == [f"designs/test-widget/design.toml: parameters[0]: parameter {name!r}: model.py line {line} "
                    f"assigns it {what}, which CQGI cannot expose as a parameter (only a constant int, float, "
                    "bool or str can be)"]


def test_cqgi_parameter_type_mismatch(make_design):
    params = [{"name": "label", "type": "bool", "default": True, "label": "Label"}]
    errs = errors_of(make_design(model=CQGI_SCRIPT, parameters=params, presets=[]))
    assert errs == ["designs/test-widget/design.toml: parameters[0]: parameter 'label' is type 'bool' in "
                    "design.toml but model.py line 5 assigns it a str ('x')"]


def test_cqgi_script_without_output(make_design):
    errs = errors_of(make_design(model="import cadquery as cq\nbox = cq.Workplane().box(1, 1, 1)\n",
                                 kind="cqgi", parameters=[], presets=[]))
    assert errs == ["designs/test-widget/model.py: show_object: a CQGI script must call show_object(...) "
                    "or assign a top-level result"]


def test_static_part_file_missing(make_design):
    path = _static(make_design)
    (path / "parts" / "frame.step").unlink()
    assert errors_of(path) == ["designs/test-widget/design.toml: parts[0].file: 'parts/frame.step' is not a file "
                               "of the design folder (missing, a folder, a symbolic link or ignored)"]


@pytest.mark.parametrize("file", ["../frame.step", "/etc/frame.step", "parts/../../frame.step"])
def test_static_part_file_outside_folder(make_design, file):
    path = _static(make_design)
    text = (path / "design.toml").read_text().replace('"parts/frame.step"', f'"{file}"')
    (path / "design.toml").write_text(text)
    errs = errors_of(path)
    assert len(errs) == 1 and errs[0].startswith(f"designs/test-widget/design.toml: parts[0].file: {file!r} ")


def test_static_part_file_symlink_out_of_folder(make_design, tmp_path):
    path = _static(make_design)
    outside = tmp_path / "secret.step"
    outside.write_bytes(b"ISO-10303-21;\n")
    (path / "parts" / "frame.step").unlink()
    (path / "parts" / "frame.step").symlink_to(outside)
    errs = errors_of(path)
    assert "designs/test-widget/parts/frame.step: symbolic links are not allowed in a design folder" in errs
    assert ("designs/test-widget/design.toml: parts[0].file: 'parts/frame.step' is not a file of the design "
            "folder (missing, a folder, a symbolic link or ignored)") in errs


def test_static_part_file_type(make_design):
    path = _static(make_design)
    text = (path / "design.toml").read_text().replace('"parts/frame.step"', '"parts/frame.dwg"')
    (path / "design.toml").write_text(text)
    assert errors_of(path) == ["designs/test-widget/design.toml: parts[0].file: 'parts/frame.dwg' has an "
                               "unsupported type; a part file must be one of .step, .stp, .stl, .3mf, .obj"]


def test_static_design_has_no_parameters(make_design):
    path = make_design(model=None, kind="static", presets=[], parts=STATIC_PART,
                       extra_files={"frame.step": b"ISO-10303-21;\n"})
    assert errors_of(path) == ["designs/test-widget/design.toml: a static design has no parameters: "
                               "its parts are fixed files"]


def test_part_file_on_a_code_design(make_design):
    parts = [{"name": "body", "material": "PLA", "process": "fdm", "file": "parts/body.stl"}]
    errs = errors_of(make_design(parts=parts, extra_files={}))
    assert errs == ["designs/test-widget/design.toml: kind: part file(s) apply only to kind = \"static\"; "
                    "this design is kind = \"cadquery\" and lists a file for: body (kind 'cadquery' was detected; "
                    "set kind in design.toml if that is wrong)"]
