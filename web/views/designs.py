"""Design pages, the parameter customiser, downloads, lineage, publishing and forking."""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, send_file, url_for

from opendesign.accounts import audit
from opendesign.errors import LicenseConflict, ManifestError, OpenDesignError, VersionConflict
from opendesign.publish import PublishConflict, UnsafeArchive, UploadLimits, fork_version, publish_archive

from .. import pagecache
from ..adapters import bundle_builder, render_service
from ..adapters.render import FORMATS, QUALITIES, RenderSet
from ..auth import current_user, login_required
from ..db import get_session
from ..errors import field_errors, status_for
from ..forms import ForkForm, PublishForm
from ..lineage_svg import render_family
from ..pages import design_context, find_version, version_url
from ..params import ParameterErrors, parse_params
from ..redact import redact

bp = Blueprint("designs", __name__)
blueprints = [bp]

_DOWNLOAD_RE = re.compile(r"^(?P<part>[a-z_][a-z0-9_]{0,63})\.(?P<fmt>[a-z0-9]{2,4})$")


def design_page(slug: str, version: str | None, args=None, status: int | None = None, **extra):
    """The design page for the parameters in *args* (default: the query string).

    *extra* is added to the template context (a saved set being shown, a save form's errors).
    """
    db = get_session()
    facts = pagecache.design_facts(db, slug)
    row = facts.find(version)
    v = pagecache.version_view(db, slug, row.id, row.content_hash)
    args = request.args if args is None else args
    errors: dict[str, list[str]] = {}
    try:
        values, custom = parse_params(v.parameters, args)
    except ParameterErrors as exc:
        errors = exc.fields
        values, custom = {p.name: args.get(p.name, p.default) for p in v.parameters}, True
    renderer = render_service()
    renders = RenderSet()
    if not errors and renderer.available:
        if custom:
            # A submitted parameter set: render its files now so the page can list them.
            try:
                renders = renderer.render(db, find_version(db, slug, row.version), values, ("glb", "stl"),
                                          quality="normal", wait=current_app.config["RENDER_WAIT_SECONDS"])
            except OpenDesignError as exc:
                renders = RenderSet(error=redact(str(exc)))
        else:
            renders = renderer.cached(db, v, values, ("glb", "stl", "3mf", "step", "svg"))
    context = design_context(db, facts, v, values, custom and not errors, renders, errors)
    context.update(extra)
    return render_template("designs/design.html", **context), status or (422 if errors else 200)


@bp.get("/designs/<slug>")
def latest_page(slug: str):
    return design_page(slug, None)


@bp.get("/designs/<slug>/<version>")
def version_page(slug: str, version: str):
    return design_page(slug, version)


@bp.get("/designs/<slug>/<version>/download/<name>")
def download(slug: str, version: str, name: str):
    """Render (or find in the cache) one file, then redirect to its content-addressed URL."""
    m = _DOWNLOAD_RE.match(name)
    if not m or m["fmt"] not in FORMATS:
        return Response(status=404)
    db = get_session()
    v = find_version(db, slug, version)
    part = None if m["part"] == "model" else m["part"]
    if part is not None and part not in {p.name for p in v.parts}:
        return Response(status=404)
    values, _ = parse_params(v.parameters, request.args)
    quality = request.args.get("quality", "normal")
    if quality not in QUALITIES:
        raise ParameterErrors({"quality": [f"must be one of {', '.join(QUALITIES)}"]})
    renders = render_service().render(db, v, values, (m["fmt"],), quality=quality,
                                      wait=current_app.config["RENDER_WAIT_SECONDS"], part=part)
    rendered = renders.get(m["fmt"], part) or renders.get(m["fmt"], None)
    if rendered is None:
        if renders.pending_job:
            # Without JavaScript the page refreshes itself until the file is ready.
            html = render_template("designs/rendering.html", job_url=url_for("api.job", job_id=renders.pending_job),
                                   version=v)
            return html, 202, {"Refresh": "2", "Retry-After": "2", "Cache-Control": "no-store"}
        return Response(renders.error or "no such file was rendered", status=404, mimetype="text/plain")
    return redirect(url_for("files.serve", name=rendered.name), code=303)


@bp.get("/designs/<slug>/<version>/bundle.zip")
def bundle(slug: str, version: str):
    """The version's bundle: every file, LICENSE, ATTRIBUTION and okh.toml in one reproducible zip.

    Built from the render cache into ``$OPENDESIGN_HOME/bundles``, named
    ``<slug>-<version>-p<hash>.zip`` for custom parameters; the same parameters
    always give the same bytes, so the sha256 is a strong ETag. A build that
    takes longer than ``RENDER_WAIT_SECONDS`` goes on in the background behind
    a page that reloads itself until the zip is ready.
    """
    from opendesign.parameters import canonicalise

    from ..presets_page import bundle_file

    v = find_version(get_session(), slug, version)
    values, _ = parse_params(v.parameters, request.args)
    canonical = canonicalise(v.parameters, values)
    job = bundle_builder().build(v, canonical, wait=current_app.config["RENDER_WAIT_SECONDS"])
    if job.result is None:
        html = render_template("designs/bundling.html", version=v,
                               file=bundle_file(slug, v.version, canonical, canonicalise(v.parameters, {})))
        return html, 202, {"Refresh": "2", "Retry-After": "2", "Cache-Control": "no-store"}
    result = job.result
    response = send_file(result.path, mimetype="application/zip", as_attachment=True,
                         download_name=f"{result.name}.zip", etag=result.sha256, conditional=True)
    response.headers["Cache-Control"] = "no-cache"  # revalidate: a renderer upgrade changes the bytes
    return response


@bp.get("/designs/<slug>/<version>/lineage.svg")
def lineage_svg(slug: str, version: str):
    from ..adapters import commons

    db = get_session()
    v = find_version(db, slug, version)
    svg = render_family(commons.family(db, slug), v.id, version_url)
    return Response(str(svg), mimetype="image/svg+xml")


# -- publishing -------------------------------------------------------------------------------

def upload_limits() -> UploadLimits:
    return UploadLimits(max_upload_bytes=current_app.config["MAX_CONTENT_LENGTH"] or UploadLimits.max_upload_bytes)


def upload_dir():
    return current_app.config["SETTINGS"].home / "uploads"


def record_refusal(action: str, target: str, exc: BaseException, *, token=None) -> None:
    """An AuditEvent for a refused publish/fork, in its own transaction (the work was rolled back)."""
    db = get_session()
    db.rollback()
    user = current_user()
    audit.record(db, action, audit.REFUSED, target=target, user=user.id if user else None,
                 token=token.id if token is not None else None,
                 detail={"reason": str(exc)[:2000], "status": status_for(exc), "error": type(exc).__name__},
                 remote_addr=request.remote_addr)
    db.commit()


@bp.route("/publish", methods=["GET", "POST"])
@login_required
def publish():
    form = PublishForm()
    if request.method == "GET" or not form.validate_on_submit():
        return render_template("designs/publish.html", form=form, errors={}), 422 if request.method == "POST" else 200
    db = get_session()
    upload = form.archive.data
    try:
        result = publish_archive(db, upload.stream, user=current_user(), limits=upload_limits(),
                                 tmp_dir=upload_dir())
    except (UnsafeArchive, ManifestError, PublishConflict, VersionConflict, LicenseConflict, OpenDesignError) as exc:
        record_refusal("publish", upload.filename or "upload", exc)
        status = status_for(exc)
        errors = field_errors(exc) or {"archive": [str(exc)]}
        form.archive.errors = [str(exc)] if not isinstance(exc, ManifestError) else ["the design folder is invalid"]
        return render_template("designs/publish.html", form=form, errors=errors, message=str(exc)), status
    audit.record(db, "publish", audit.OK, target=result.ref, user=current_user(),
                 detail={"status": result.status}, remote_addr=request.remote_addr)
    db.commit()
    flash({"created": f"Published {result.ref}.", "updated": f"Published the new version {result.ref}.",
           "unchanged": f"{result.ref} is already published with exactly this content."}[result.status], "success")
    return redirect(url_for("designs.version_page", slug=result.slug, version=result.version))


@bp.route("/designs/<slug>/<version>/fork", methods=["GET", "POST"])
@login_required
def fork(slug: str, version: str):
    from ..adapters import commons

    db = get_session()
    parent = find_version(db, slug, version)
    possible, licenses, reason = commons.allowed_fork_licenses(parent)
    form = ForkForm()
    if request.method == "GET":
        form.title.data = f"{parent.title} (fork)"
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        target = form.slug.data.strip().lower()
        try:
            result = fork_version(db, parent, slug=target, user=current_user(), title=form.title.data,
                                  license=form.license.data, tmp_dir=upload_dir())
        except OpenDesignError as exc:
            record_refusal("fork", f"{parent.ref} -> {target}", exc)
            status = status_for(exc)
            field = {ManifestError: form.slug, PublishConflict: form.slug, LicenseConflict: form.license}
            target_field = next((f for cls, f in field.items() if isinstance(exc, cls)), form.slug)
            target_field.errors = list(target_field.errors) + [str(exc)]
            parent = find_version(db, slug, version)
        else:
            audit.record(db, "fork", audit.OK, target=f"{parent.ref} -> {result.ref}", user=current_user(),
                         remote_addr=request.remote_addr)
            db.commit()
            flash(f"Forked {parent.ref} as {result.ref}. It is yours to change: publish new versions as zips.",
                  "success")
            return redirect(url_for("designs.version_page", slug=result.slug, version=result.version))
    elif request.method == "POST":
        status = 422
    return render_template("designs/fork.html", form=form, parent=parent, possible=possible, licenses=licenses,
                           reason=reason), status
