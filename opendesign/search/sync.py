"""Keeping the index in step with the catalogue, and comparing the two.

:func:`install` subscribes the index of one deployment to
:mod:`opendesign.events`, so every committed change to designs (a new design,
a new version, a maker producing it, a deletion) is re-indexed right after the
commit, as warehouse does. Re-indexing a design also re-indexes the designs
it derives from, whose fork counts just changed.

The PostgreSQL backend is written inside the committing transaction instead
(:class:`InTransactionSync`): its documents commit or roll back with the change.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from .. import events
from ..config import Settings
from .documents import catalogue_fingerprints, load_documents
from .service import IndexStatus, SearchIndex
from .indexes import get_index

log = logging.getLogger(__name__)


def in_transaction(index: SearchIndex, session: Session) -> SearchIndex:
    """*index* as it writes inside *session*'s transaction (itself for a backend that cannot)."""
    bound = getattr(index, "bound", None)
    return bound(session.connection()) if getattr(index, "in_transaction", False) and bound else index


@lru_cache(maxsize=64)
def _database_key(url: str) -> tuple:
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:"):
        database = os.path.realpath(database)
    # The query holds PostgreSQL's search_path option: another schema is another catalogue.
    return (parsed.get_backend_name(), parsed.host, parsed.port, database, tuple(sorted(parsed.query.items())))


def _maker_url(maker: sessionmaker | None) -> str | None:
    bind = maker.kw.get("bind") if maker is not None else None
    url = getattr(bind, "url", None)
    return url.render_as_string(hide_password=False) if url is not None else None


def update_index(index: SearchIndex, session: Session, changed=(), deleted=()) -> None:
    """Re-index *changed* designs (and their parents) and drop *deleted* ones."""
    changed, deleted = set(changed) - set(deleted), set(deleted)
    if not (changed or deleted):
        return
    if not index.exists():
        # No index yet: build it whole from the catalogue, which includes this change.
        index.rebuild(load_documents(session))
        return
    # Parents before the change (from the index) and after it (from the catalogue).
    old_parents = index.parents_of(changed | deleted)
    documents = list(load_documents(session, changed))
    new_parents = {p for doc in documents for p in doc.parents}
    found = {doc.slug for doc in documents}
    parents = (old_parents | new_parents) - changed - deleted
    documents += list(load_documents(session, parents))
    found |= {doc.slug for doc in documents}
    # A changed design without a published version is no longer searchable.
    gone = deleted | ((changed | parents) - found)
    index.apply(documents, deleted=gone)


def rebuild_index(index: SearchIndex, session: Session) -> int:
    """Build the whole index afresh from the catalogue and swap it in."""
    return index.rebuild(load_documents(session))


@dataclass(frozen=True)
class SyncStatus:
    index: IndexStatus
    database_documents: int
    missing: tuple[str, ...]
    stale: tuple[str, ...]
    extra: tuple[str, ...]

    @property
    def in_sync(self) -> bool:
        return self.index.exists and not (self.missing or self.stale or self.extra)

    def as_dict(self) -> dict:
        return {
            "exists": self.index.exists,
            "generation": self.index.generation,
            "documents": self.index.documents,
            "database_documents": self.database_documents,
            "last_update": self.index.last_update.isoformat() if self.index.last_update else None,
            "in_sync": self.in_sync,
            "missing": list(self.missing),
            "stale": list(self.stale),
            "extra": list(self.extra),
        }


def compare(index: SearchIndex, session: Session) -> SyncStatus:
    """Whether the index holds exactly the catalogue's latest versions (slug, version, content hash)."""
    status = index.status()
    db = catalogue_fingerprints(session)
    indexed = set(status.fingerprints)
    db_by_slug = {fp[0]: fp for fp in db}
    ix_by_slug = {fp[0]: fp for fp in indexed}
    missing = sorted(set(db_by_slug) - set(ix_by_slug))
    extra = sorted(set(ix_by_slug) - set(db_by_slug))
    stale = sorted(s for s in set(db_by_slug) & set(ix_by_slug) if db_by_slug[s] != ix_by_slug[s])
    return SyncStatus(status, len(db), tuple(missing), tuple(stale), tuple(extra))


@dataclass(frozen=True)
class IndexSync:
    """The events subscriber for one deployment: re-indexes what its database's commits touched.

    Equal for equal settings, so installing twice subscribes once.
    """

    settings: Settings

    def __call__(self, change: events.CatalogueChange, maker: sessionmaker | None) -> None:
        url = _maker_url(maker)
        if url is None or _database_key(url) != _database_key(self.settings.database):
            return  # another deployment's database (tests, several apps in one process)
        handle_change(get_index(self.settings), change, maker)

    def __hash__(self) -> int:
        return hash(str(self.settings.index_dir))


@dataclass(frozen=True)
class InTransactionSync:
    """The in-transaction subscriber for one deployment whose index lives in its catalogue database."""

    settings: Settings

    def __call__(self, change: events.CatalogueChange, session: Session) -> None:
        url = getattr(session.get_bind(), "url", None)
        if url is None or _database_key(url.render_as_string(hide_password=False)) != \
                _database_key(self.settings.database):
            return
        update_in_transaction(get_index(self.settings), session, change)

    def __hash__(self) -> int:
        return hash(self.settings.database)


def update_in_transaction(index: SearchIndex, session: Session, change: events.CatalogueChange) -> None:
    """Re-index what *change* touched, through *session*, before it commits."""
    update_index(in_transaction(index, session), session, change.changed, change.deleted)


def handle_change(index: SearchIndex, change: events.CatalogueChange, maker: sessionmaker) -> None:
    if getattr(index, "in_transaction", False):
        return  # written with the change itself
    session = maker()
    try:
        update_index(index, session, change.changed, change.deleted)
    finally:
        session.close()


def install(settings: Settings) -> SearchIndex:
    """Keep the index of *settings* in sync with every commit to its database; return the index.

    Call once at start-up (the CLI and the web app do). Safe when the index does
    not exist yet: the first change builds it from the whole catalogue.
    """
    if settings.search_engine == "postgres":
        events.subscribe_in_transaction(InTransactionSync(settings))
    else:
        events.subscribe(IndexSync(settings))
    return get_index(settings)


def uninstall(settings: Settings) -> None:
    events.unsubscribe(IndexSync(settings))
    events.unsubscribe_in_transaction(InTransactionSync(settings))


def ensure_index(index: SearchIndex, session: Session) -> bool:
    """Build the index from the catalogue if it was never built; return whether it was built now."""
    if index.exists():
        return False
    index.rebuild(load_documents(session))
    return True
