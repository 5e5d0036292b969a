"""What makers give back to the designs they produce, as plain data.

Contributions are summed per kind in their own unit: money and donated
hardware per currency (amounts in different currencies are never added up),
hours in hours, improvements as a count. A maker *gives back* to a design
when it has recorded at least one contribution to that design.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..catalogue.queries import get_design
from ..errors import NotFound
from ..models import Contribution, DesignVersion, Maker, Production
from .makers.schema import CONTRIBUTION_KINDS, MONETARY_KINDS

_UNITS = {"hours": "hours", "improvement": "improvements"}


def summarise(contributions: Iterable[Contribution]) -> dict[str, Any]:
    """Count and totals per kind: ``{"count": n, "by_kind": {kind: {"count", "totals": {unit: amount}}}}``.

    The unit of money and hardware is the ISO 4217 currency; of hours
    ``"hours"``; of improvements ``"improvements"``.
    """
    by_kind: dict[str, dict[str, Any]] = {kind: {"count": 0, "totals": {}} for kind in CONTRIBUTION_KINDS}
    count = 0
    for c in contributions:
        count += 1
        entry = by_kind[c.kind]
        entry["count"] += 1
        unit = c.currency if c.kind in MONETARY_KINDS else _UNITS[c.kind]
        entry["totals"][unit] = round(entry["totals"].get(unit, 0.0) + c.amount, 2)
    for entry in by_kind.values():
        entry["totals"] = dict(sorted(entry["totals"].items()))
    return {"count": count, "by_kind": by_kind}


def contribution_view(c: Contribution) -> dict[str, Any]:
    return {"maker": c.maker.slug, "design": c.design.slug, "kind": c.kind, "amount": c.amount,
            "currency": c.currency, "date": c.date.isoformat(), "note": c.note}


def design_reciprocity(session: Session, slug: str) -> dict[str, Any]:
    """Who produces *slug* (any version), and whether each of them gives back to it."""
    design = get_design(session, slug)
    productions = session.scalars(
        select(Production)
        .join(Production.design_version)
        .where(DesignVersion.design_id == design.id)
        .options(selectinload(Production.maker), selectinload(Production.design_version))
    ).all()
    contributions = session.scalars(
        select(Contribution).where(Contribution.design_id == design.id)
        .options(selectinload(Contribution.maker), selectinload(Contribution.design))
        .order_by(Contribution.date, Contribution.id)
    ).all()
    contributors = {c.maker.slug for c in contributions}
    producers: dict[str, dict[str, Any]] = {}
    for p in productions:
        entry = producers.setdefault(p.maker.slug, {
            "slug": p.maker.slug, "name": p.maker.name, "legal_form": p.maker.legal_form,
            "productions": 0, "versions": [], "gives_back": p.maker.slug in contributors,
            "contributions": summarise(c for c in contributions if c.maker.slug == p.maker.slug),
        })
        entry["productions"] += 1
        if p.design_version.version not in entry["versions"]:
            entry["versions"].append(p.design_version.version)
    makers = sorted(producers.values(), key=lambda m: m["slug"])
    return {
        "slug": design.slug,
        "productions": len(productions),
        "producing_makers": len(makers),
        "giving_back": sum(1 for m in makers if m["gives_back"]),
        "makers": makers,
        "contributions": summarise(contributions),
        "contributors": sorted(contributors),
        "contribution_list": [contribution_view(c) for c in contributions],
    }


def get_maker(session: Session, slug: str) -> Maker:
    maker = session.scalar(
        select(Maker).where(Maker.slug == slug).options(
            selectinload(Maker.productions).selectinload(Production.design_version)
            .selectinload(DesignVersion.design),
            selectinload(Maker.contributions).selectinload(Contribution.design),
        )
    )
    if maker is None:
        raise NotFound(f"no maker {slug!r} in the catalogue")
    return maker


def maker_reciprocity(session: Session, slug: str) -> dict[str, Any]:
    """What maker *slug* produces, what it gives back, and to which of those designs.

    ``gives_back`` is true when every design the maker produces has had a
    contribution from it (a maker producing nothing owes nothing).
    """
    maker = get_maker(session, slug)
    produced = sorted({p.design_version.design.slug for p in maker.productions})
    supported = sorted({c.design.slug for c in maker.contributions})
    return {
        "slug": maker.slug,
        "productions": len(maker.productions),
        "designs_produced": produced,
        "designs_supported": supported,
        "gives_back_to": [s for s in produced if s in supported],
        "produces_without_giving_back": [s for s in produced if s not in supported],
        "gives_back": all(s in supported for s in produced),
        "contributions": summarise(maker.contributions),
    }


def format_totals(summary: dict[str, Any]) -> str:
    """``money 250 EUR; 2 improvements; 40 hours`` — a summary in one line for humans."""
    parts = []
    for kind, entry in summary["by_kind"].items():
        if not entry["count"]:
            continue
        if kind == "improvement":
            parts.append(f"{entry['count']} improvement{'s' * (entry['count'] != 1)}")
        elif kind == "hours":
            parts.append(f"{entry['totals']['hours']:g} hours")
        else:
            parts.append(f"{kind} " + ", ".join(f"{amount:g} {unit}" for unit, amount in entry["totals"].items()))
    return "; ".join(parts) or "nothing recorded"
