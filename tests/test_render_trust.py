"""Fail closed without bubblewrap: only the operator's seed renders; every job sees a private filesystem.

Without isolation a published design is refused (naming the sandbox and the
setting) by the CLI, the pages, the API and bundles alike, before any job
runs; cached files are still served. Whatever the mode, a job sees no host
process's command line, only its own, and a job that fills its disk fails as
``disk-full`` while a neighbour renders.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading

import pytest
from sqlalchemy import select

from opendesign.catalogue import origins
from opendesign.catalogue.importer import import_designs
from opendesign.cli import main
from opendesign.config import load_settings
from opendesign.models import DesignVersion
from renderers import service
from renderers.errors import DISK_FULL, SANDBOX_REQUIRED, RenderError
from renderers.pool import RenderJob, WarmPool
from tests.conftest import MODEL_SOURCE
from tests.web_support import *  # noqa: F403
from web import create_app

BWRAP = shutil.which("bwrap") is not None
ROOT = os.geteuid() == 0


def _origin(db, slug: str) -> str:
    with db.session() as s:
        return next(v.origin for v in s.scalars(select(DesignVersion)) if v.design.slug == slug)


def _unsandboxed(settings, **more):
    return settings.model_copy(update={"render_use_bwrap": False, **more})


# -- origins ------------------------------------------------------------------------------------

def test_the_designs_folder_is_the_seed_and_other_folders_are_not(db, settings, make_design, tmp_path):
    make_design("seeded")
    elsewhere = tmp_path / "downloads"
    shutil.copytree(make_design.root / "seeded", elsewhere / "other")
    (elsewhere / "other" / "design.toml").write_text(
        (elsewhere / "other" / "design.toml").read_text().replace('"seeded"', '"other"'))
    seed_db = type(db)(settings.model_copy(update={"designs_dir": make_design.root}))
    assert import_designs(seed_db, [str(make_design.root), str(elsewhere)]).ok
    with db.session() as s:
        found = {v.design.slug: v.origin for v in s.scalars(select(DesignVersion))}
    assert found == {"seeded": origins.SEED, "other": origins.FOLDER}


def test_identical_content_found_in_the_designs_folder_becomes_seed(db, settings, make_design, tmp_path):
    folder = make_design("widget")
    import_folder_paths(db, folder)  # designs_dir is ./designs: this folder is not the seed
    assert _origin(db, "widget") == origins.FOLDER
    seed_db = type(db)(settings.model_copy(update={"designs_dir": make_design.root}))
    report = import_designs(seed_db, [str(make_design.root)])
    assert report.as_dict()["unchanged"] == 1 and _origin(db, "widget") == origins.SEED


def test_published_designs_record_web_or_api(logged_in, client, db, user):
    from tests.test_web_publish import _design_zip, _publish_form

    assert _publish_form(logged_in, _design_zip("from-web")).status_code == 302
    token = make_token(db, user, ["publish:*"])
    r = client.post("/api/v1/designs", data=_design_zip("from-api"), content_type="application/zip",
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201
    with db.session() as s:
        found = {v.design.slug: v.origin for v in s.scalars(select(DesignVersion))}
    assert found == {"from-web": origins.WEB, "from-api": origins.API}


# -- refusals without a sandbox -----------------------------------------------------------------

class _NoJobs:
    """A pool that fails the test if a job reaches it."""

    isolated = False

    def render(self, job):
        raise AssertionError(f"a job ran: {job.label}")


def test_without_a_sandbox_a_published_design_is_refused_naming_the_setting(db, settings, make_design):
    import_folder_paths(db, make_design("widget"))
    with pytest.raises(RenderError) as exc:
        service.render(db, _unsandboxed(settings), "widget", {}, ["stl"], pool=_NoJobs())
    err = exc.value
    assert err.category == SANDBOX_REQUIRED
    assert "bubblewrap" in err.message and "render_allow_unsandboxed_untrusted" in err.message
    assert "OPENDESIGN_RENDER_ALLOW_UNSANDBOXED_UNTRUSTED" in err.message


def test_the_cli_refuses_it_too(runner, db, make_design, env):
    import_folder_paths(db, make_design("widget"))
    result = runner.invoke(main, ["render", "widget", "--json"], env={**env, "OPENDESIGN_RENDER_USE_BWRAP": "false"})
    assert result.exit_code == 1
    assert '"category": "sandbox-required"' in result.output


def test_bundles_refuse_it_too(runner, db, make_design, env, tmp_path):
    import_folder_paths(db, make_design("widget"))
    result = runner.invoke(main, ["bundle", "widget", "-o", str(tmp_path / "dist")],
                           env={**env, "OPENDESIGN_RENDER_USE_BWRAP": "false"})
    assert result.exit_code == 1 and "render_allow_unsandboxed_untrusted" in result.output
    assert not (tmp_path / "dist").exists() or not list((tmp_path / "dist").iterdir())


def test_a_published_design_is_refused_by_the_api_and_the_pages(db, settings, user):
    from tests.test_web_publish import _design_zip

    app = create_app({"TESTING": True, "SETTINGS": _unsandboxed(settings), "DATABASE": db, "MIGRATE": False,
                      "SECRET_KEY": "k", "SERVER_NAME": "localhost"})
    try:
        client = app.test_client()
        token = make_token(db, user, ["publish:*"])
        r = client.post("/api/v1/designs", data=_design_zip("widget"), content_type="application/zip",
                        headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201
        r = client.get("/api/v1/designs/widget/render?format=stl&wait=5")
        assert r.status_code == 503
        assert "render_allow_unsandboxed_untrusted" in r.get_json()["error"]["message"]
        assert "published through the API" in r.get_json()["error"]["message"]
        page = client.get("/designs/widget?width=30").get_data(as_text=True)
        assert "render_allow_unsandboxed_untrusted" in page
        assert client.get("/designs/widget/1.0.0/download/model.stl").status_code == 503
    finally:
        app.extensions["opendesign.search"].close()


def test_doctor_names_the_mode(runner, env):
    import json

    result = runner.invoke(main, ["doctor", "--no-probe", "--json"], env={**env, "OPENDESIGN_RENDER_USE_BWRAP": "0"})
    assert json.loads(result.output)["render_mode"]["mode"] == "seed-only"
    result = runner.invoke(main, ["doctor", "--no-probe"], env={
        **env, "OPENDESIGN_RENDER_USE_BWRAP": "0", "OPENDESIGN_RENDER_ALLOW_UNSANDBOXED_UNTRUSTED": "1"})
    assert "EVERY design renders" in result.output


# -- with a real unsandboxed pool -----------------------------------------------------------------

@pytest.fixture(scope="module")
def bare_pool(tmp_path_factory):
    settings = load_settings(environ={}, home=str(tmp_path_factory.mktemp("bare")), render_pool_size=2,
                             render_timeout=20, render_cpu_seconds=10, render_memory_mb=2048,
                             render_use_bwrap=False, render_max_output_mb=2)
    pool = WarmPool(settings)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def bwrap_pool(tmp_path_factory):
    if not BWRAP:
        pytest.skip("needs bubblewrap")
    settings = load_settings(environ={}, home=str(tmp_path_factory.mktemp("bwrap")), render_pool_size=2,
                             render_timeout=20, render_cpu_seconds=10, render_memory_mb=2048,
                             render_max_output_mb=2)
    pool = WarmPool(settings)
    yield pool
    pool.close()


def test_seed_designs_render_unsandboxed_with_a_warning_and_cache_hits_are_served(
        db, settings, make_design, bare_pool, caplog):
    import_folder_paths(db, make_design("widget"))
    allowed = _unsandboxed(settings, render_allow_unsandboxed_untrusted=True)
    first = service.render(db, allowed, "widget", {}, ["stl"], pool=bare_pool)
    assert not first[0].cache_hit
    again = service.render(db, _unsandboxed(settings), "widget", {}, ["stl"], pool=_NoJobs())
    assert again[0].cache_hit  # serving bytes rendered earlier runs no code
    with db.session() as s:
        s.scalars(select(DesignVersion)).first().origin = origins.SEED
    with caplog.at_level(logging.WARNING, logger="renderers.service"):
        seeded = service.render(db, _unsandboxed(settings), "widget", {"width": 33}, ["stl"], pool=bare_pool)
    assert not seeded[0].cache_hit and "WITHOUT filesystem isolation" in caplog.text


SPY = '''import os


def build(params):
    readable = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    readable.append(pid + " " + f.read(200).replace(b"\\0", b" ").decode("utf-8", "replace"))
            except OSError:
                pass
    secrets = []
    for path in params["private"]:
        try:
            secrets.append(path + ": " + (repr(os.listdir(path)) if os.path.isdir(path) else open(path).read()))
        except OSError:
            pass
    raise RuntimeError("SPY " + repr({"cmdlines": readable, "secrets": secrets}))
'''


def _spy(pool, private: list[str]) -> dict:
    import ast

    with pytest.raises(RenderError) as exc:
        pool.render(RenderJob(files={"model.py": SPY.encode()}, params={"private": private}))
    return ast.literal_eval(exc.value.message.split("SPY ", 1)[1])


@pytest.mark.parametrize("which", ["bare_pool", "bwrap_pool"])
def test_no_job_reads_the_command_line_of_a_host_process(which, request, tmp_path):
    pool = request.getfixturevalue(which)
    seen = _spy(pool, [])
    assert len(seen["cmdlines"]) == 1, seen  # its own, nothing else
    assert not any("pytest" in c or str(os.getpid()) == c.split()[0] for c in seen["cmdlines"])


@pytest.mark.skipif(not ROOT, reason="hiding paths needs a mount namespace, i.e. root")
def test_an_unsandboxed_job_sees_no_home_database_or_sockets(bare_pool):
    home = bare_pool.settings.home
    home.mkdir(parents=True, exist_ok=True)
    (home / "opendesign.db").write_text("password hashes")
    seen = _spy(bare_pool, [str(home), str(home / "opendesign.db"), "/run/postgresql", "/var/run/postgresql",
                            "/dev/shm", "/var/tmp"])
    assert not any("password hashes" in s or "opendesign.db" in s for s in seen["secrets"]), seen
    assert all(s.endswith("[]") for s in seen["secrets"]), seen  # empty tmpfs mounts at most


FILL = '''import os


def build(params):
    i = 0
    while True:
        with open(os.path.join(os.environ["HOME"], f"fill-{i}"), "wb") as f:
            f.write(b"x" * (1 << 20))
        i += 1
'''


@pytest.mark.skipif(not ROOT, reason="a tmpfs per job needs a mount namespace, i.e. root")
@pytest.mark.parametrize("which", ["bare_pool", "bwrap_pool"])
def test_a_job_that_fills_its_disk_fails_alone(which, request):
    pool = request.getfixturevalue(which)
    outcome: dict = {}

    def filler():
        try:
            pool.render(RenderJob(files={"model.py": FILL.encode()}, params={}, label="filler"))
        except RenderError as exc:
            outcome["filler"] = exc

    thread = threading.Thread(target=filler)
    thread.start()
    neighbour = pool.render(RenderJob(files={"model.py": MODEL_SOURCE.encode()}, params={"width": 12.0}))
    thread.join(60)
    assert "model.stl" in neighbour.files
    err = outcome["filler"]
    assert err.category == DISK_FULL and "MiB of scratch disk" in err.message
