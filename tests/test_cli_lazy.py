"""The lazily loaded CLI: every registered command reachable, help without imports, a light start."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from opendesign.cli import main, registry
from opendesign.cli.lazy import CommandRegistrationError, load_command, short_help_from_source

from .conftest import REPO

COMMANDS = registry.project().commands

#: Modules a start that only prints help or the version must never import.
HEAVY = ("cadquery", "OCP", "sqlalchemy", "flask", "pydantic", "numpy", "trimesh", "whoosh", "renderers", "web")
#: Packages of the environment that a search of an existing embedded catalogue has no use for. (It does need
#: numpy, Whoosh and pydantic: the evaluator, the index and the settings; see benchmarks/cli_start.py.)
SEARCH_NEVER = ("cadquery", "OCP", "build123d", "vtk", "casadi", "ezdxf", "matplotlib", "trimesh", "networkx", "lxml",
                "sqlalchemy", "psycopg", "flask", "werkzeug", "jinja2", "celery", "redis", "pydantic_settings",
                "renderers", "web")
#: Whoosh's writing and its own collecting and sorting: the query path evaluates with opendesign.search.engine.
WHOOSH_UNUSED_BY_SEARCH = ("whoosh.writing", "whoosh.collectors", "whoosh.sorting", "whoosh.spelling",
                           "whoosh.multiproc")


def _walk(cmd: click.Command, path: tuple[str, ...]):
    yield path, cmd
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd, info_name=path[-1])
        for name in cmd.list_commands(ctx):
            yield from _walk(cmd.get_command(ctx, name), (*path, name))


def test_the_registry_is_the_checkouts_pyproject():
    found = registry.project()
    assert found.source == str(REPO / "pyproject.toml")
    # the core, the render layer and the web layer each register their own commands
    assert {"import", "search", "render", "bundle", "serve"} <= set(found.commands)
    assert found.commands["serve"].startswith("web.cli.")
    assert found.commands["render"].startswith("renderers.cli.")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_registered_command_loads_under_its_own_name(name):
    cmd = load_command(name, COMMANDS[name])
    assert cmd.name == name  # what usage lines and error messages print


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_of_every_command_and_subcommand(name):
    runner = CliRunner()
    for path, cmd in _walk(load_command(name, COMMANDS[name]), (name,)):
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert f"Usage: main {' '.join(path)}" in result.output
        if cmd.help:
            first_words = " ".join(cmd.help.split()[:3])
            assert first_words in " ".join(result.output.split()), (path, result.output)


@pytest.mark.parametrize("limit", [20, 45, 61, 200])
def test_help_read_from_source_is_what_click_would_show(limit):
    for name, target in COMMANDS.items():
        assert short_help_from_source(name, target, limit) == load_command(name, target).get_short_help_str(limit), \
            name


def test_root_help_lists_every_command_with_its_help():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    listed = result.output.split("Commands:", 1)[1]
    for name, target in COMMANDS.items():
        help_text = load_command(name, target).get_short_help_str(45)
        assert f"{name}" in listed and help_text.split()[0] in listed, name


def test_version_is_the_projects():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"main, version {registry.project().version}\n"


def _embedded_environ() -> dict[str, str]:
    """This environment without a catalogue database or search backend: these tests measure the embedded default
    (SQLite and Whoosh), also in the PostgreSQL run, where searching must load the database by design."""
    return {key: value for key, value in os.environ.items()
            if key not in ("OPENDESIGN_DATABASE_URL", "OPENDESIGN_SEARCH_BACKEND")}


def _run_and_list_modules(args: list[str], tmp_path) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run the CLI in a fresh interpreter; return its result and the modules it had imported."""
    modules_file = tmp_path / "modules.json"
    code = ("import json, sys\n"
            "from opendesign.cli import main\n"
            "try:\n"
            f"    main({args!r}, prog_name='opendesign')\n"
            "finally:\n"
            f"    open({str(modules_file)!r}, 'w').write(json.dumps(sorted(sys.modules)))\n")
    env = {**_embedded_environ(), "PYTHONPATH": str(REPO), "OPENDESIGN_HOME": str(tmp_path / "home")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env,
                         timeout=120)
    return out, set(json.loads(modules_file.read_text()))


def _heavy(modules: set[str], names=HEAVY) -> list[str]:
    return sorted(m for m in modules if m.partition(".")[0] in names)


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["-h"]])
def test_help_and_version_import_no_command(args, tmp_path):
    out, modules = _run_and_list_modules(args, tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()
    assert _heavy(modules) == []
    assert "importlib.metadata" not in modules, "in a checkout the version and commands come from pyproject.toml"
    command_modules = sorted(m for m in modules if m.startswith("opendesign.") and not m.startswith("opendesign.cli"))
    assert command_modules == [], "help needs no core module beyond the CLI's own"
    loaded = sorted(m for m in modules if m.startswith("opendesign.cli."))
    assert loaded == ["opendesign.cli.base", "opendesign.cli.lazy", "opendesign.cli.registry"]


def test_a_subcommands_help_imports_only_that_command(tmp_path):
    out, modules = _run_and_list_modules(["licenses", "--help"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert "opendesign.cli.commons_licenses" in modules
    assert not {"opendesign.cli.catalogue", "opendesign.cli.search"} & modules
    assert _heavy(modules, ("cadquery", "OCP", "flask", "renderers", "web", "trimesh")) == []


def test_search_of_an_existing_index_loads_no_database_or_cad_code(tmp_path):
    home = tmp_path / "home"
    env = {**_embedded_environ(), "PYTHONPATH": str(REPO), "OPENDESIGN_HOME": str(home)}
    made = subprocess.run([sys.executable, "-c", "from opendesign.cli import main; main()", "import",
                           str(REPO / "designs" / "solar-dryer-rack")], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=300)
    assert made.returncode == 0, made.stderr
    out, modules = _run_and_list_modules(["search", "solar", "dryer", "--json"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert [h["slug"] for h in json.loads(out.stdout)["hits"]] == ["solar-dryer-rack"]
    assert _heavy(modules, SEARCH_NEVER) == []
    assert sorted(set(WHOOSH_UNUSED_BY_SEARCH) & modules) == []
    assert sorted({"opendesign.db", "opendesign.models", "opendesign.search.sync", "opendesign.search.documents",
                   "opendesign.search.pg_index"} & modules) == []


def test_choosing_the_search_backend_loads_only_the_one_in_use(tmp_path):
    """``get_index`` for PostgreSQL builds its index without numpy, Whoosh's evaluator or its index files."""
    code = ("import json, sys\n"
            "from opendesign.config import load_settings\n"
            "from opendesign.search import get_index\n"
            f"settings = load_settings(environ={{}}, home={str(tmp_path / 'home')!r},\n"
            "                         database_url='postgresql://postgres@127.0.0.1:1/unused')\n"
            "index = get_index(settings)\n"  # builds the engine and the index object; connects to nothing
            "print(json.dumps([type(index).__name__, sorted(sys.modules)]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                         env={**_embedded_environ(), "PYTHONPATH": str(REPO)})
    assert out.returncode == 0, out.stderr
    kind, modules = json.loads(out.stdout)
    assert kind == "PostgresSearchIndex"
    assert _heavy(set(modules), ("numpy", "cadquery", "OCP", "flask", "renderers", "web")) == []
    assert "opendesign.search.whoosh_index" not in modules and "opendesign.search.engine" not in modules


def test_a_bad_registration_names_the_command():
    with pytest.raises(CommandRegistrationError, match="'widget'.*module:attribute"):
        load_command("widget", "opendesign.cli.catalogue")
    with pytest.raises(CommandRegistrationError, match="'widget'.*no attribute 'nope'"):
        load_command("widget", "opendesign.cli.catalogue:nope")
    with pytest.raises(CommandRegistrationError, match="'widget'.*not a click command"):
        load_command("widget", "opendesign.cli.catalogue:discover")
    assert short_help_from_source("widget", "no_such_package.cli:widget") is None


def test_a_registration_in_another_pyproject_is_not_ours(tmp_path):
    other = tmp_path / "pyproject.toml"
    other.write_text('[project]\nname = "something-else"\nversion = "9"\n'
                     '[project.entry-points."opendesign.cli"]\nx = "a:b"\n')
    assert registry._from_pyproject(other) is None
    mine = tmp_path / "mine.toml"
    mine.write_text('[project]\nname = "opendesign"\nversion = "1.2.3"\n'
                    '[project.entry-points."opendesign.cli"]\nhello = "pkg.cli:hello"\n')
    found = registry._from_pyproject(mine)
    assert (found.version, found.commands) == ("1.2.3", {"hello": "pkg.cli:hello"})


def test_outside_a_checkout_the_installed_metadata_is_read(monkeypatch):
    from importlib import metadata

    monkeypatch.setattr(registry, "_checkout_pyproject", lambda: None)
    registry.project.cache_clear()
    try:
        found = registry.project()
        assert found.source == "metadata"
        assert found.version == metadata.version("opendesign")
        installed = {ep.name: ep.value for ep in metadata.entry_points(group=registry.GROUP)}
        assert found.commands == installed
    finally:
        registry.project.cache_clear()
