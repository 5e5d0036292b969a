"""``opendesign init``: a reviewed-by-a-person design.toml draft beside a script or part files."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from opendesign.cli import main
from opendesign.errors import ManifestError
from opendesign.manifests import load_design_folder
from opendesign.manifests.draft import suggest_bounds

SEEDS = Path(__file__).resolve().parent.parent / "designs"
SCRIPT = '''import cadquery as cq

length = 40.0
count = 3
hollow = False
finish = "matte"
corner = (1, 2)
total = length * 2

show_object(cq.Workplane().box(length, 5, 5), name="Left Rail")
show_object(cq.Workplane().box(5, 5, 5), options={"name": "cap"})
'''


def _folder(tmp_path, name="rail-kit", files: dict[str, bytes] | None = None) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for rel, data in (files or {}).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    return folder


def _errors(folder: Path) -> list[str]:
    with pytest.raises(ManifestError) as info:
        load_design_folder(folder)
    return [str(e) for e in info.value.errors]


def test_init_a_cqgi_script(tmp_path):
    folder = _folder(tmp_path, files={"model.py": SCRIPT.encode(), "README.md": b"# Rail kit\n\nA kit.\n"})
    result = CliRunner().invoke(main, ["init", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["kind"] == "cqgi" and report["slug"] == "rail-kit"
    draft = tomllib.loads((folder / "design.toml").read_text())
    assert draft["title"] == "Rail kit"
    params = {p["name"]: p for p in draft["parameters"]}
    assert params["length"] == {"name": "length", "label": "Length", "type": "float", "default": 40.0, "min": 10.0,
                                "max": 160.0, "step": 1.0}
    assert params["count"]["type"] == "int" and (params["count"]["min"], params["count"]["max"]) == (1, 12)
    assert params["hollow"] == {"name": "hollow", "label": "Hollow", "type": "bool", "default": False}
    assert params["finish"]["type"] == "choice" and params["finish"]["choices"] == ["matte"]
    # A tuple is named as not exposable; a computed value is the script's working, not a parameter.
    assert set(params) == {"length", "count", "hollow", "finish"}
    assert any("corner (line 7: a tuple" in t for t in report["todo"])
    assert [p["name"] for p in draft["parts"]] == ["left_rail", "cap"]
    # The only thing validation refuses is the license placeholder.
    assert _errors(folder) == [f"{folder}/design.toml: license: unknown license: CHOOSE-A-LICENSE "
                               "(not an SPDX license identifier)"]
    text = (folder / "design.toml").read_text().replace('"CHOOSE-A-LICENSE"', '"CERN-OHL-S-2.0"')
    (folder / "design.toml").write_text(text)
    assert load_design_folder(folder).manifest.kind == "cqgi"


def test_init_part_files(tmp_path):
    stl = (SEEDS / "bucket-filter-bulkhead" / "parts" / "bulkhead.stl").read_bytes()
    step = (SEEDS / "pallet-compost-bin-corner" / "parts" / "corner-bracket.step").read_bytes()
    folder = _folder(tmp_path, "mixed-kit", {"parts/bulkhead.stl": stl, "frame.STEP": step,
                                             "README.md": b"# Mixed kit\n\ntext\n"})
    result = CliRunner().invoke(main, ["init", str(folder)])
    assert result.exit_code == 0, result.output
    assert "kind static" in result.output
    draft = tomllib.loads((folder / "design.toml").read_text())
    assert draft["kind"] == "static" and "parameters" not in draft
    assert [(p["name"], p["file"], p["process"]) for p in draft["parts"]] == [
        ("frame", "frame.STEP", "cnc"), ("bulkhead", "parts/bulkhead.stl", "fdm")]
    assert _errors(folder) == [f"{folder}/design.toml: license: unknown license: CHOOSE-A-LICENSE "
                               "(not an SPDX license identifier)"]


def test_init_never_overwrites(tmp_path):
    folder = _folder(tmp_path, files={"model.py": SCRIPT.encode(), "design.toml": b"# mine\n"})
    result = CliRunner().invoke(main, ["init", str(folder)])
    assert result.exit_code == 1
    assert f"error: {folder}/design.toml: already exists; init never overwrites a design.toml" in result.output
    assert (folder / "design.toml").read_bytes() == b"# mine\n"


def test_init_a_script_not_named_model_py(tmp_path):
    folder = _folder(tmp_path, files={"rail.py": SCRIPT.encode()})
    result = CliRunner().invoke(main, ["init", str(folder / "rail.py")])
    assert result.exit_code == 1
    assert "the catalogue runs a design's script as model.py; rename rail.py to model.py" in result.output
    assert not (folder / "design.toml").exists()


def test_init_an_empty_folder(tmp_path):
    folder = _folder(tmp_path, files={"notes.txt": b"x"})
    result = CliRunner().invoke(main, ["init", str(folder)])
    assert result.exit_code == 1 and "holds neither model.py nor a part file" in result.output


def test_init_on_a_seed_script_round_trips(tmp_path):
    folder = tmp_path / "rain-barrel-overflow-adapter"
    shutil.copytree(SEEDS / folder.name, folder)
    (folder / "design.toml").unlink()
    assert CliRunner().invoke(main, ["init", str(folder)]).exit_code == 0
    draft = tomllib.loads((folder / "design.toml").read_text())
    assert [p["name"] for p in draft["parts"]] == ["spout", "lock_ring"]
    assert "hole_diameter" in {p["name"] for p in draft["parameters"]}


@pytest.mark.parametrize("value, kind, bounds", [
    (40.0, "float", {"min": 10.0, "max": 160.0, "step": 1.0}),
    (0.5, "float", {"min": 0.125, "max": 2.0, "step": 0.01}),
    (-8.0, "float", {"min": -32.0, "max": -2.0, "step": 0.1}),
    (0, "int", {"min": 0, "max": 10, "step": 1}),
    (6, "int", {"min": 1, "max": 24, "step": 1}),
])
def test_suggested_bounds(value, kind, bounds):
    assert suggest_bounds(value, kind) == bounds
