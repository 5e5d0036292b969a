"""One database session per request, closed (and rolled back if unfinished) at teardown.

Also the process's *catalogue generation*: a counter bumped after every
catalogue change that commits (:mod:`opendesign.events`), which the web
layer's caches use to drop what they hold (:func:`on_change`) and to refuse
storing anything read in a transaction that may predate a change
(:func:`session_generation`).

Changes committed by other processes (another web process, ``opendesign
import``) move the *shared* generation in the catalogue database
(:mod:`opendesign.generation`); every request reads it first
(:func:`check_shared_generation`) and, when it moved, bumps this process's
generation as a local commit would.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable

from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session

from opendesign import events
from opendesign import generation as shared
from opendesign.db import Database

log = logging.getLogger(__name__)
_counter = itertools.count(1)
_generation = 0
_lock = threading.Lock()
_listeners: list[Callable[[], None]] = []
#: Database URL -> the shared generation this process last saw there.
_shared_seen: dict[str, int] = {}


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


def check_shared_generation() -> None:
    """Drop this process's caches if any process committed a catalogue change since the last request."""
    if request.endpoint == "static":
        return
    db = database()
    try:
        value = shared.current(db.engine)
    except Exception:  # noqa: BLE001 — the database is down: /healthz says so, pages fail on their own queries
        log.warning("cannot read the shared catalogue generation", exc_info=True)
        return
    with _lock:
        if _shared_seen.get(db.url) == value:
            return
        _shared_seen[db.url] = value
    _changed(None, None)


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
    app.before_request(check_shared_generation)
    app.teardown_appcontext(_close)
