"""Qualified producers: makers a design's commons can recommend.

A maker qualifies for a design when every production of it (any version) is
``compliant`` and, in the last :data:`WINDOW_MONTHS` months up to today, it has
a confirmed contribution to the design or -- since value flows up the lineage
-- to a version deriving from it. The window moves with the calendar: a maker
stops qualifying a year after its last confirmed contribution.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from ...models import Contribution, Design, DesignVersion, Maker, Production
from ..compliance import current_detail, today as today_
from ..lineage import descendant_ids
from .entries import CONFIRMED, state
from .money import format_amount, unit_of

WINDOW_MONTHS = 12


def window_start(today: date) -> date:
    """The same day a year earlier (28 February for 29 February): the window's first day."""
    try:
        return today.replace(year=today.year - 1)
    except ValueError:
        return today.replace(year=today.year - 1, day=28)


def qualified_producers(session: Session, design: Design, today: date | None = None, *,
                        own: list[int] | None = None, entries: list[Contribution] | None = None) -> list[dict[str, Any]]:
    """Makers producing *design* compliantly who gave back to it, or to a descendant, in the window.

    :param own: the design's version ids, and *entries* every entry to the design or to a version deriving
        from it, when the caller has them already (:func:`.reports.design_ledger` does).
    """
    from .reports import load_entries

    today = today or today_()
    since = window_start(today)
    if own is None:
        own = list(session.scalars(select(DesignVersion.id).where(DesignVersion.design_id == design.id)))
    productions = list(session.scalars(
        select(Production).where(Production.version_id.in_(own))
        .options(joinedload(Production.maker).selectinload(Maker.attestations),
                 joinedload(Production.design_version).joinedload(DesignVersion.design))))
    if not productions:
        return []
    if entries is None:
        below = descendant_ids(session, own)
        entries = load_entries(session, or_(Contribution.design_id == design.id, Contribution.version_id.in_(below))
                               if below else Contribution.design_id == design.id)
    by_maker: dict[int, list[Production]] = {}
    for p in productions:
        by_maker.setdefault(p.maker_id, []).append(p)
    found = []
    for maker_id, made in by_maker.items():
        if any(current_detail(p, today).get("status") != "compliant" for p in made):
            continue
        given = sorted((e for e in entries if e.maker_id == maker_id and state(e) == CONFIRMED
                        and since <= e.date <= today + timedelta(days=1)),
                       key=lambda e: (e.date, e.id), reverse=True)
        if not given:
            continue
        maker = made[0].maker
        found.append({
            "slug": maker.slug, "name": maker.name, "legal_form": maker.legal_form, "country": maker.country,
            "versions": sorted({p.design_version.version for p in made}),
            "since": since.isoformat(),
            "contributions": [{"id": e.entry_id, "design": e.design.slug, "date": e.date.isoformat(),
                               "display": format_amount(e.amount_minor, e.scale, unit_of(e.kind, e.currency)),
                               "kind": e.kind} for e in given],
        })
    return sorted(found, key=lambda m: m["slug"])
