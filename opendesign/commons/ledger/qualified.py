"""Qualified producers: makers a design's commons can recommend.

A maker qualifies for a design when every production of it (any version) is
``compliant`` and, in the last :data:`WINDOW_MONTHS` months up to today, it has
a confirmed contribution to the design or -- since value flows up the lineage
-- to one of its descendants. The window moves with the calendar: a maker
stops qualifying a year after its last confirmed contribution.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

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


def qualified_producers(session: Session, design: Design, today: date | None = None) -> list[dict[str, Any]]:
    """Makers producing *design* compliantly who gave back to it, or to a descendant, in the window."""
    from .reports import load_entries

    today = today or today_()
    since = window_start(today)
    own = list(session.scalars(select(DesignVersion.id).where(DesignVersion.design_id == design.id)))
    productions = list(session.scalars(
        select(Production).where(Production.version_id.in_(own))
        .options(selectinload(Production.maker).selectinload(Maker.attestations),
                 selectinload(Production.design_version).selectinload(DesignVersion.design))))
    if not productions:
        return []
    by_maker: dict[int, list[Production]] = {}
    for p in productions:
        by_maker.setdefault(p.maker_id, []).append(p)
    below = descendant_ids(session, own)
    designs = {design.id} | set(session.scalars(select(DesignVersion.design_id).where(DesignVersion.id.in_(below)))
                                if below else set())
    entries = load_entries(session, Contribution.maker_id.in_(list(by_maker)), Contribution.design_id.in_(designs),
                           Contribution.date >= since, Contribution.date <= today + timedelta(days=1))
    found = []
    for maker_id, made in by_maker.items():
        if any(current_detail(p, today).get("status") != "compliant" for p in made):
            continue
        given = sorted((e for e in entries if e.maker_id == maker_id and state(e) == CONFIRMED),
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
