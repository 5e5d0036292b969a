"""The commons layer as the pages need it: lineage, attribution, makers, verdicts, licenses."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from opendesign.models import Contribution, Design, DesignVersion, Maker, Production

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    try:  # importing the commons package registers its license check with the importer
        import opendesign.commons  # noqa: F401
        from opendesign.commons import edges

        edges.install()
    except ImportError as exc:  # pragma: no cover - only while the commons layer is missing
        log.warning("commons layer unavailable (%s); forks are not license-checked", exc)


def family(session: Session, slug: str):
    from opendesign.commons.lineage import family as family_of

    return family_of(session, slug)


def ancestors_and_descendants(session: Session, version: DesignVersion) -> tuple[list, list]:
    from opendesign.commons.lineage import ancestors, descendants

    return ancestors(session, version), descendants(session, version)


def attribution(session: Session, version: DesignVersion, base_url: str) -> list[dict[str, Any]]:
    from opendesign.commons.attribution import attribution_chain

    return attribution_chain(session, version, base_url)


def attribution_text(chain: list[dict[str, Any]]) -> str:
    from opendesign.commons.attribution import attribution_text as text

    return text(chain)


def productions_of_design(session: Session, design: Design) -> list[dict[str, Any]]:
    from opendesign.commons.compliance import production_view

    rows = session.scalars(
        select(Production).join(Production.design_version).where(DesignVersion.design_id == design.id)
        .options(selectinload(Production.maker).selectinload(Maker.attestations),
                 selectinload(Production.design_version).selectinload(DesignVersion.design))
        .order_by(Production.id)
    )
    return [production_view(p) for p in rows]


def design_reciprocity(session: Session, slug: str) -> dict[str, Any]:
    from opendesign.commons.reciprocity import design_reciprocity as reciprocity

    return reciprocity(session, slug)


def design_ledger(session: Session, slug: str) -> dict[str, Any]:
    from opendesign.commons.ledger.reports import design_ledger as ledger

    return ledger(session, slug)


def maker_reciprocity(session: Session, slug: str) -> dict[str, Any]:
    from opendesign.commons.reciprocity import maker_reciprocity as reciprocity

    return reciprocity(session, slug)


def format_totals(summary: dict[str, Any]) -> str:
    from opendesign.commons.reciprocity import format_totals as fmt

    return fmt(summary)


def maker_productions(session: Session, maker: Maker) -> list[dict[str, Any]]:
    from opendesign.commons.compliance import production_view

    return [production_view(p) for p in maker.productions]


def fork_counts(session: Session) -> dict[str, int]:
    from opendesign.commons.lineage import fork_counts as counts

    return counts(session)


def license(license_id: str):
    """The registry's :class:`~opendesign.licenses.License`, or None."""
    from opendesign.licenses import registry

    return registry.find(license_id)


def all_licenses():
    from opendesign.licenses import registry

    return registry.all_licenses()


def license_ids(expression: str) -> list[str]:
    from opendesign.licenses.spdx import license_keys

    return list(license_keys(expression))


def allowed_fork_licenses(version: DesignVersion) -> tuple[bool, list[str], str]:
    """(possible, allowed licenses, reason if not possible) for a fork of *version*."""
    from opendesign.commons.edges import parent_ref
    from opendesign.licenses.compatibility import allowance, allowed_licenses

    refs = [parent_ref(version)]
    result = allowance(refs)
    if not result.possible:
        return False, [], result.reason
    return True, allowed_licenses(refs), ""


def maker_counts(session: Session) -> dict[str, Any]:
    forms = dict(session.execute(select(Maker.legal_form, func.count()).group_by(Maker.legal_form)).all())
    countries = dict(session.execute(select(Maker.country, func.count()).group_by(Maker.country)).all())
    return {"legal_form": forms, "country": countries}


def contributions_of_maker(maker: Maker) -> list[Contribution]:
    return sorted(maker.contributions, key=lambda c: (c.date, c.id))
