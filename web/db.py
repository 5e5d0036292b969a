"""One database session per request, closed (and rolled back if unfinished) at teardown.

Also the process's *catalogue generation*: a counter bumped after every
catalogue change that commits (:mod:`opendesign.events`), which the web
layer's caches use to drop what they hold (:func:`on_change`) and to refuse
storing anything read in a transaction that may predate a change
(:func:`session_generation`).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from opendesign import events
from opendesign.db import Database

_counter = itertools.count(1)
_generation = 0
_lock = threading.Lock()
_listeners: list[Callable[[], None]] = []


def generation() -> int:
    return _generation


def on_change(fn: Callable[[], None]) -> Callable[[], None]:
    """Call *fn()* after every committed catalogue change (in this process)."""
    _listeners.append(fn)
    return fn


def _changed(_change, _maker) -> None:
    global _generation
    with _lock:
        # Bump first: a request that read the old generation must not store what it computed.
        _generation = next(_counter)
    for fn in _listeners:
        fn()


events.subscribe(_changed)


def database() -> Database:
    return current_app.extensions["opendesign.db"]


def get_session() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        g.db_generation = _generation
        g.db_session = database().sessionmaker()
    return g.db_session


def session_generation() -> int | None:
    """The catalogue generation when the request's session was opened (None before that)."""
    return g.get("db_generation")


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
