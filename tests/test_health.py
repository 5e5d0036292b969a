"""``/healthz`` and a full disk: degraded states are reported, and a full disk answers 507 with a message."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import tomli_w

from opendesign.accounts import register
from opendesign.config import load_settings
from opendesign.db import Database
from tests.conftest import PG_URL, design_manifest
from tests.web_support import *  # noqa: F403
from web import create_app

ROOT = os.geteuid() == 0


def _app(settings, db, **config):
    return create_app({"TESTING": True, "SETTINGS": settings, "DATABASE": db, "MIGRATE": False,
                       "SECRET_KEY": "k", "SERVER_NAME": "localhost", **config})


def test_healthz_is_ok_when_everything_is(app, client, db, settings):
    app.extensions["opendesign.search"].ensure(db.sessionmaker)
    body = client.get("/healthz").get_json()
    assert body["database"] == {"status": "ok"}
    assert body["search_index"] == {"status": "ok", "backend": settings.search_engine}
    assert body["render"]["mode"] == ("isolated" if shutil.which("bwrap") else "seed-only")


def test_healthz_says_the_sandbox_is_not_isolated(db, settings):
    app = _app(settings.model_copy(update={"render_use_bwrap": False}), db)
    try:
        app.extensions["opendesign.search"].ensure(db.sessionmaker)
        r = app.test_client().get("/healthz")
        assert r.status_code == 503 and r.get_json()["status"] == "degraded"
        render = r.get_json()["render"]
        assert render["status"] == "not-isolated" and render["mode"] == "seed-only"
        assert "render_allow_unsandboxed_untrusted" in render["detail"]
        assert "render" in r.get_json()["degraded"]
    finally:
        app.extensions["opendesign.search"].close()


def test_healthz_says_the_search_index_is_missing(client):
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.get_json()["search_index"]["status"] == "missing" and "search_index" in r.get_json()["degraded"]


def test_healthz_says_the_database_is_unreachable(tmp_path, settings):
    dead = load_settings(environ={}, home=str(tmp_path / "dead"), database_url="postgresql://nobody@127.0.0.1:9/none")
    db = Database(dead)
    app = _app(dead, db)
    try:
        r = app.test_client().get("/healthz")
        assert r.status_code == 503
        assert r.get_json()["database"]["status"] == "unreachable" and "database" in r.get_json()["degraded"]
    finally:
        app.extensions["opendesign.search"].close()
        db.dispose()


def test_healthz_says_the_disk_is_low(db, settings):
    app = _app(settings.model_copy(update={"health_min_free_mb": 10**9}), db)  # nobody has a petabyte free
    try:
        r = app.test_client().get("/healthz")
        assert r.status_code == 503 and r.get_json()["disk"]["status"] == "low"
    finally:
        app.extensions["opendesign.search"].close()


# -- a full disk --------------------------------------------------------------------------------

@pytest.fixture
def full_home(tmp_path, _template_db):
    """A home on a tmpfs of its own, filled to the last byte (needs root, to mount)."""
    if not ROOT:
        pytest.skip("mounting a small tmpfs needs root")
    if PG_URL:
        pytest.skip("the full-disk test fills a home holding an SQLite database; PostgreSQL's disk is elsewhere")
    home = tmp_path / "full"
    home.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(home)], check=True)
    try:
        shutil.copy(_template_db, home / "opendesign.db")
        settings = load_settings(environ={}, home=str(home), database_url=f"sqlite:///{home / 'opendesign.db'}")
        db = Database(settings)
        yield settings, db, home
        db.dispose()
    finally:
        subprocess.run(["umount", "-l", str(home)], check=False)


def _fill(home) -> None:
    with open(home / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass


def test_a_full_disk_gives_507_with_a_message_and_healthz_says_so(full_home):
    settings, db, home = full_home
    with db.session() as s:
        user = register(s, "ada", "ada@example.org", PASSWORD)
    token = make_token(db, user, ["publish:*"])
    app = _app(settings, db)
    try:
        client = app.test_client()
        app.extensions["opendesign.search"].ensure(db.sessionmaker)
        _fill(home)

        r = client.get("/healthz")
        assert r.status_code == 503 and r.get_json()["disk"]["status"] == "full"

        files = {"design.toml": tomli_w.dumps(design_manifest("widget")).encode(), "model.py": b"def build(p):\n    pass\n",
                 "README.md": b"# w\n" + b"x" * 200_000}
        zipped = zip_entries([(f"widget/{k}", v) for k, v in files.items()])
        r = client.post("/api/v1/designs", data=zipped, content_type="application/zip",
                        headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 507, r.get_data(as_text=True)[:300]
        message = r.get_json()["error"]["message"]
        assert "out of disk space" in message and str(home) not in message
        assert r.headers["Retry-After"]

        r = client.post("/account/login", data={"login": "ada", "password": PASSWORD,
                                                 "csrf_token": csrf_token(client, "/account/login")})
        assert r.status_code == 507  # the session row cannot be written either
        assert "out of disk space" in r.get_data(as_text=True)
    finally:
        app.extensions["opendesign.search"].close()
