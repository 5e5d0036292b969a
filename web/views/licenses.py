"""What each license allows and requires, and the designs under it."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from opendesign.errors import NotFound
from opendesign.models import Design, DesignVersion

from .. import licensing
from ..adapters import commons
from ..db import get_session
from ..listings import card

bp = Blueprint("licenses", __name__, url_prefix="/licenses")
blueprints = [bp]


@bp.get("")
def index():
    items = [licensing.explain(lic) for lic in commons.all_licenses()]
    return render_template("licenses/index.html", licenses=items)


@bp.get("/<license_id>")
def show(license_id: str):
    lic = commons.license(license_id)
    if lic is None:
        raise NotFound(f"no license {license_id!r} in the registry")
    db = get_session()
    # Latest versions whose expression names this license (an expression may name several).
    stmt = (select(DesignVersion).join(Design, Design.latest_version_id == DesignVersion.id)
            .where(DesignVersion.license.contains(lic.id))
            .options(selectinload(DesignVersion.design), selectinload(DesignVersion.authors))
            .order_by(DesignVersion.title).limit(500))
    designs = [card(v) for v in db.scalars(stmt) if lic.id in commons.license_ids(v.license)]
    return render_template("licenses/show.html", license=licensing.explain(lic), designs=designs)
