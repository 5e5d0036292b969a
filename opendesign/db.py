"""Engine, sessions and schema migrations for the catalogue database.

SQLite (the embedded default) runs in WAL mode with a busy timeout so that the
web server, the CLI and render workers can share one file; PostgreSQL is used
as is. The schema is owned by Alembic: :meth:`Database.migrate` upgrades to head.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from . import events
from .config import Settings

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # SQLite gives the -wal and -shm files the database file's mode: make it private first.
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        # Use psycopg 3, the driver we depend on, not the psycopg2 default.
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_pre_ping=True)


class Database:
    """The catalogue database of one deployment."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.url = settings.database
        self.engine = make_engine(self.url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        events.install(self.sessionmaker)
        from . import generation

        generation.install()  # every catalogue commit moves the shared generation (caches of other processes)

    def _alembic_config(self):
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["engine"] = self.engine
        return config

    def migrate(self) -> None:
        """Bring the schema to the newest migration (a no-op when it is there)."""
        from alembic import command

        with self.engine.begin() as connection:
            config = self._alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def is_migrated(self) -> bool:
        return inspect(self.engine).has_table("design_version")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
