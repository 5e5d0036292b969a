"""The shared artifact store: what one host rendered is a verified cache hit on another (real PostgreSQL)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from opendesign.config import ConfigError, load_settings
from opendesign.db import Database
from renderers.cache import ArtifactMeta, FileArtifactStore, artifact_store
from renderers.pg_store import PostgresArtifactStore

KEY = "ab" * 32


@pytest.fixture
def pg_db(pg_url, tmp_path):
    settings = load_settings(environ={}, database_url=pg_url, home=str(tmp_path / "host-a"),
                             artifact_store="postgres")
    db = Database(settings)
    with db.engine.begin() as conn:
        conn.execute(text("TRUNCATE artifact_blob, artifact"))
    yield db, settings
    db.dispose()


def _host(db, settings, tmp_path, name: str) -> PostgresArtifactStore:
    """A store with its own local folder, as on another machine sharing the database."""
    return PostgresArtifactStore(db, settings, local=FileArtifactStore(db, settings, root=tmp_path / name))


def test_setting_chooses_the_store_and_postgres_needs_postgresql(pg_db, tmp_path):
    db, settings = pg_db
    assert isinstance(artifact_store(db, settings), PostgresArtifactStore)
    with pytest.raises(ConfigError, match="artifact_store 'postgres' needs a PostgreSQL"):
        load_settings(environ={}, home=str(tmp_path / "lite"), artifact_store="postgres")


def test_an_artifact_put_on_one_host_is_served_verified_on_another(pg_db, tmp_path):
    db, settings = pg_db
    a, b = _host(db, settings, tmp_path, "a"), _host(db, settings, tmp_path, "b")
    data = b"solid cube\n" * 1000
    stored = a.put(KEY, data, ArtifactMeta(format="stl", quality="normal", triangles=12, parts=["body"]))
    assert not b.local.path(KEY, "stl").exists()
    entry = b.get(KEY)
    assert entry is not None and entry.sha256 == stored.sha256 and entry.path.parent.parent.parent == b.local.root
    assert entry.meta.triangles == 12 and entry.meta.parts == ["body"]
    handle, _ = b.open_verified(KEY)
    with handle:
        assert handle.read() == data
    a.put(KEY, data, ArtifactMeta(format="stl", quality="normal"))  # the same key again: a no-op, no error


def test_damaged_shared_bytes_are_dropped_never_served(pg_db, tmp_path, caplog):
    db, settings = pg_db
    a, c = _host(db, settings, tmp_path, "a"), _host(db, settings, tmp_path, "c")
    a.put(KEY, b"good bytes", ArtifactMeta(format="stl", quality="normal"))
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE artifact_blob SET data = 'evil bytes'::bytea"))
    with caplog.at_level(logging.ERROR, logger="renderers.pg_store"):
        assert c.get(KEY) is None
    assert "does not match its recorded sha256" in caplog.text
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM artifact_blob")).scalar_one() == 0


def test_evicting_a_host_copy_keeps_the_shared_bytes(pg_db, tmp_path):
    db, settings = pg_db
    a = _host(db, settings, tmp_path, "a")
    a.put(KEY, b"x" * 100, ArtifactMeta(format="stl", quality="normal"))
    a.local.discard(KEY)  # what eviction does to this host's copy
    assert not a.local.path(KEY, "stl").exists()
    handle, entry = a.open_verified(KEY)  # fetched again from the shared store
    with handle:
        assert handle.read() == b"x" * 100
    a.discard(KEY)
    assert _host(db, settings, tmp_path, "d").get(KEY) is None
