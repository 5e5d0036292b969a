"""The presets API: a design's presets and saved parameter sets; save and delete one's own.

``GET`` works without a token (the designer's presets and the public sets);
with a token scoped ``presets:<slug>`` or ``presets:*`` it also lists the
token user's private sets. ``POST`` and ``DELETE`` need such a token. Every
token use, write and refusal is audited, as for the rest of the API.
"""

from __future__ import annotations

from flask import Blueprint, abort, g, jsonify, request, url_for

from opendesign.accounts import audit, check_scope, verify_token
from opendesign.errors import FieldError, NotFound, OpenDesignError
from opendesign.presets.design import presets_of
from opendesign.presets.saved import ParameterSetError, delete_set, get_set, save_set, set_view, sets_of_design

from ..auth import bearer_token, token_required
from ..db import get_session
from ..inputs import json_body
from ..pages import find_version
from ..params import ParameterErrors
from ..presets_page import form_value
from .designs import record_refusal

bp = Blueprint("presets_api", __name__, url_prefix="/api/v1")
blueprints = [bp]
MAX_PER_PAGE = 100
#: Fields of the body of ``POST /designs/<slug>/presets``.
FIELDS = ("name", "values", "description", "public", "version")


def _optional_token():
    """The request's token if it sent one (401 for a bad one); audited like every token use."""
    plain = bearer_token()
    if plain is None:
        return None
    db = get_session()
    token = verify_token(db, plain)
    if token is None:
        audit.record(db, "token.use", audit.REFUSED, target=request.path, detail={"reason": "invalid token"},
                     remote_addr=request.remote_addr)
        db.commit()
        abort(401, description="invalid API token (Authorization: Bearer od_...); send none to see public sets")
    audit.record(db, "token.use", audit.OK, target=f"{request.method} {request.path}", user=token.user_id,
                 token=token, remote_addr=request.remote_addr)
    db.commit()
    return token


def _viewer(slug: str):
    token = _optional_token()
    if token is None:
        return None
    check_scope(token, "presets", slug)
    return token.user


def api_row(saved) -> dict:
    view = set_view(saved)
    slug, version, query = view["design"], view["version"], {k: form_value(v) for k, v in view["changed"].items()}
    return {**view,
            "url": url_for("presets_api.one", slug=slug, public_id=saved.public_id, _external=True),
            "page": url_for("presets.show", slug=slug, version=version, public_id=saved.public_id, _external=True),
            "bundle": url_for("designs.bundle", slug=slug, version=version, _external=True, **query)}


def _paging() -> tuple[int, int]:
    try:
        page = max(1, int(request.args.get("page", 1)))
        per_page = min(MAX_PER_PAGE, max(1, int(request.args.get("per_page", 20))))
    except ValueError:
        raise ParameterErrors({"page": ["page and per_page must be whole numbers"]}) from None
    return page, per_page


@bp.get("/designs/<slug>/parameters")
def resolve(slug: str):
    """Check a parameter set (query arguments, as for render) without rendering anything.

    Answers its canonical values, the ones that differ from the defaults, its
    hash, and the permalink and bundle (file name and URL) it has; 422 names
    every invalid parameter. The customiser uses it to keep its links in step.
    """
    from opendesign.parameters import canonicalise, params_hash

    from ..params import parse_params
    from ..presets_page import bundle_file

    v = find_version(get_session(), slug, request.args.get("version"))
    values, _ = parse_params(v.parameters, request.args, strict=True)
    canonical, defaults = canonicalise(v.parameters, values), canonicalise(v.parameters, {})
    query = {k: form_value(val) for k, val in canonical.items() if defaults.get(k) != val}
    return jsonify({"slug": slug, "version": v.version, "values": canonical, "query": query,
                    "custom": bool(query), "hash": params_hash(canonical),
                    "page": url_for("designs.version_page", slug=slug, version=v.version, _external=True, **query),
                    "bundle": {"file": bundle_file(slug, v.version, canonical, defaults),
                               "url": url_for("designs.bundle", slug=slug, version=v.version, _external=True,
                                              **query)}})


@bp.get("/designs/<slug>/presets")
def list_(slug: str):
    """The designer's presets of a version and the saved sets of the design (of that version, if given)."""
    db = get_session()
    v = find_version(db, slug, request.args.get("version"))
    viewer = _viewer(slug)
    page, per_page = _paging()
    only = v.id if request.args.get("version") else None
    sets = sets_of_design(db, v.design.id, viewer, version_id=only, limit=per_page, offset=(page - 1) * per_page)
    return jsonify({"slug": slug, "version": v.version,
                    "presets": [p.as_dict() for p in presets_of(v.manifest, v.parameters)],
                    "page": page, "per_page": per_page,
                    "parameter_sets": [api_row(s) for s in sets]})


@bp.get("/designs/<slug>/presets/<public_id>")
def one(slug: str, public_id: str):
    viewer = _viewer(slug)
    saved = get_set(get_session(), public_id, viewer)
    if saved.version.design.slug != slug:
        raise NotFound(f"no parameter set {public_id!r} of design {slug!r}")
    return jsonify(api_row(saved))


@bp.post("/designs/<slug>/presets")
@token_required
def create(slug: str):
    """Save a parameter set for the token's user: ``{"name", "values", "description"?, "public"?, "version"?}``."""
    db = get_session()
    try:
        check_scope(g.token, "presets", slug)
        body = json_body()
        if not isinstance(body, dict):
            raise ParameterSetError([FieldError("", "body", "send a JSON object (Content-Type: application/json)")])
        unknown = [FieldError("", str(k)[:64], f"unknown field; send only {', '.join(FIELDS)}")
                   for k in body if k not in FIELDS]
        if unknown:
            raise ParameterSetError(unknown)
        version = body.get("version")
        if version is not None and not isinstance(version, str):
            raise ParameterSetError([FieldError("", "version", "must be a version string such as 1.0.0")])
        try:
            v = find_version(db, slug, version)
        except NotFound as exc:
            if version is None:
                raise
            raise ParameterSetError([FieldError("", "version", str(exc))]) from None
        saved = save_set(db, g.user, v, name=body.get("name"), values=body.get("values", {}),
                         description=body.get("description", ""), public=body.get("public", False), token=g.token)
    except OpenDesignError as exc:
        record_refusal("preset.save", slug, exc, token=g.token)
        raise
    audit.record(db, "preset.save", audit.OK, target=f"{saved.version.ref}: {saved.name}"[:200], user=g.user,
                 token=g.token, detail={"id": saved.public_id, "public": saved.is_public, "via": "api"},
                 remote_addr=request.remote_addr)
    db.commit()
    body = api_row(saved)
    return jsonify(body), 201, {"Location": body["url"]}


@bp.delete("/designs/<slug>/presets/<public_id>")
@token_required
def delete(slug: str, public_id: str):
    db = get_session()
    try:
        found = get_set(db, public_id, g.user)
        if found.version.design.slug != slug:
            raise NotFound(f"no parameter set {public_id!r} of design {slug!r}")
        saved = delete_set(db, g.user, public_id, token=g.token)
    except OpenDesignError as exc:
        record_refusal("preset.delete", f"{slug}: {public_id}", exc, token=g.token)
        raise
    audit.record(db, "preset.delete", audit.OK, target=f"{slug}: {saved.name}"[:200], user=g.user, token=g.token,
                 detail={"id": public_id, "via": "api"}, remote_addr=request.remote_addr)
    db.commit()
    return "", 204
