"""What the design, maker and account pages show of the reciprocity ledger, for the signed-in user.

The design-wide part (totals, flows, qualified producers) is cached with the
design's other facts (:mod:`.pagecache`); who may review, name stewards or
challenge is worked out per request here. A form that failed validation is
handed back through ``g`` so the page shows its errors next to its fields.
"""

from __future__ import annotations

from typing import Any

from flask import g
from sqlalchemy import select
from sqlalchemy.orm import Session

from opendesign.commons.compliance import today
from opendesign.commons.ledger import attestations as attestations_
from opendesign.commons.ledger import stewards as stewards_
from opendesign.commons.ledger.entries import CLAIMED, entry_view, state
from opendesign.commons.reciprocity import give_back_per_unit
from opendesign.models import Contribution, Design, Maker, User

from .auth import current_user
from .ledger_forms import AttestationForm, ChallengeForm, ResolveForm, ReviewForm, StewardForm


def _form(name: str, cls, **kwargs):
    return g.get(name) or cls(formdata=None, **kwargs)


def design_context(session: Session, design_id: int, ledger: dict[str, Any]) -> dict[str, Any]:
    """The design page's ledger: *ledger* (cached) and what the signed-in user may do with it."""
    user = current_user()
    context: dict[str, Any] = {
        "ledger": ledger, "qualified_slugs": {m["slug"] for m in ledger["qualified_producers"]},
        "can_review": False, "is_design_owner": False, "stewards": [],
    }
    if user is None:
        return context
    design = session.get(Design, design_id)
    context["can_review"] = stewards_.is_steward(session, user, design)
    context["is_design_owner"] = design.owner_id == user.id
    if context["can_review"]:
        context["stewards"] = stewards_.stewards_of(session, design)
        context["review_form"] = _form("review_form", ReviewForm)
        context["steward_form"] = _form("steward_form", StewardForm)
    return context


def maker_context(session: Session, maker: Maker) -> dict[str, Any]:
    """The maker page's ledger: its entries with their states, give-back per unit, attestations and forms."""
    user = current_user()
    on = today()
    entries = [entry_view(c) for c in sorted(maker.contributions, key=lambda c: (c.date, c.position, c.id))]
    ownership = attestations_.ownership_view(maker, on)
    affected = [session.scalar(select(Design).where(Design.slug == s)) for s in ownership["affected_designs"]]
    resolver = user is not None and maker.owner_id != user.id and any(
        stewards_.is_steward(session, user, d) for d in affected)
    return {
        "entries": entries,
        "per_unit": give_back_per_unit(maker),
        "ownership": ownership,
        "can_challenge": user is not None,
        "can_resolve": resolver,
        "challenge_form": _form("challenge_form", ChallengeForm),
        "resolve_form": _form("resolve_form", ResolveForm),
        "attestation_form": _form("attestation_form", AttestationForm, prefix="attestation"),
    }


def account_context(session: Session, user: User) -> dict[str, Any]:
    """The designs *user* stewards, each with how many entries await a review."""
    designs = stewards_.stewarded_designs(session, user)
    waiting: dict[int, int] = {}
    if designs:
        rows = session.scalars(select(Contribution).where(Contribution.design_id.in_([d.id for d in designs])))
        for c in rows:
            if state(c) == CLAIMED:
                waiting[c.design_id] = waiting.get(c.design_id, 0) + 1
    return {"stewarded": [{"slug": d.slug, "owner": d.owner_id == user.id, "claimed": waiting.get(d.id, 0)}
                          for d in designs]}


__all__ = ["account_context", "design_context", "maker_context"]
