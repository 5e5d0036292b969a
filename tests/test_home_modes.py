"""Everything under ``OPENDESIGN_HOME`` is private: folders 0700, files 0600, whoever wrote them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from opendesign.cli import main
from opendesign.db import Database
from opendesign.home import secure_home
from renderers.cache import ArtifactMeta, FileArtifactStore
from tests.conftest import PG_URL
from tests.web_support import *  # noqa: F403
from web import create_app


def _loose(home: Path) -> list[str]:
    """Entries under *home* that others could read or enter."""
    found = []
    for path in [home, *home.rglob("*")]:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            continue
        if stat.S_IMODE(st.st_mode) & 0o077:
            found.append(f"{path.relative_to(home.parent)} {oct(stat.S_IMODE(st.st_mode))}")
    return found


def test_a_new_home_and_everything_in_it_is_private(tmp_path, make_design, monkeypatch, _template_db):
    home = tmp_path / "newhome"
    url = PG_URL or f"sqlite:///{home / 'opendesign.db'}"
    env = {"OPENDESIGN_HOME": str(home), "OPENDESIGN_DATABASE_URL": url}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from click.testing import CliRunner

    runner = CliRunner(env=env)
    assert runner.invoke(main, ["import", str(make_design("widget"))]).exit_code == 0
    assert runner.invoke(main, ["index", "rebuild"]).exit_code == 0

    from opendesign.config import load_settings

    settings = load_settings()
    db = Database(settings)
    app = create_app({"TESTING": True, "SETTINGS": settings, "DATABASE": db, "MIGRATE": False,
                      "SERVER_NAME": "localhost"})  # no SECRET_KEY: one is generated into the home
    try:
        store = FileArtifactStore(db, settings)
        with store.lock(["a" * 64]):
            store.put("a" * 64, b"solid", ArtifactMeta(format="stl", quality="normal"))
        store.evict()
        with db.engine.connect() as conn:  # an open connection: the -wal and -shm files exist
            conn.exec_driver_sql("SELECT 1")
            if not PG_URL:  # on PostgreSQL the catalogue and its search index live in the database
                assert (home / "opendesign.db-wal").exists() and (home / "opendesign.db-shm").exists()
                assert list((home / "index").iterdir())
            assert (home / "secret_key").exists() and (home / "cache" / "objects").is_dir()
            assert _loose(home) == []
    finally:
        app.extensions["opendesign.search"].close()
        db.dispose()


def test_an_existing_loose_home_is_tightened_on_start(tmp_path):
    home = tmp_path / "old"
    (home / "cache" / "objects").mkdir(parents=True)
    for path, mode in ((home, 0o755), (home / "cache", 0o755), (home / "cache" / "objects", 0o775)):
        os.chmod(path, mode)
    (home / "opendesign.db").write_text("db")
    os.chmod(home / "opendesign.db", 0o644)
    (home / "cache" / "objects" / "x.stl").write_text("stl")
    os.chmod(home / "cache" / "objects" / "x.stl", 0o664)
    os.symlink("/etc/passwd", home / "link")
    assert len(_loose(home)) == 5
    secure_home(home)
    assert _loose(home) == []
    assert stat.S_IMODE(os.stat("/etc/passwd").st_mode) == 0o644  # links are not followed


def test_files_written_after_start_are_private(tmp_path):
    home = secure_home(tmp_path / "h")
    (home / "later.txt").write_text("x")
    (home / "sub").mkdir()
    assert _loose(home) == []


@pytest.mark.skipif(bool(PG_URL), reason="the SQLite file's own mode")
def test_the_sqlite_database_is_created_0600(tmp_path):
    from opendesign.config import load_settings

    db = Database(load_settings(environ={}, home=str(tmp_path / "h2")))
    db.migrate()
    db.dispose()
    path = tmp_path / "h2" / "opendesign.db"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
