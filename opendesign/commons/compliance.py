"""Compliance verdicts of productions: evaluate, store, and report them.

The rules are the license library's
(:func:`opendesign.licenses.compliance.evaluate_production`); this module
feeds it the facts the catalogue holds about one production and keeps the
answer on the :class:`~opendesign.models.Production` row, so listings need
not re-evaluate. Verdicts are recomputed on every maker import and whenever
an attestation, challenge or resolution is recorded; a stored verdict that
turns on an attestation's dates says until when it holds (``holds_until``), and
is re-evaluated when read after that day.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..licenses.compliance import STATUSES, evaluate_production
from ..models import DesignVersion, Maker, Production


def today() -> date:
    return datetime.now(UTC).date()


def source_location(production: Production) -> str:
    """Where the product's source is: as recorded, else the published modification."""
    return production.source_location or (production.modified_source if production.modified else "")


def evaluate(production: Production, on: date | None = None) -> dict[str, Any]:
    """The verdict on *production* on day *on* (today), as plain data (what ``verdict_detail`` stores)."""
    from .ledger.attestations import holds_until, worker_ownership

    on = on or today()
    version = production.design_version
    maker = production.maker
    verdict = evaluate_production(
        license_expression=version.license,
        maker_legal_form=maker.legal_form,
        modified=production.modified,
        modified_source=production.modified_source,
        attribution=production.attribution,
        design_ref=version.ref,
        worker_ownership=worker_ownership(maker, on),
        source_location=source_location(production),
        notice=production.notice,
    )
    return {
        "status": verdict.status,
        "reason": verdict.reason,
        "clause": verdict.clause,
        "actions": list(verdict.actions),
        "obligations": list(verdict.obligations),
        "license": verdict.license,
        "option": verdict.option,
        "holds_until": holds_until(maker, on),
    }


def refresh(production: Production, on: date | None = None) -> bool:
    """Re-evaluate *production* and store the verdict; whether it changed."""
    detail = evaluate(production, on)
    if production.verdict == detail["status"] and production.verdict_detail == detail:
        return False
    production.verdict = detail["status"]
    production.verdict_detail = detail
    return True


def refresh_all(session: Session, on: date | None = None) -> int:
    """Re-evaluate every production in the catalogue; how many verdicts changed."""
    return sum(refresh(p, on) for p in _productions(session))


def current_detail(production: Production, on: date | None = None) -> dict[str, Any]:
    """The stored verdict, unless the day it holds until has passed (then evaluated afresh, not stored)."""
    detail = production.verdict_detail or {}
    until = detail.get("holds_until")
    on = on or today()
    if detail and until and on.isoformat() > until:
        return evaluate(production, on)
    return detail


def _productions(session: Session, maker_slug: str | None = None) -> list[Production]:
    stmt = (
        select(Production)
        .join(Production.maker)
        .options(
            selectinload(Production.maker).selectinload(Maker.attestations),
            selectinload(Production.design_version).selectinload(DesignVersion.design),
        )
        .order_by(Maker.slug, Production.id)
    )
    if maker_slug is not None:
        stmt = stmt.where(Maker.slug == maker_slug)
    return list(session.scalars(stmt))


def production_view(production: Production, detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """One production as plain data, with its verdict (stored and current, unless *detail* is given)."""
    version = production.design_version
    detail = detail if detail is not None else current_detail(production)
    return {
        "maker": production.maker.slug,
        "maker_name": production.maker.name,
        "legal_form": production.maker.legal_form,
        "design": version.ref,
        "slug": version.design.slug,
        "version": version.version,
        "title": version.title,
        "license": version.license,
        "modified": production.modified,
        "modified_source": production.modified_source,
        "attribution": production.attribution,
        "price": production.price,
        "currency": production.currency,
        "regions": list(production.regions or []),
        "units": production.units,
        "period_start": production.period_start.isoformat() if production.period_start else None,
        "period_end": production.period_end.isoformat() if production.period_end else None,
        "source_location": production.source_location or "",
        "notice": production.notice,
        "verdict": detail.get("status", production.verdict),
        "reason": detail.get("reason", ""),
        "clause": detail.get("clause", ""),
        "actions": list(detail.get("actions", [])),
        "obligations": list(detail.get("obligations", [])),
    }


@dataclass
class ComplianceReport:
    """Every production with a freshly evaluated verdict."""

    productions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(p["verdict"] for p in self.productions)
        return {status: found.get(status, 0) for status in STATUSES}

    @property
    def ok(self) -> bool:
        """No violations (``needs-action`` and ``needs-review`` are not failures)."""
        return self.counts["violation"] == 0

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "counts": self.counts, "productions": self.productions}


def audit(session: Session, maker_slug: str | None = None, on: date | None = None) -> ComplianceReport:
    """Evaluate every production (of one maker, if given) against the current rules, on day *on*.

    Read-only: stored verdicts are refreshed by the maker import, not here.
    """
    return ComplianceReport([production_view(p, evaluate(p, on)) for p in _productions(session, maker_slug)])


def refresh_maker(maker: Maker, on: date | None = None) -> int:
    """Re-evaluate every production of *maker* (after an attestation, challenge or resolution)."""
    return sum(refresh(p, on) for p in maker.productions)


def stored_counts(session: Session) -> dict[str, int]:
    """How many productions hold each stored verdict."""
    found = Counter(session.scalars(select(Production.verdict)))
    return {status: found.get(status, 0) for status in STATUSES}
