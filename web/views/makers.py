"""The makers directory and maker pages: productions, verdicts, contributions."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from opendesign.models import Maker, Production

from ..adapters import commons
from ..db import get_session

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
    db = get_session()
    reciprocity = commons.maker_reciprocity(db, slug)  # raises NotFound -> 404
    maker = db.scalar(select(Maker).where(Maker.slug == slug))
    return render_template("makers/show.html", maker=maker, productions=commons.maker_productions(db, maker),
                           contributions=commons.contributions_of_maker(maker), reciprocity=reciprocity,
                           totals=commons.format_totals(reciprocity["contributions"]))
