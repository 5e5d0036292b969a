"""``opendesign render`` and ``opendesign doctor``."""

from __future__ import annotations

import hashlib
import json

import pytest

from opendesign.catalogue.importer import import_designs
from opendesign.cli import main
from opendesign.config import load_settings
from renderers.pool import WarmPool

BROKEN = "import cadquery as cq\n\n\ndef build(params):\n    raise ValueError('bore larger than the gear')\n"


@pytest.fixture(scope="module")
def shared_pool(tmp_path_factory):
    settings = load_settings(environ={}, home=str(tmp_path_factory.mktemp("cli-pool")), render_pool_size=2,
                             render_timeout=60)
    pool = WarmPool(settings)
    yield pool
    pool.close()


@pytest.fixture
def cli(runner, db, make_design, shared_pool, monkeypatch):
    """Run the CLI against this test's catalogue, rendering in the shared pool."""
    import renderers.pool
    import renderers.service

    monkeypatch.setattr(renderers.service, "get_pool", lambda settings: shared_pool)
    monkeypatch.setattr(renderers.pool, "get_pool", lambda settings: shared_pool)
    make_design("widget")
    make_design("broken-widget", model=BROKEN)
    assert import_designs(db, [make_design.root]).ok

    def run(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


def test_render_prints_every_fact(cli):
    result = cli("render", "widget", "-p", "width=30", "-f", "stl", "-f", "glb")
    assert result.exit_code == 0, result.output
    for word in ("widget@1.0.0", "path", "bytes", "sha256", "triangles", "watertight", "yes", "volume",
                 "1500 mm³", "bbox", "seconds", "cache", "miss", " glb "):
        assert word in result.output
    again = cli("render", "widget@1.0.0", "-p", "width=30")
    assert again.exit_code == 0 and "hit" in again.output


def test_render_json(cli):
    result = cli("render", "widget", "-f", "step", "--quality", "draft", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is True
    (artifact,) = data["artifacts"]
    assert artifact["format"] == "step" and artifact["quality"] == "draft" and artifact["cache"] == "miss"
    assert {"path", "bytes", "sha256", "triangles", "watertight", "volume", "bbox", "seconds"} <= set(artifact)
    with open(artifact["path"], "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == artifact["sha256"]


def test_render_output_file_and_folder(cli, tmp_path):
    target = tmp_path / "out.stl"
    result = cli("render", "widget", "-o", str(target), "--json")
    assert result.exit_code == 0, result.output
    (artifact,) = json.loads(result.stdout)["artifacts"]
    assert artifact["path"] == str(target.resolve())
    assert hashlib.sha256(target.read_bytes()).hexdigest() == artifact["sha256"]
    folder = tmp_path / "files"
    result = cli("render", "widget", "-f", "stl", "-f", "3mf", "-o", str(folder))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == ["widget-1.0.0.3mf", "widget-1.0.0.stl"]


def test_bad_parameters_exit_non_zero_naming_them(cli):
    result = cli("render", "widget", "-p", "width=nan", "-p", "colour=red")
    assert result.exit_code == 1
    assert "invalid-params" in result.stderr and "width" in result.stderr and "colour" in result.stderr
    result = cli("render", "widget", "-p", "width", "--json")
    assert result.exit_code == 2 and "NAME=VALUE" in result.output
    result = cli("render", "widget", "-p", "width=1e308", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["fields"]["width"]


def test_script_errors_exit_non_zero_with_the_traceback(cli):
    result = cli("render", "broken-widget")
    assert result.exit_code == 1
    assert "script-error" in result.stderr
    assert "ValueError: bore larger than the gear" in result.stderr
    assert 'File "model.py", line 5, in build' in result.stderr


def test_render_all_reports_each_design(cli):
    result = cli("render", "--all")
    assert result.exit_code == 1
    assert "ok    widget@1.0.0" in result.output
    assert "FAIL  broken-widget@1.0.0" in result.output and "script-error" in result.output
    assert "1 rendered, 1 failed" in result.output
    data = json.loads(cli("render", "--all", "--json").stdout)
    assert {d["ref"]: d["ok"] for d in data["designs"]} == {"broken-widget@1.0.0": False, "widget@1.0.0": True}


def test_render_needs_a_design(cli):
    assert cli("render").exit_code == 2
    assert cli("render", "widget", "--all").exit_code == 2
    result = cli("render", "no-such-design")
    assert result.exit_code == 1 and "no-such-design" in result.stderr


def test_doctor(cli):
    result = cli("doctor", "--json", "--no-probe")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["versions"]["cadquery"] and report["versions"]["ocp"]
    assert report["sandbox"]["mode"] in ("bwrap", "bwrap-userns", "none")
    assert report["limits"]["memory_mb"] >= 2048 and report["pool_size"] >= 1
    assert "probe" not in report
    result = cli("doctor", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["probe"]["ok"] is True
    text = cli("doctor", "--no-probe").output
    for word in ("cadquery", "OCP", "bwrap", "sandbox", "pool size", "limits", "cache"):
        assert word in text


def test_rendered_files_carry_their_provenance(cli, tmp_path):
    """A single download from the catalogue says where it comes from, in every mesh and CAD format."""
    from renderers.provenance import read_provenance

    result = cli("render", "widget", "-p", "width=30", "-f", "stl", "-f", "3mf", "-f", "glb", "-f", "step",
                 "--quality", "draft", "--json")
    assert result.exit_code == 0, result.output
    artifacts = json.loads(result.stdout)["artifacts"]
    assert {a["format"] for a in artifacts} == {"stl", "3mf", "glb", "step"}
    for artifact in artifacts:
        prov = read_provenance(artifact["path"])
        assert (prov["slug"], prov["version"], prov["license"]) == ("widget", "1.0.0", "CERN-OHL-S-2.0"), artifact
        if artifact["format"] != "stl":  # the 80-byte STL header has room for slug@version and license only
            assert prov["parameters"]["width"] == 30
    default = json.loads(cli("render", "widget", "-f", "glb", "--quality", "draft", "--json").stdout)["artifacts"][0]
    assert not read_provenance(default["path"]).get("parameters")
