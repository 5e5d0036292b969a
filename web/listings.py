"""Catalogue listings for the home page and the makers/licenses pages.

Queries return plain card data; the home page's figures are cached for a few
seconds per process and dropped whenever a catalogue change commits (the
change events of :mod:`opendesign.events`, through :func:`web.db.on_change`),
so a busy home page costs a dict look-up. A value read in a transaction that
may predate a change is not stored.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import desc, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from opendesign.manifests import CATEGORIES
from opendesign.models import Design, DesignVersion, Lineage, Production

from . import db as webdb

HOME_TTL = 10.0
_lock = threading.Lock()
_cache: dict[Any, tuple[float, Any]] = {}


@webdb.on_change
def _invalidate() -> None:
    with _lock:
        _cache.clear()


def cached(key, compute, ttl: float = HOME_TTL):
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit and now - hit[0] < ttl:
        return hit[1]
    generation = webdb.session_generation()
    value = compute()
    if generation == webdb.generation():
        with _lock:
            _cache[key] = (now, value)
    return value


def card(v: DesignVersion, **extra) -> dict[str, Any]:
    return {"slug": v.design.slug, "version": v.version, "title": v.title, "summary": v.summary,
            "license": v.license, "category": v.category, "authors": [a.name for a in v.authors], **extra}


def _latest():
    return (select(DesignVersion).join(Design, Design.latest_version_id == DesignVersion.id)
            .options(selectinload(DesignVersion.design), selectinload(DesignVersion.authors)))


def category_counts(session: Session) -> list[tuple[str, int]]:
    rows = dict(session.execute(
        select(DesignVersion.category, func.count()).join(Design, Design.latest_version_id == DesignVersion.id)
        .group_by(DesignVersion.category)).all())
    return [(c, rows.get(c, 0)) for c in CATEGORIES]


def newest(session: Session, limit: int = 8) -> list[dict[str, Any]]:
    stmt = _latest().order_by(desc(DesignVersion.created_at), desc(DesignVersion.id)).limit(limit)
    return [card(v) for v in session.scalars(stmt)]


def most_produced(session: Session, limit: int = 8) -> list[dict[str, Any]]:
    counts = (select(DesignVersion.design_id.label("design_id"), func.count(Production.id).label("n"))
              .join(Production, Production.version_id == DesignVersion.id)
              .group_by(DesignVersion.design_id).order_by(desc("n")).limit(limit).subquery())
    rows = session.execute(select(counts.c.design_id, counts.c.n).order_by(desc(counts.c.n))).all()
    return _cards_by_design(session, rows, "productions")


def most_forked(session: Session, limit: int = 8) -> list[dict[str, Any]]:
    child, parent = aliased(DesignVersion), aliased(DesignVersion)
    n = func.count(func.distinct(child.design_id))
    stmt = (select(parent.design_id, n.label("n")).select_from(Lineage)
            .join(child, child.id == Lineage.child_id).join(parent, parent.id == Lineage.parent_id)
            .where(child.design_id != parent.design_id)
            .group_by(parent.design_id).order_by(desc("n")).limit(limit))
    return _cards_by_design(session, session.execute(stmt).all(), "forks")


def _cards_by_design(session: Session, rows, label: str) -> list[dict[str, Any]]:
    if not rows:
        return []
    ids = [r[0] for r in rows]
    versions = {v.design_id: v for v in session.scalars(_latest().where(Design.id.in_(ids)))}
    return [card(versions[i], **{label: n}) for i, n in rows if i in versions]


def home_data(session: Session) -> dict[str, Any]:
    return cached(("home", webdb.database().url), lambda: {
        "categories": category_counts(session),
        "newest": newest(session),
        "most_produced": most_produced(session),
        "most_forked": most_forked(session),
        "total": session.scalar(select(func.count()).select_from(Design)) or 0,
    })
