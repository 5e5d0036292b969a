"""The makers directory and maker pages: productions, verdicts, contributions.

The owner of a maker records its productions and contributions on its page
(registering one is on the account pages); each write and each refusal is an
AuditEvent.
"""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from opendesign.accounts import audit
from opendesign.commons.reciprocity import get_maker
from opendesign.errors import ManifestError, OpenDesignError
from opendesign.models import Maker, Production

from .. import ledger_pages
from ..adapters import commons
from ..adapters import makers as maker_accounts
from ..auth import current_user, login_required
from ..db import get_session
from ..errors import field_errors, status_for
from ..forms import ContributionForm, ProductionForm
from .designs import record_refusal

bp = Blueprint("makers", __name__, url_prefix="/makers")
blueprints = [bp]


def maker_rows(db, legal_form: str | None, country: str | None) -> list[Maker]:
    stmt = select(Maker).options(selectinload(Maker.productions).selectinload(Production.design_version),
                                 selectinload(Maker.contributions)).order_by(Maker.name)
    if legal_form:
        stmt = stmt.where(Maker.legal_form == legal_form)
    if country:
        stmt = stmt.where(Maker.country == country.upper()[:2])
    return list(db.scalars(stmt))


@bp.get("")
def index():
    db = get_session()
    legal_form = request.args.get("legal_form") or None
    country = request.args.get("country") or None
    makers = maker_rows(db, legal_form, country)
    verdicts = {m.slug: _verdict_counts(m) for m in makers}
    return render_template("makers/index.html", makers=makers, verdicts=verdicts, counts=commons.maker_counts(db),
                           legal_form=legal_form, country=country)


def _verdict_counts(maker: Maker) -> dict[str, int]:
    counts: dict[str, int] = {}
    for p in maker.productions:
        counts[p.verdict or "unknown"] = counts.get(p.verdict or "unknown", 0) + 1
    return counts


@bp.get("/<slug>")
def show(slug: str):
    return _page(slug)


def _page(slug: str, production_form: ProductionForm | None = None,
          contribution_form: ContributionForm | None = None, status: int = 200):
    db = get_session()
    reciprocity = commons.maker_reciprocity(db, slug)  # raises NotFound -> 404
    maker = get_maker(db, slug)
    user = current_user()
    owner = user is not None and maker.owner_id == user.id
    if owner:
        production_form = production_form or ProductionForm(prefix="production", formdata=None)
        contribution_form = contribution_form or ContributionForm(prefix="contribution", formdata=None)
    return render_template("makers/show.html", maker=maker, productions=commons.maker_productions(db, maker),
                           contributions=commons.contributions_of_maker(maker), reciprocity=reciprocity,
                           totals=commons.format_totals(reciprocity["contributions"]), owner=owner,
                           production_form=production_form, contribution_form=contribution_form,
                           ledger=ledger_pages.maker_context(db, maker)), status


def add_field_errors(form: FlaskForm, exc: OpenDesignError) -> None:
    """Show *exc*'s problems next to the fields they name (``regions[1]`` next to ``regions``)."""
    for name, reasons in (field_errors(exc) or {"": [str(exc)]}).items():
        field = getattr(form, re.split(r"[.\[]", name)[0], None) if name else None
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + reasons
        else:
            form.form_errors.extend(reasons)


def _write(slug: str, action: str, form: FlaskForm, write, describe):
    """Run *write(db, maker, raw)* for the owner of *slug*; re-show the page with errors on a refusal."""
    db = get_session()
    raw = form.raw()  # CSRFProtect checked the token before the view; the maker-file schema checks the fields
    try:
        maker = maker_accounts.owned_maker(db, current_user(), slug)
        row = write(db, maker, raw)
    except OpenDesignError as exc:
        record_refusal(action, slug, exc)
        if not isinstance(exc, ManifestError):
            raise  # not the owner, no such maker: the error page
        add_field_errors(form, exc)
        forms = {"production_form": form} if isinstance(form, ProductionForm) else {"contribution_form": form}
        return _page(slug, status=status_for(exc), **forms)
    message, detail = describe(row)
    audit.record(db, action, audit.OK, target=f"{slug}: {detail['design']}", user=current_user(),
                 detail={**detail, "via": "web"}, remote_addr=request.remote_addr)
    db.commit()
    flash(message, "success")
    return redirect(url_for("makers.show", slug=slug))


@bp.post("/<slug>/productions")
@login_required
def claim_production(slug: str):
    def describe(p: Production):
        view = maker_accounts.production_view(p)
        return (f"Claimed the production of {view['design']}. Compliance verdict: {view['verdict']} — "
                f"{view['reason']}", {"design": view["design"], "verdict": view["verdict"]})

    return _write(slug, "maker.production", ProductionForm(prefix="production"),
                  maker_accounts.claim_production, describe)


@bp.post("/<slug>/contributions")
@login_required
def record_contribution(slug: str):
    def describe(c):
        view = maker_accounts.contribution_view(c)
        return (f"Recorded a contribution ({view['kind']}) to {view['design']} as entry {view['id']}: claimed, "
                "until a steward of the design confirms it.",
                {"design": view["design"], "kind": view["kind"], "amount": view["amount"],
                 "currency": view["currency"], "entry": view["id"], "state": view["state"],
                 "corrects": view["corrects"]})

    return _write(slug, "maker.contribution", ContributionForm(prefix="contribution"),
                  lambda db, maker, raw: maker_accounts.record_contribution(db, maker, raw, current_user(), "web"),
                  describe)
