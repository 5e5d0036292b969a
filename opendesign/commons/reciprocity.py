"""What makers give back to the designs they produce, as plain data.

Only confirmed contributions count (:mod:`.ledger`): totals and "gives back"
are built from entries a steward confirmed and no later entry corrected;
claimed ones are summed apart, disputed ones listed with their reason. Amounts
are exact, per kind and unit: money and hardware per currency (never added
across currencies), hours in hours, improvements as a count. A maker *gives
back* to a design when it has a confirmed contribution to that design.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..catalogue.queries import get_design
from ..errors import NotFound
from ..models import Contribution, DesignVersion, Maker, Production
from .ledger.entries import CLAIMED, CONFIRMED, DISPUTED, entry_view, state
from .ledger.money import percent, unit_of
from .ledger.reports import ENTRY_LOADS, load_entries
from .ledger.totals import Sums, format_totals, per_unit, summarise

__all__ = ["contribution_view", "design_reciprocity", "format_totals", "get_maker", "give_back_per_unit",
           "maker_reciprocity", "summarise"]


def contribution_view(c: Contribution) -> dict[str, Any]:
    return entry_view(c)


def _by_state(entries: list[Contribution], wanted: str) -> list[Contribution]:
    return [e for e in entries if state(e) == wanted]


def design_reciprocity(session: Session, slug: str) -> dict[str, Any]:
    """Who produces *slug* (any version), and whether each of them gives back to it (confirmed)."""
    design = get_design(session, slug)
    productions = session.scalars(
        select(Production)
        .join(Production.design_version)
        .where(DesignVersion.design_id == design.id)
        .options(selectinload(Production.maker), selectinload(Production.design_version))
    ).all()
    contributions = load_entries(session, Contribution.design_id == design.id)
    confirmed = _by_state(contributions, CONFIRMED)
    contributors = {c.maker.slug for c in confirmed}
    producers: dict[str, dict[str, Any]] = {}
    for p in productions:
        entry = producers.setdefault(p.maker.slug, {
            "slug": p.maker.slug, "name": p.maker.name, "legal_form": p.maker.legal_form,
            "productions": 0, "versions": [], "gives_back": p.maker.slug in contributors,
            "contributions": summarise(c for c in confirmed if c.maker.slug == p.maker.slug),
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
        "contributions": summarise(confirmed),
        "claimed": summarise(_by_state(contributions, CLAIMED)),
        "contributors": sorted(contributors),
        "contribution_list": [contribution_view(c) for c in contributions],
    }


def get_maker(session: Session, slug: str) -> Maker:
    maker = session.scalar(
        select(Maker).where(Maker.slug == slug).options(
            selectinload(Maker.productions).selectinload(Production.design_version)
            .selectinload(DesignVersion.design),
            selectinload(Maker.contributions).options(*ENTRY_LOADS),
            selectinload(Maker.attestations),
        )
    )
    if maker is None:
        raise NotFound(f"no maker {slug!r} in the catalogue")
    return maker


def give_back_per_unit(maker: Maker) -> list[dict[str, Any]]:
    """For each production that reports units: confirmed give-back to its design in its period, per unit made."""
    rows = []
    for p in sorted(maker.productions, key=lambda p: p.id):
        if not p.units or p.period_start is None or p.period_end is None:
            continue
        sums = Sums()
        for c in maker.contributions:
            if (c.design_id == p.design_version.design_id and state(c) == CONFIRMED
                    and p.period_start <= c.date <= p.period_end):
                sums.add_entry(c)
        per: dict[str, dict[str, str]] = {}
        for (kind, unit), minor in sorted(sums.minor.items()):
            amount, display = per_unit(minor, unit, p.units)
            item = {"kind": kind, "amount": amount, "display": display}
            if p.price and p.currency == unit:
                item["of_price"] = percent(Fraction(Decimal(amount)) / Fraction(Decimal(repr(p.price))))
            per[f"{kind} {unit}"] = item
        rows.append({"design": p.design_version.ref, "units": p.units, "period_start": p.period_start.isoformat(),
                     "period_end": p.period_end.isoformat(), "per_unit": per})
    return rows


def maker_reciprocity(session: Session, slug: str) -> dict[str, Any]:
    """What maker *slug* produces, what it gives back (confirmed), and to which of those designs.

    ``gives_back`` is true when every design the maker produces has had a
    confirmed contribution from it (a maker producing nothing owes nothing).
    """
    maker = get_maker(session, slug)
    entries = list(maker.contributions)
    confirmed = _by_state(entries, CONFIRMED)
    produced = sorted({p.design_version.design.slug for p in maker.productions})
    supported = sorted({c.design.slug for c in confirmed})
    return {
        "slug": maker.slug,
        "productions": len(maker.productions),
        "designs_produced": produced,
        "designs_supported": supported,
        "gives_back_to": [s for s in produced if s in supported],
        "produces_without_giving_back": [s for s in produced if s not in supported],
        "gives_back": all(s in supported for s in produced),
        "contributions": summarise(confirmed),
        "claimed": summarise(_by_state(entries, CLAIMED)),
        "disputed": [{"id": c.entry_id, "design": c.design.slug, "kind": c.kind, "unit": unit_of(c.kind, c.currency),
                      "reason": entry_view(c)["reason"]} for c in _by_state(entries, DISPUTED)],
        "per_unit": give_back_per_unit(maker),
    }
