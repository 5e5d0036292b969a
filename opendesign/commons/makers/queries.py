"""Reading makers: listings and the detail of one maker, as plain data."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...licenses.compliance import STATUSES
from ...models import DesignVersion, Maker, Production
from ..compliance import production_view, today
from ..ledger.attestations import ownership_view
from ..ledger.entries import CLAIMED, CONFIRMED, state
from ..ledger.reports import ENTRY_LOADS
from ..reciprocity import contribution_view, get_maker, maker_reciprocity, summarise


def _verdict_counts(productions: list[Production]) -> dict[str, int]:
    found = Counter(p.verdict for p in productions)
    return {status: found.get(status, 0) for status in STATUSES}


def maker_summary(maker: Maker) -> dict[str, Any]:
    """The fields a listing shows; ``contributions`` sums confirmed entries, ``claimed`` those awaiting review."""
    return {
        "slug": maker.slug,
        "name": maker.name,
        "legal_form": maker.legal_form,
        "country": maker.country,
        "website": maker.website,
        "productions": len(maker.productions),
        "verdicts": _verdict_counts(maker.productions),
        "contributions": summarise(c for c in maker.contributions if state(c) == CONFIRMED),
        "claimed": summarise(c for c in maker.contributions if state(c) == CLAIMED),
    }


def list_makers(session: Session) -> list[dict[str, Any]]:
    stmt = (
        select(Maker)
        .options(selectinload(Maker.productions), selectinload(Maker.contributions).options(*ENTRY_LOADS))
        .order_by(Maker.slug)
    )
    return [maker_summary(m) for m in session.scalars(stmt)]


def maker_detail(session: Session, slug: str) -> dict[str, Any]:
    """One maker: its fields, productions with stored verdicts, contributions, reciprocity."""
    maker = get_maker(session, slug)
    return {
        **maker_summary(maker),
        "description": maker.description,
        "productions": [production_view(p) for p in sorted(maker.productions, key=lambda p: p.id)],
        "production_count": len(maker.productions),
        "contributions": [contribution_view(c) for c in sorted(maker.contributions, key=lambda c: c.position)],
        "attestations": ownership_view(maker, today()),
        "reciprocity": maker_reciprocity(session, slug),
    }


def design_productions(session: Session, slug: str) -> list[dict[str, Any]]:
    """Every production of any version of design *slug*, with its stored verdict (for design pages)."""
    stmt = (
        select(Production)
        .join(Production.design_version)
        .join(DesignVersion.design)
        .where(DesignVersion.design.has(slug=slug))
        .options(selectinload(Production.maker).selectinload(Maker.attestations),
                 selectinload(Production.design_version).selectinload(DesignVersion.design))
        .order_by(Production.id)
    )
    return [production_view(p) for p in session.scalars(stmt)]


__all__ = ["design_productions", "list_makers", "maker_detail", "maker_summary"]
