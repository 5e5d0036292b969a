"""Fixtures and helpers for the web tests: import them into a test module.

``from tests.web_support import *`` brings the ``app``, ``client``, ``user``
and ``logged_in`` fixtures (built on the shared ``db``/``settings`` fixtures
of conftest.py) and helpers to build design zips, benign and hostile.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from opendesign.accounts import create_token, register
from opendesign.catalogue.importer import import_designs
from opendesign.models import AuditEvent, Design, DesignFile, DesignVersion, User
from web import create_app

__all__ = [
    "app", "client", "user", "other_user", "logged_in", "csrf_token", "zip_folder", "zip_entries", "make_token",
    "counts", "audit_events", "import_folder_paths", "login_as", "symlink_info", "PASSWORD",
]

PASSWORD = "correct horse battery"


@pytest.fixture
def app(db, settings):
    app = create_app({"TESTING": True, "SETTINGS": settings, "DATABASE": db, "MIGRATE": False,
                      "SECRET_KEY": "test-secret", "SERVER_NAME": "localhost"})
    yield app
    app.extensions["opendesign.search"].close()


@pytest.fixture
def client(app):
    return app.test_client()


def _make_user(db, name: str) -> User:
    with db.session() as s:
        user = register(s, name, f"{name}@example.org", PASSWORD)
    return user


@pytest.fixture
def user(db) -> User:
    return _make_user(db, "ada")


@pytest.fixture
def other_user(db) -> User:
    return _make_user(db, "grace")


def login_as(client, user: User) -> None:
    """Log *client* in as *user* without the login form: a server-side session, as the form would start."""
    from datetime import timedelta

    from opendesign.accounts import start_session

    database = client.application.extensions["opendesign.db"]
    with database.session() as s:
        sid = start_session(s, s.get(User, user.id), timedelta(days=1))
    with client.session_transaction() as session:
        session["sid"] = sid


@pytest.fixture
def logged_in(client, user):
    login_as(client, user)
    return client


def csrf_token(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    m = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert m, f"no CSRF token on {url}"
    return m.group(1)


def zip_folder(folder: Path, prefix: str | None = None) -> bytes:
    """A zip of *folder*, its files under *prefix*/ (default: the folder's name)."""
    prefix = folder.name if prefix is None else prefix
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                rel = path.relative_to(folder).as_posix()
                zf.write(path, f"{prefix}/{rel}" if prefix else rel)
    return buf.getvalue()


def zip_entries(entries: list[tuple[str, bytes] | zipfile.ZipInfo | tuple[zipfile.ZipInfo, bytes]],
                compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for entry in entries:
            if isinstance(entry, tuple) and isinstance(entry[0], zipfile.ZipInfo):
                zf.writestr(entry[0], entry[1])
            else:
                name, data = entry
                zf.writestr(name, data)
    return buf.getvalue()


def symlink_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def make_token(db, user: User, scopes: list[str], name: str = "ci") -> str:
    with db.session() as s:
        _, plain = create_token(s, s.get(User, user.id), name, scopes)
    return plain


def counts(db) -> dict[str, int]:
    with db.session() as s:
        return {m.__name__: s.scalar(select(func.count()).select_from(m)) for m in (Design, DesignVersion, DesignFile)}


def audit_events(db, action: str | None = None) -> list[AuditEvent]:
    with db.session() as s:
        stmt = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            stmt = stmt.where(AuditEvent.action == action)
        return list(s.scalars(stmt))


def import_folder_paths(db, *paths: Path):
    report = import_designs(db, [str(p) for p in paths])
    assert report.ok, report.as_dict()
    return report
