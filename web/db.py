"""One database session per request, closed (and rolled back if unfinished) at teardown."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from opendesign.db import Database


def database() -> Database:
    return current_app.extensions["opendesign.db"]


def get_session() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = database().sessionmaker()
    return g.db_session


def _close(exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is None:
        return
    try:
        if exc is not None or session.in_transaction():
            # Views commit what they mean to keep; anything else is dropped.
            session.rollback()
    finally:
        session.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close)
