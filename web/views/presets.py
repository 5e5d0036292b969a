"""Saved parameter sets on the web: save from the customiser, open by permalink, publish, delete.

Each write and each refusal is an AuditEvent, as for publishing and makers.
The checks live in :mod:`opendesign.presets.saved`, shared with the API.
"""

from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, request, url_for
from werkzeug.datastructures import MultiDict

from opendesign.accounts import audit
from opendesign.errors import NotFound, OpenDesignError
from opendesign.parameters import ParameterError
from opendesign.presets.saved import (ParameterSetConflict, ParameterSetError, delete_set, get_set, save_set,
                                      set_public)

from ..auth import current_user, login_required
from ..db import get_session
from ..errors import status_for
from ..forms import ParameterSetForm, PostForm
from ..pages import find_version
from ..presets_page import saved_set_row
from .designs import design_page, record_refusal

bp = Blueprint("presets", __name__)
blueprints = [bp]

#: Hidden fields of the save form carry parameter values as ``p.<name>``, so a parameter called
#: ``name`` or ``public`` can never collide with the form's own fields.
VALUE_PREFIX = "p."


def init_app(app: Flask) -> None:
    from ..errors import register_error

    # Each registration goes first in the list: the subclass after its base, so it wins.
    register_error(ParameterError, 422)
    register_error(ParameterSetError, 422)
    register_error(ParameterSetConflict, 409)


def _submitted_values(form) -> dict[str, str]:
    """``p.<name>`` fields as name -> value; the last value counts (a checkbox after its hidden twin)."""
    return {key[len(VALUE_PREFIX):]: form.getlist(key)[-1] for key in form if key.startswith(VALUE_PREFIX)}


def _set_of(slug: str, version: str, public_id: str):
    saved = get_set(get_session(), public_id, current_user())
    if saved.version.design.slug != slug or saved.version.version != version:
        raise NotFound(f"no parameter set {public_id!r} for {slug}@{version}")
    return saved


@bp.post("/designs/<slug>/<version>/presets")
@login_required
def save(slug: str, version: str):
    form = ParameterSetForm()
    db = get_session()
    v = find_version(db, slug, version)
    values = _submitted_values(request.form)
    if not form.validate_on_submit():  # only the CSRF token can fail here; CSRFProtect answers first
        return redirect(url_for("designs.version_page", slug=slug, version=version))
    try:
        saved = save_set(db, current_user(), v, name=form.name.data, description=form.description.data or "",
                         values=values, public=bool(form.public.data))
    except OpenDesignError as exc:
        record_refusal("preset.save", f"{slug}@{version}", exc)
        if not isinstance(exc, ParameterSetError):
            raise
        return design_page(slug, version, args=MultiDict(values), status=status_for(exc), save_form=form,
                           save_errors=exc.by_field())
    audit.record(db, "preset.save", audit.OK, target=f"{saved.version.ref}: {saved.name}"[:200],
                 user=current_user(), detail={"id": saved.public_id, "public": saved.is_public, "via": "web"},
                 remote_addr=request.remote_addr)
    db.commit()
    flash(f"Saved “{saved.name}” ({'public' if saved.is_public else 'private'}). This page is its permalink.",
          "success")
    return redirect(url_for("presets.show", slug=slug, version=version, public_id=saved.public_id), code=303)


@bp.get("/designs/<slug>/<version>/presets/<public_id>")
def show(slug: str, version: str, public_id: str):
    """A saved set's permalink: the design page with its values, its name and its author."""
    saved = _set_of(slug, version, public_id)
    row = saved_set_row(saved, current_user())
    return design_page(slug, version, args=MultiDict(row["query"]), current_set=row)


def _back(slug: str, version: str, public_id: str):
    target = request.form.get("next")
    if target == "design":
        return redirect(url_for("designs.version_page", slug=slug, version=version), code=303)
    if target == "set":
        return redirect(url_for("presets.show", slug=slug, version=version, public_id=public_id), code=303)
    return redirect(url_for("account.index", _anchor="presets"), code=303)


@bp.post("/designs/<slug>/<version>/presets/<public_id>/delete")
@login_required
def delete(slug: str, version: str, public_id: str):
    if not PostForm().validate_on_submit():
        return _back(slug, version, public_id)
    db = get_session()
    try:
        _set_of(slug, version, public_id)
        saved = delete_set(db, current_user(), public_id)
    except OpenDesignError as exc:
        record_refusal("preset.delete", f"{slug}@{version}: {public_id}", exc)
        raise
    audit.record(db, "preset.delete", audit.OK, target=f"{slug}@{version}: {saved.name}"[:200],
                 user=current_user(), detail={"id": public_id, "via": "web"}, remote_addr=request.remote_addr)
    db.commit()
    flash(f"Deleted the parameter set “{saved.name}”.", "info")
    if request.form.get("next") == "set":
        return redirect(url_for("designs.version_page", slug=slug, version=version), code=303)
    return _back(slug, version, public_id)


@bp.post("/designs/<slug>/<version>/presets/<public_id>/visibility")
@login_required
def visibility(slug: str, version: str, public_id: str):
    if not PostForm().validate_on_submit():
        return _back(slug, version, public_id)
    db = get_session()
    public = request.form.get("public") == "true"
    try:
        _set_of(slug, version, public_id)
        saved = set_public(db, current_user(), public_id, public)
    except OpenDesignError as exc:
        record_refusal("preset.visibility", f"{slug}@{version}: {public_id}", exc)
        raise
    audit.record(db, "preset.visibility", audit.OK, target=f"{slug}@{version}: {saved.name}"[:200],
                 user=current_user(), detail={"id": public_id, "public": public, "via": "web"},
                 remote_addr=request.remote_addr)
    db.commit()
    flash(f"“{saved.name}” is now {'public: it is listed on the design page' if public else 'private'}.", "info")
    return _back(slug, version, public_id)
