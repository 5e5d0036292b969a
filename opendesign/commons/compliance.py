"""Compliance verdicts of productions: evaluate, store, and report them.

The rules are the license library's
(:func:`opendesign.licenses.compliance.evaluate_production`); this module
feeds it the facts the catalogue holds about one production and keeps the
answer on the :class:`~opendesign.models.Production` row, so listings need
not re-evaluate. Verdicts are recomputed on every maker import.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..licenses.compliance import STATUSES, evaluate_production
from ..models import DesignVersion, Maker, Production


def evaluate(production: Production) -> dict[str, Any]:
    """The verdict on *production* now, as plain data (what ``verdict_detail`` stores)."""
    version = production.design_version
    verdict = evaluate_production(
        license_expression=version.license,
        maker_legal_form=production.maker.legal_form,
        modified=production.modified,
        modified_source=production.modified_source,
        attribution=production.attribution,
        design_ref=version.ref,
    )
    return {
        "status": verdict.status,
        "reason": verdict.reason,
        "clause": verdict.clause,
        "actions": list(verdict.actions),
        "obligations": list(verdict.obligations),
        "license": verdict.license,
        "option": verdict.option,
    }


def refresh(production: Production) -> bool:
    """Re-evaluate *production* and store the verdict; whether it changed."""
    detail = evaluate(production)
    if production.verdict == detail["status"] and production.verdict_detail == detail:
        return False
    production.verdict = detail["status"]
    production.verdict_detail = detail
    return True


def refresh_all(session: Session) -> int:
    """Re-evaluate every production in the catalogue; how many verdicts changed."""
    return sum(refresh(p) for p in _productions(session))


def _productions(session: Session, maker_slug: str | None = None) -> list[Production]:
    stmt = (
        select(Production)
        .join(Production.maker)
        .options(
            selectinload(Production.maker),
            selectinload(Production.design_version).selectinload(DesignVersion.design),
        )
        .order_by(Maker.slug, Production.id)
    )
    if maker_slug is not None:
        stmt = stmt.where(Maker.slug == maker_slug)
    return list(session.scalars(stmt))


def production_view(production: Production, detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """One production as plain data, with its verdict (stored, unless *detail* is given)."""
    version = production.design_version
    detail = detail if detail is not None else (production.verdict_detail or {})
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


def audit(session: Session, maker_slug: str | None = None) -> ComplianceReport:
    """Evaluate every production (of one maker, if given) against the current rules.

    Read-only: stored verdicts are refreshed by the maker import, not here.
    """
    return ComplianceReport([production_view(p, evaluate(p)) for p in _productions(session, maker_slug)])


def stored_counts(session: Session) -> dict[str, int]:
    """How many productions hold each stored verdict."""
    found = Counter(session.scalars(select(Production.verdict)))
    return {status: found.get(status, 0) for status in STATUSES}
