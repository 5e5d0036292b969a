"""Catalogue change notifications: inside a transaction just before it commits, and after it committed.

As warehouse does for its search index: the ORM's flush events collect which
designs a transaction touched, and subscribers (the search index, caches) hear
about them only once the commit succeeded, so they never index a change that
was rolled back. Writers that belong to the catalogue's own database (the
PostgreSQL search documents, the shared cache generation) subscribe *in the
transaction* instead: they write through the committing session, so their rows
commit or roll back with the change itself, and a failure there fails the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

_CHANGED = "opendesign.changed_slugs"
_DELETED = "opendesign.deleted_slugs"


@dataclass(frozen=True)
class CatalogueChange:
    changed: frozenset[str] = field(default_factory=frozenset)
    deleted: frozenset[str] = field(default_factory=frozenset)


Subscriber = Callable[[CatalogueChange, sessionmaker], None]
_subscribers: list[Subscriber] = []
InTransactionSubscriber = Callable[[CatalogueChange, Session], None]
_in_transaction: list[InTransactionSubscriber] = []


def subscribe(fn: Subscriber) -> Subscriber:
    """Call *fn(change, sessionmaker)* after every commit that touched designs."""
    if fn not in _subscribers:
        _subscribers.append(fn)
    return fn


def unsubscribe(fn: Subscriber) -> None:
    if fn in _subscribers:
        _subscribers.remove(fn)


def subscribe_in_transaction(fn: InTransactionSubscriber) -> InTransactionSubscriber:
    """Call *fn(change, session)* inside every transaction that touched designs, just before it commits."""
    if fn not in _in_transaction:
        _in_transaction.append(fn)
    return fn


def unsubscribe_in_transaction(fn: InTransactionSubscriber) -> None:
    if fn in _in_transaction:
        _in_transaction.remove(fn)


def _slugs_of(obj) -> set[str]:
    """The designs whose indexed facts *obj* belongs to."""
    from .models import (Attestation, AttestationChallenge, ChallengeResolution, Contribution, Design, DesignSteward,
                         DesignVersion, LedgerReview, Lineage, Maker, Production)

    def slug(version) -> set[str]:
        return {version.design.slug} if version is not None and version.design is not None else set()

    if isinstance(obj, Design):
        return {obj.slug}
    if isinstance(obj, DesignVersion):
        return slug(obj)
    if isinstance(obj, Production):
        return slug(obj.design_version)
    if isinstance(obj, Contribution):
        return {obj.design.slug} if obj.design is not None else set()
    if isinstance(obj, Lineage):
        # An edge changes the child's lineage and the parent's fork count.
        return slug(obj.child) | slug(obj.parent)
    if isinstance(obj, Maker):
        # A maker's name and country are indexed on every design it produces.
        return set().union(*(slug(p.design_version) for p in obj.productions))
    # The ledger: a review changes the totals of the entry's design (and, through flows, its ancestors', whose
    # pages the caches drop with everything else); an attestation and its challenges change the verdicts of
    # every design the maker produces.
    if isinstance(obj, LedgerReview):
        return _slugs_of(obj.contribution) if obj.contribution is not None else set()
    if isinstance(obj, DesignSteward):
        return {obj.design.slug} if obj.design is not None else set()
    if isinstance(obj, ChallengeResolution):
        return _slugs_of(obj.challenge) if obj.challenge is not None else set()
    if isinstance(obj, AttestationChallenge):
        return _slugs_of(obj.attestation) if obj.attestation is not None else set()
    if isinstance(obj, Attestation):
        return _slugs_of(obj.maker) if obj.maker is not None else set()
    return set()


def _after_flush(session: Session, _context) -> None:
    from .models import Design

    changed = session.info.setdefault(_CHANGED, set())
    deleted = session.info.setdefault(_DELETED, set())
    for obj in list(session.new) + list(session.dirty):
        changed |= _slugs_of(obj)
    for obj in session.deleted:
        if isinstance(obj, Design):
            deleted.add(obj.slug)
        else:
            changed |= _slugs_of(obj)


def _before_commit(session: Session) -> None:
    if not _in_transaction:
        return
    session.flush()  # the last changes, so after_flush has collected every slug
    changed = session.info.get(_CHANGED, set())
    deleted = session.info.get(_DELETED, set())
    if not (changed or deleted):
        return
    change = CatalogueChange(frozenset(changed - deleted), frozenset(deleted))
    for fn in list(_in_transaction):
        fn(change, session)  # no catch: what cannot be written with the change must not commit without it


def _after_commit(session: Session) -> None:
    changed = session.info.pop(_CHANGED, set())
    deleted = session.info.pop(_DELETED, set())
    if not (changed or deleted) or not _subscribers:
        return
    change = CatalogueChange(frozenset(changed - deleted), frozenset(deleted))
    maker = session.info.get("sessionmaker")
    for fn in list(_subscribers):
        try:
            fn(change, maker)
        except Exception:  # a broken subscriber must not undo a committed import
            log.exception("catalogue change subscriber %r failed", fn)


def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)
    session.info.pop(_DELETED, None)


def install(maker: sessionmaker) -> None:
    """Attach the change tracking to sessions made by *maker*."""
    maker.kw.setdefault("info", {})["sessionmaker"] = maker
    event.listen(maker, "after_flush", _after_flush)
    event.listen(maker, "before_commit", _before_commit)
    event.listen(maker, "after_commit", _after_commit)
    event.listen(maker, "after_soft_rollback", lambda s, _t: _after_rollback(s))
