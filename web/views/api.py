"""The JSON API under ``/api/v1`` (described by ``/api/v1/openapi.json``) and ``/healthz``."""

from __future__ import annotations


from flask import Blueprint, current_app, g, jsonify, request, send_file, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from opendesign.accounts import audit
from opendesign.catalogue import origins
from opendesign.catalogue.queries import get_design, version_detail
from opendesign.catalogue.refs import version_key
from opendesign.errors import OpenDesignError
from opendesign.models import Design, DesignVersion, Maker
from opendesign.publish import publish_archive

from .. import licensing
from .. import speculative as ahead
from ..adapters import commons, render_service
from ..adapters import makers as maker_accounts
from ..adapters.render import CONTENT_TYPES, FORMATS, QUALITIES
from ..auth import token_required
from ..db import get_session
from ..errors import error_response
from ..inputs import json_body
from ..listings import card
from ..openapi import openapi_document
from ..pages import find_render_version, find_version
from ..params import ParameterErrors, parse_params
from ..server_timing import timed
from .catalogue import run_search
from .designs import record_refusal, upload_dir, upload_limits

bp = Blueprint("api", __name__, url_prefix="/api/v1")
health = Blueprint("health", __name__)
blueprints = [bp, health]
MAX_PER_PAGE = 100


def _paging() -> tuple[int, int]:
    try:
        page = max(1, int(request.args.get("page", 1)))
        per_page = min(MAX_PER_PAGE, max(1, int(request.args.get("per_page", 20))))
    except ValueError:
        raise ParameterErrors({"page": ["page and per_page must be whole numbers"]}) from None
    return page, per_page


@health.get("/healthz")
def healthz():
    """Every check's state; 200 when all are ok, 503 when any is degraded (see :mod:`web.health`)."""
    from ..health import report

    body, ok = report()
    return jsonify(body), 200 if ok else 503, {"Cache-Control": "no-store"}


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/designs")
def designs():
    db = get_session()
    page, per_page = _paging()
    stmt = select(DesignVersion).join(Design, Design.latest_version_id == DesignVersion.id)
    for arg, column in (("category", DesignVersion.category), ("license", DesignVersion.license)):
        if request.args.get(arg):
            stmt = stmt.where(column == request.args[arg])
    if request.args.get("owner"):
        from opendesign.models import User

        stmt = stmt.join(User, User.id == Design.owner_id).where(User.username == request.args["owner"])
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.scalars(stmt.options(selectinload(DesignVersion.design), selectinload(DesignVersion.authors))
                      .order_by(Design.slug).limit(per_page).offset((page - 1) * per_page))
    return jsonify({"total": total, "page": page, "per_page": per_page,
                    "designs": [dict(card(v), url=url_for("api.design", slug=v.design.slug, _external=True))
                                for v in rows]})


@bp.get("/designs/<slug>")
def design(slug: str):
    db = get_session()
    v = find_version(db, slug, request.args.get("version"))
    data = version_detail(v)
    data["page"] = url_for("designs.version_page", slug=slug, version=v.version, _external=True)
    data["license_terms"] = licensing.badges(v.license)
    return jsonify(data)


@bp.get("/designs/<slug>/versions")
def versions(slug: str):
    d = get_design(get_session(), slug)
    items = sorted(d.versions, key=lambda v: version_key(v.version), reverse=True)
    return jsonify({"slug": slug, "latest": d.latest_version.version if d.latest_version else None,
                    "versions": [{"version": v.version, "title": v.title, "license": v.license,
                                  "content_hash": v.content_hash, "created_at": v.created_at.isoformat()}
                                 for v in items]})


@bp.get("/designs/<slug>/lineage")
def lineage(slug: str):
    db = get_session()
    fam = commons.family(db, slug)
    v = find_version(db, slug, request.args.get("version"))
    ancestors, descendants = commons.ancestors_and_descendants(db, v)
    return jsonify({
        "slug": slug, "version": v.version,
        "ancestors": [a.ref for a in ancestors], "descendants": [d.ref for d in descendants],
        "nodes": [{"ref": n.ref, "slug": n.design.slug, "version": n.version, "title": n.title,
                   "license": n.license} for n in fam.versions],
        "edges": [{"parent": e.parent.ref, "child": e.child.ref} for e in fam.edges],
        "attribution": commons.attribution(db, v, current_app.config["SETTINGS"].base_url),
    })


@bp.get("/designs/<slug>/render")
def render(slug: str):
    db = get_session()
    v = find_render_version(db, slug, request.args.get("version"))
    fmt = request.args.get("format", "stl")
    quality = request.args.get("quality", "normal")
    part = request.args.get("part") or None
    problems: dict[str, list[str]] = {}
    if fmt not in FORMATS:
        problems["format"] = [f"must be one of {', '.join(FORMATS)}"]
    if quality not in QUALITIES:
        problems["quality"] = [f"must be one of {', '.join(QUALITIES)}"]
    if part is not None and part not in {p.name for p in v.parts}:
        problems["part"] = [f"must be one of {', '.join(p.name for p in v.parts)}"]
    try:
        values, _ = parse_params(v.parameters, request.args, strict=True)
    except ParameterErrors as exc:
        problems.update(exc.fields)
    speculative = request.args.get("speculative", "0")
    if speculative not in ("0", "1"):
        problems["speculative"] = ["must be 1 (render ahead if the server is idle) or 0"]
    elif speculative == "1" and (fmt != "glb" or quality != "draft" or part is not None):
        problems["speculative"] = ["only draft GLBs of the whole model are rendered ahead "
                                   "(format=glb&quality=draft, no part)"]
    if problems:
        raise ParameterErrors(problems)
    if speculative == "1":
        return ahead.respond(db, v, values)
    wait = current_app.config["RENDER_WAIT_SECONDS"]
    if "wait" in request.args:
        try:
            wait = min(wait, max(0.0, float(request.args["wait"])))
        except ValueError:
            raise ParameterErrors({"wait": ["must be a number of seconds"]}) from None
    renderer = render_service()
    with timed("render"):  # the cache lookup, and the job and the wait for it when not cached
        renders = renderer.render(db, v, values, (fmt,), quality=quality, wait=wait, part=part)
    rendered = renders.get(fmt, part) or renders.get(fmt, None)
    if rendered is None:
        if renders.pending_job:
            job_url = url_for("api.job", job_id=renders.pending_job, _external=True)
            return jsonify({"status": "pending", "job": job_url}), 202, {"Location": job_url, "Retry-After": "1"}
        raise OpenDesignError(renders.error or "the render produced no file")
    path, filename = renderer.locate(db, rendered.sha256, fmt)
    response = send_file(path, mimetype=CONTENT_TYPES[fmt], as_attachment=True, download_name=filename,
                         etag=rendered.sha256, conditional=True)
    response.headers["Content-Location"] = url_for("files.serve", name=rendered.name)
    response.headers["X-Content-SHA256"] = rendered.sha256
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/jobs/<job_id>")
def job(job_id: str):
    """A render job's state: pending, done (with its files) or failed (with the category and reason).

    Jobs are rows of the catalogue database, so any web process answers for a job any other handed out.
    """
    status = render_service().job(job_id)
    if status is None:
        return error_response(404, f"no render job {job_id!r}: it never existed or belongs to a removed version")
    headers = {"Cache-Control": "no-store"}
    if status["status"] == "pending":
        headers["Retry-After"] = "1"
    return jsonify(status), 200, headers


@bp.get("/search")
def search():
    page, text_, filters, sort = run_search()
    data = page.results.as_dict()
    data.update({"page": page.page, "per_page": page.per_page, "pages": page.pages})
    return jsonify(data)


@bp.get("/makers")
def makers():
    from .makers import maker_rows

    rows = maker_rows(get_session(), request.args.get("legal_form"), request.args.get("country"))
    return jsonify({"makers": [{"slug": m.slug, "name": m.name, "legal_form": m.legal_form, "country": m.country,
                                "website": m.website, "productions": len(m.productions),
                                "contributions": len(m.contributions)} for m in rows]})


@bp.get("/makers/<slug>")
def maker(slug: str):
    db = get_session()
    reciprocity = commons.maker_reciprocity(db, slug)
    m = db.scalar(select(Maker).where(Maker.slug == slug))
    return jsonify(_maker_body(db, m, reciprocity))


def _maker_body(db, m: Maker, reciprocity: dict) -> dict:
    return {"slug": m.slug, "name": m.name, "legal_form": m.legal_form, "country": m.country,
            "website": m.website, "description": m.description, "owner": m.owner.username if m.owner else None,
            "page": url_for("makers.show", slug=m.slug, _external=True),
            "productions": commons.maker_productions(db, m),
            "contributions": [maker_accounts.contribution_view(c) for c in commons.contributions_of_maker(m)],
            "reciprocity": reciprocity}


def _maker_write(action: str, slug: str | None, write):
    """Run *write(db, body)* for the token's user; audit the outcome (refusals in their own transaction)."""
    db = get_session()
    try:
        body = json_body()
    except ParameterErrors as exc:
        record_refusal(action, slug or "", exc, token=g.token)
        raise
    target = slug or str(body.get("slug", "") if isinstance(body, dict) else "")[:64]
    try:
        if not isinstance(body, dict):
            raise ParameterErrors({"body": ["send a JSON object (Content-Type: application/json)"]})
        result, detail = write(db, body)
    except OpenDesignError as exc:
        record_refusal(action, target, exc, token=g.token)
        raise
    audit.record(db, action, audit.OK, target=detail.pop("target"), user=g.user, token=g.token,
                 detail={**detail, "via": "api"}, remote_addr=request.remote_addr)
    db.commit()
    return result


@bp.post("/makers")
@token_required
def register_maker():
    """Register a maker owned by the token's user; the token needs ``makers:<slug>`` or ``makers:*``."""
    def write(db, body):
        m = maker_accounts.register_maker(db, g.user, body, token=g.token)
        return m, {"target": m.slug}

    m = _maker_write("maker.register", None, write)
    db = get_session()
    return (jsonify(_maker_body(db, m, commons.maker_reciprocity(db, m.slug))), 201,
            {"Location": url_for("api.maker", slug=m.slug, _external=True)})


@bp.post("/makers/<slug>/productions")
@token_required
def claim_production(slug: str):
    def write(db, body):
        p = maker_accounts.claim_production(db, maker_accounts.owned_maker(db, g.user, slug, g.token), body)
        view = maker_accounts.production_view(p)
        return view, {"target": f"{slug}: {view['design']}", "design": view["design"], "verdict": view["verdict"]}

    view = _maker_write("maker.production", slug, write)
    return jsonify(view), 201


@bp.post("/makers/<slug>/contributions")
@token_required
def record_contribution(slug: str):
    def write(db, body):
        c = maker_accounts.record_contribution(db, maker_accounts.owned_maker(db, g.user, slug, g.token), body,
                                               g.user, "api")
        view = maker_accounts.contribution_view(c)
        return view, {"target": f"{slug}: {view['design']}", "design": view["design"], "kind": view["kind"],
                      "amount": view["amount"], "currency": view["currency"], "entry": view["id"],
                      "state": view["state"], "corrects": view["corrects"]}

    view = _maker_write("maker.contribution", slug, write)
    return jsonify({**view, "reciprocity": commons.maker_reciprocity(get_session(), slug)}), 201


@bp.get("/licenses")
def licenses():
    return jsonify({"licenses": [licensing.explain(lic) for lic in commons.all_licenses()]})


@bp.get("/licenses/<license_id>")
def license_(license_id: str):
    lic = commons.license(license_id)
    if lic is None:
        from opendesign.errors import NotFound

        raise NotFound(f"no license {license_id!r} in the registry")
    return jsonify(licensing.explain(lic))


@bp.post("/designs")
@token_required
def publish():
    """Publish a design zip: the request body (``application/zip``) or a multipart ``file``."""
    db = get_session()
    upload = request.files.get("file") or request.files.get("archive")
    source = upload.stream if upload is not None else request.get_data(cache=False)
    if not source:
        raise ParameterErrors({"file": ["send the design zip as the body (application/zip) or as 'file'"]})
    try:
        result = publish_archive(db, source, user=g.user, token=g.token, limits=upload_limits(),
                                 tmp_dir=upload_dir(), origin=origins.API)
    except OpenDesignError as exc:
        record_refusal("publish", getattr(upload, "filename", None) or "api upload", exc, token=g.token)
        raise
    audit.record(db, "publish", audit.OK, target=result.ref, user=g.user, token=g.token,
                 detail={"status": result.status, "via": "api"}, remote_addr=request.remote_addr)
    db.commit()
    body = {"slug": result.slug, "version": result.version, "status": result.status,
            "url": url_for("api.design", slug=result.slug, version=result.version, _external=True),
            "page": url_for("designs.version_page", slug=result.slug, version=result.version, _external=True)}
    return jsonify(body), 201 if result.status != "unchanged" else 200
