"""The catalogue generation shared by every process: a counter row in the catalogue database.

Each process caches pages and facts of the catalogue. A counter in the
``cache_generation`` table is bumped inside every transaction that changes the
catalogue (an in-transaction subscriber of :mod:`opendesign.events`), so it
commits or rolls back with the change. A web process reads it at the start of
each request and drops its caches when it moved: a change committed by any
process (another web process, ``opendesign import``, a worker) shows on the
next request, not after a TTL.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from . import events
from .models import CacheGeneration

CATALOGUE = "catalogue"


def bump(_change: events.CatalogueChange, session: Session) -> None:
    """Move the catalogue generation inside the committing transaction (in-transaction subscriber)."""
    result = session.execute(update(CacheGeneration).where(CacheGeneration.name == CATALOGUE)
                             .values(value=CacheGeneration.value + 1))
    if result.rowcount == 0:  # a database migrated before the row existed, or emptied by hand
        session.add(CacheGeneration(name=CATALOGUE, value=1))


def current(engine: Engine) -> int:
    """The committed catalogue generation (0 when the row was never written)."""
    with engine.connect() as conn:
        return conn.execute(select(CacheGeneration.value).where(CacheGeneration.name == CATALOGUE)).scalar() or 0


def install() -> None:
    events.subscribe_in_transaction(bump)
