"""Maker accounts: register an organisation, claim productions, record contributions.

What a form or an API body holds is checked exactly as a maker file is
(:mod:`opendesign.commons.makers`): the organisation as a maker file without
productions, a claim as one ``[[productions]]`` entry, a contribution as one
``[[contributions]]`` entry, with the same catalogue checks, and the errors
name the same fields. A claimed production gets its compliance verdict at
once (:func:`opendesign.commons.compliance.refresh`).

A contribution becomes a ``claimed`` entry of the reciprocity ledger
(:mod:`opendesign.commons.ledger`) with a random id; an attestation is
recorded and the maker's verdicts re-evaluated at once.

Who may write: the maker's owner (``Maker.owner_id``) and, through the API,
only with a token scoped ``makers:<slug>`` or ``makers:*``. Registering needs
the same scope for the new slug. Makers imported from ``designs/makers/`` have
no owner, so nobody can write to them here. The caller commits and audits.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from opendesign.accounts import PermissionDenied, check_scope
from opendesign.errors import FieldError, ManifestError
from opendesign.models import ApiToken, Contribution, Maker, Production, User

#: The fields of a maker file that registering takes; productions and contributions are claimed one by one.
ORGANISATION_FIELDS = ("slug", "name", "legal_form", "country", "website", "description")


class MakerSlugTaken(ManifestError):
    """Another maker already has this slug (HTTP 409)."""

    def __init__(self, slug: str):
        super().__init__([FieldError("", "slug", f"{slug!r} is taken by another maker; choose another slug")])


def init_app(app: Flask) -> None:
    from ..errors import register_error

    register_error(MakerSlugTaken, 409)


def register_maker(session: Session, user: User, raw: Any, token: ApiToken | None = None) -> Maker:
    """Create the maker *raw* describes, owned by *user*.

    :raises PermissionDenied: *token* is not scoped for the new slug.
    :raises ManifestError: per-field problems, as a maker file would have them.
    :raises MakerSlugTaken: the slug belongs to another maker.
    """
    from opendesign.commons.makers import validate_maker

    if not isinstance(raw, dict):
        raise ManifestError([FieldError("", "", "send the maker as a JSON object")])
    if token is not None and isinstance(raw.get("slug"), str):  # without a slug, validation refuses it
        check_scope(token, "makers", raw["slug"])
    later = [FieldError("", key, f"not taken when registering; add {key} one by one once the maker exists")
             for key in ("productions", "contributions") if key in raw]
    try:
        spec = validate_maker({k: v for k, v in raw.items() if k not in ("productions", "contributions")})
    except ManifestError as exc:
        raise ManifestError(exc.errors + later) from None
    if later:
        raise ManifestError(later)
    if session.scalar(select(Maker.id).where(Maker.slug == spec.slug)) is not None:
        raise MakerSlugTaken(spec.slug)
    maker = Maker(slug=spec.slug, name=spec.name, legal_form=spec.legal_form, country=spec.country,
                  website=spec.website, description=spec.description, owner_id=user.id)
    session.add(maker)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # registered concurrently under the same slug
        session.expunge(maker)
        raise MakerSlugTaken(spec.slug) from None
    return maker


def owned_maker(session: Session, user: User | None, slug: str, token: ApiToken | None = None) -> Maker:
    """Maker *slug*, if *user* (and *token*, when given) may write to it.

    :raises PermissionDenied: wrong token scope, or not the owner.
    :raises NotFound: no such maker.
    """
    from opendesign.commons.reciprocity import get_maker

    check_scope(token, "makers", slug)
    maker = get_maker(session, slug)
    if user is None or maker.owner_id != user.id:
        if maker.owner_id is None:
            raise PermissionDenied(f"maker {slug!r} was imported from designs/makers/ and has no owner account; "
                                   "its records change through its maker file")
        raise PermissionDenied(f"only the owner of maker {slug!r} may record its productions and contributions")
    return maker


def claim_production(session: Session, maker: Maker, raw: Any) -> Production:
    """Add the production *raw* describes to *maker*, with its compliance verdict.

    :raises ManifestError: per-field problems (unknown design version, bad currency, ...).
    """
    from opendesign.commons import compliance
    from opendesign.commons.makers import resolve_production, validate_production

    spec = validate_production(raw)
    version = resolve_production(session, spec)
    with session.no_autoflush:
        production = Production(maker=maker, design_version=version, modified=spec.modified,
                                modified_source=spec.modified_source, attribution=spec.attribution,
                                price=spec.price, currency=spec.currency, regions=list(spec.regions),
                                units=spec.units, period_start=spec.period_start, period_end=spec.period_end,
                                source_location=spec.source_location, notice=spec.notice)
        compliance.refresh(production)
    session.add(production)
    session.flush()
    return production


def record_contribution(session: Session, maker: Maker, raw: Any, user: User | None = None,
                        via: str = "web") -> Contribution:
    """Record the contribution *raw* describes as a new ledger entry of *maker*, ``claimed``.

    :raises ManifestError: per-field problems (unknown design, negative amount, no evidence, a ``corrects``
        that is not this maker's entry, ...).
    """
    from opendesign.commons.ledger.entries import build_entry, random_id
    from opendesign.commons.makers import resolve_contribution, validate_contribution

    spec = validate_contribution(raw)
    design = resolve_contribution(session, spec)
    position = max((c.position for c in maker.contributions), default=-1) + 1
    contribution = build_entry(session, maker, spec, design, entry_id=random_id(session, Contribution,
                                                                                Contribution.entry_id),
                               origin=via, recorded_by=user.username if user else "", position=position)
    session.add(contribution)
    session.flush()
    return contribution


def record_attestation(session: Session, maker: Maker, raw: Any, user: User | None = None, via: str = "web"):
    """Record the worker-ownership attestation *raw* describes for *maker*, and re-judge its productions.

    :raises ManifestError: per-field problems (no evidence URL, ``valid_until`` before ``valid_from``, ...).
    """
    from opendesign.commons import compliance
    from opendesign.commons.ledger.attestations import build_attestation
    from opendesign.commons.ledger.entries import random_id
    from opendesign.commons.makers import validate_attestation
    from opendesign.models import Attestation

    spec = validate_attestation(raw)
    position = max((a.position for a in maker.attestations), default=-1) + 1
    attestation = build_attestation(maker, spec, key=random_id(session, Attestation, Attestation.key), origin=via,
                                    recorded_by=user.username if user else "", position=position)
    session.add(attestation)
    session.flush()
    compliance.refresh_maker(maker)
    return attestation


def production_view(production: Production) -> dict[str, Any]:
    from opendesign.commons.compliance import production_view as view

    return view(production)


def contribution_view(contribution: Contribution) -> dict[str, Any]:
    from opendesign.commons.reciprocity import contribution_view as view

    return view(contribution)


def makers_of(session: Session, user: User) -> list[Maker]:
    return list(session.scalars(select(Maker).where(Maker.owner_id == user.id).order_by(Maker.name)))
