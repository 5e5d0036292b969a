"""Shared fixtures: settings, a migrated database per test, design-folder factories.

The suite runs against SQLite by default and against PostgreSQL when
``OPENDESIGN_DATABASE_URL`` is set (as ``.ci/run`` does). SQLite tests copy a
database migrated once per session; PostgreSQL tests migrate once and empty
every table between tests.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner
from sqlalchemy import text

from opendesign.config import load_settings
from opendesign.db import Database
from opendesign.models import Base

PG_BASE_URL = os.environ.get("OPENDESIGN_DATABASE_URL", "")
# Each pytest run gets its own PostgreSQL schema, so concurrent runs against
# one database (several developers, CI) never see each other's tables.
PG_SCHEMA = f"opendesign_test_{os.getpid()}"
# ``public`` stays on the path for the extensions (pg_trgm, fuzzystrmatch), which live there once per database.
PG_URL = (f"{PG_BASE_URL}{'&' if '?' in PG_BASE_URL else '?'}options=-csearch_path%3D{PG_SCHEMA}%2Cpublic"
          if PG_BASE_URL else "")
#: Where PostgreSQL-only tests (the PostgreSQL search backend, shared artifacts) connect in a SQLite run.
PG_DEFAULT_URL = os.environ.get("OPENDESIGN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REPO = Path(__file__).resolve().parent.parent
SEED_DESIGNS = REPO / "designs"


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory):
    """SQLite: a migrated database file to copy. PostgreSQL: a migrated schema."""
    if PG_URL:
        db = Database(load_settings(environ={}, database_url=PG_URL, home=str(tmp_path_factory.mktemp("pg"))))
        with db.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
        db.migrate()
        yield None
        with db.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        db.dispose()
        return
    path = tmp_path_factory.mktemp("template") / "opendesign.db"
    db = Database(load_settings(environ={}, database_url=f"sqlite:///{path}"))
    db.migrate()
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    yield path


@pytest.fixture
def home(tmp_path) -> Path:
    path = tmp_path / "var"
    path.mkdir()
    return path


@pytest.fixture
def env(home, _template_db, monkeypatch) -> dict[str, str]:
    """Environment for this test's catalogue; also applied to os.environ."""
    values = {"OPENDESIGN_HOME": str(home)}
    if PG_URL:
        values["OPENDESIGN_DATABASE_URL"] = PG_URL
    else:
        shutil.copy(_template_db, home / "opendesign.db")
        values["OPENDESIGN_DATABASE_URL"] = f"sqlite:///{home / 'opendesign.db'}"
    for key in [k for k in os.environ if k.startswith("OPENDESIGN_")]:
        monkeypatch.delenv(key)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture
def settings(env):
    return load_settings()


@pytest.fixture
def db(settings):
    database = Database(settings)
    if database.url.startswith("postgresql"):
        _truncate(database)
    yield database
    database.dispose()


def _truncate(database: Database) -> None:
    from opendesign.search import pg_tables

    tables = ", ".join(f'"{t.name}"' for t in [*Base.metadata.sorted_tables, pg_tables.search_document,
                                                 pg_tables.search_word])
    with database.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(text("UPDATE search_state SET generation = '', updates = 0"))
        conn.execute(text("INSERT INTO cache_generation (name, value) VALUES ('catalogue', 0)"))


@pytest.fixture(scope="session")
def pg_url(request, tmp_path_factory) -> str:
    """A migrated PostgreSQL schema, also in a SQLite run; the test is skipped only when PostgreSQL is unreachable."""
    if PG_URL:  # the whole run is on PostgreSQL: its migrated template schema serves
        request.getfixturevalue("_template_db")
        yield PG_URL
        return
    import psycopg

    try:
        psycopg.connect(PG_DEFAULT_URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL is unreachable at {PG_DEFAULT_URL}: {exc}")
    schema = f"opendesign_pg_{os.getpid()}"
    url = f"{PG_DEFAULT_URL}{'&' if '?' in PG_DEFAULT_URL else '?'}options=-csearch_path%3D{schema}%2Cpublic"
    db = Database(load_settings(environ={}, database_url=url, home=str(tmp_path_factory.mktemp("pgonly"))))
    with db.engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        db.migrate()
        yield url
    finally:
        with db.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        db.dispose()


@pytest.fixture(params=["whoosh", "postgres"])
def search_backend(request) -> str:
    """Each search test runs against both backends (PostgreSQL skipped only when it is unreachable)."""
    if request.param == "postgres":
        request.getfixturevalue("pg_url")
    return request.param


def backend_env(env: dict[str, str], backend: str, request, monkeypatch) -> dict[str, str]:
    """*env* with the search backend set, on a PostgreSQL catalogue for the PostgreSQL backend."""
    env = dict(env)
    if backend == "postgres" and not PG_URL:
        env["OPENDESIGN_DATABASE_URL"] = request.getfixturevalue("pg_url")
    env["OPENDESIGN_SEARCH_BACKEND"] = backend
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def new_index(search_backend, tmp_path, request):
    """A factory of indexes of the current backend over one empty store (a folder, or the search tables)."""
    from opendesign.db import make_engine
    from opendesign.search import WhooshSearchIndex
    from opendesign.search.pg_index import PostgresSearchIndex

    made, engines = [], []

    def make(**kwargs):
        if search_backend == "whoosh":
            index = WhooshSearchIndex(kwargs.pop("root", tmp_path / "index"), **kwargs)
        else:
            if not engines:
                engines.append(make_engine(request.getfixturevalue("pg_url")))
                _truncate_search(engines[0])
            index = PostgresSearchIndex(engines[0], **kwargs)
        made.append(index)
        return index

    make.backend = search_backend
    yield make
    for index in made:
        index.close()
    for engine in engines:
        engine.dispose()


def _truncate_search(engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE search_document, search_word"))
        conn.execute(text("UPDATE search_state SET generation = '', updates = 0"))


@pytest.fixture
def runner(db, env):
    """A click runner whose commands use this test's catalogue."""
    return CliRunner(env=env)


def design_manifest(slug: str = "test-widget", **overrides) -> dict:
    """A valid manifest for a small design; *overrides* replace top-level fields."""
    manifest = {
        "slug": slug,
        "title": f"Test widget {slug}",
        "summary": "A small parametric test part used by the test suite.",
        "version": "1.0.0",
        "license": "CERN-OHL-S-2.0",
        "category": "tools-fabrication",
        "tags": ["test", "bracket"],
        "derived_from": [],
        "authors": [{"name": "Test Collective", "contact": "https://example.org"}],
        "parameters": [
            {"name": "width", "type": "float", "default": 20.0, "min": 5.0, "max": 100.0, "step": 0.5,
             "unit": "mm", "label": "Width"},
            {"name": "holes", "type": "int", "default": 2, "min": 0, "max": 6, "label": "Holes"},
            {"name": "rounded", "type": "bool", "default": True, "label": "Rounded edges"},
            {"name": "finish", "type": "choice", "default": "matte", "choices": ["matte", "gloss"],
             "label": "Finish"},
        ],
        "parts": [{"name": "body", "material": "PETG", "process": "fdm", "quantity": 1}],
        "bom": [{"item": "M3 screw", "quantity": 2, "unit": "pcs", "note": ""}],
    }
    manifest.update(overrides)
    return manifest


MODEL_SOURCE = '''import cadquery as cq


def build(params):
    return cq.Workplane("XY").box(params["width"], 10, 5)
'''


@pytest.fixture
def make_design(tmp_path):
    """Write a design folder; return its path. Folder name defaults to the slug."""
    root = tmp_path / "designs"
    root.mkdir(exist_ok=True)

    def make(slug: str = "test-widget", *, folder: str | None = None, model: str | None = MODEL_SOURCE,
             readme: str | None = "# Test widget\n\nPrint flat.\n", raw_toml: str | None = None,
             extra_files: dict[str, bytes] | None = None, **overrides) -> Path:
        path = root / (folder or slug)
        path.mkdir(parents=True, exist_ok=True)
        text_ = raw_toml if raw_toml is not None else tomli_w.dumps(design_manifest(slug, **overrides))
        (path / "design.toml").write_text(text_)
        for name, content in (("model.py", model), ("README.md", readme)):
            if content is None:
                (path / name).unlink(missing_ok=True)
            else:
                (path / name).write_text(content)
        for name, data in (extra_files or {}).items():
            (path / name).write_bytes(data)
        return path

    make.root = root
    return make
