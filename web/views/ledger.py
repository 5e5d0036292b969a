"""The reciprocity ledger on the web: entry pages, reviews by stewards, stewards, attestations and challenges.

Every write is a POST with a CSRF token by a signed-in account; every change
and every refusal is an AuditEvent (refusals in their own transaction, after
the refused work was rolled back). A failed form is shown again with its
errors next to its fields (422); a refusal is the error page (403, 404, 409).
The JSON API for the same actions is :mod:`.api_ledger`.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from opendesign.accounts import AccountError, audit
from opendesign.commons import compliance
from opendesign.commons.ledger import attestations, entries, reports, review, stewards
from opendesign.errors import ManifestError, OpenDesignError

from ..adapters import makers as maker_accounts
from ..auth import current_user, login_required
from ..db import get_session
from ..errors import register_error, status_for
from ..forms import PostForm
from ..ledger_forms import AttestationForm, ChallengeForm, ResolveForm, ReviewForm, StewardForm
from . import api_ledger
from .designs import record_refusal

bp = Blueprint("ledger", __name__)
blueprints = [bp, api_ledger.bp]


def init_app(app) -> None:
    register_error(entries.LedgerConflict, 409)


def _safe_next(target: str | None, fallback: str) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return fallback


def _field_errors(form: FlaskForm, exc: OpenDesignError) -> None:
    from .makers import add_field_errors

    add_field_errors(form, exc)


def _entry_page(entry_id: str, form: ReviewForm | None = None, status: int = 200):
    db = get_session()
    found = entries.get_entry(db, entry_id)
    (view,) = reports.export(db, entry=found.entry_id)
    user = current_user()
    can_review = user is not None and stewards.is_steward(db, user, found.design) and found.maker.owner_id != user.id
    return render_template("ledger/entry.html", entry=view, can_review=can_review,
                           review_form=form or ReviewForm(formdata=None)), status


@bp.get("/ledger/<entry_id>")
def entry_page(entry_id: str):
    return _entry_page(entry_id)


def _review(entry_id: str, action: str):
    form = ReviewForm()
    db = get_session()
    user = current_user()
    try:
        found = entries.get_entry(db, entry_id)
        if action == "confirm":
            review.confirm(db, found, user=user, via="web", note=form.reason.data or "",
                           remote_addr=request.remote_addr)
        else:
            review.dispute(db, found, form.reason.data or "", user=user, via="web", remote_addr=request.remote_addr)
    except OpenDesignError as exc:
        record_refusal(f"ledger.{action}", entry_id, exc)
        if not isinstance(exc, ManifestError):
            raise
        _field_errors(form, exc)
        return _entry_page(entry_id, form, status_for(exc))
    db.commit()
    flash(f"Entry {found.entry_id} {'confirmed' if action == 'confirm' else 'disputed'}: "
          f"{found.maker.slug} → {found.design.slug}.", "success")
    return redirect(_safe_next(form.next.data, url_for("ledger.entry_page", entry_id=found.entry_id)))


@bp.post("/ledger/<entry_id>/confirm")
@login_required
def confirm(entry_id: str):
    return _review(entry_id, "confirm")


@bp.post("/ledger/<entry_id>/dispute")
@login_required
def dispute(entry_id: str):
    return _review(entry_id, "dispute")


def _design_page_again(slug: str, status: int):
    from .designs import latest_page

    body, _ = latest_page(slug)
    return body, status


@bp.post("/designs/<slug>/stewards")
@login_required
def add_steward(slug: str):
    from opendesign.catalogue.queries import get_design

    form = StewardForm()
    db = get_session()
    try:
        design = get_design(db, slug)
        steward = stewards.name_steward(db, current_user(), design, form.username.data or "")
        name = steward.user.username
    except OpenDesignError as exc:
        record_refusal("steward.add", f"{slug}: {form.username.data or ''}"[:200], exc)
        if not isinstance(exc, AccountError):
            raise
        _field_errors(form, exc)
        g.steward_form = form
        return _design_page_again(slug, status_for(exc))
    audit.record(db, "steward.add", audit.OK, target=f"{slug}: {name}", user=current_user(),
                 detail={"via": "web", "steward": name}, remote_addr=request.remote_addr)
    db.commit()
    flash(f"{name} is now a steward of {slug}.", "success")
    return redirect(url_for("designs.latest_page", slug=slug, _anchor="ledger"))


@bp.post("/designs/<slug>/stewards/<username>/remove")
@login_required
def remove_steward(slug: str, username: str):
    from opendesign.catalogue.queries import get_design

    form = PostForm()
    if not form.validate_on_submit():
        return redirect(url_for("designs.latest_page", slug=slug, _anchor="ledger"))
    db = get_session()
    try:
        user = stewards.remove_steward(db, current_user(), get_design(db, slug), username)
    except OpenDesignError as exc:
        record_refusal("steward.remove", f"{slug}: {username}", exc)
        raise
    audit.record(db, "steward.remove", audit.OK, target=f"{slug}: {user.username}", user=current_user(),
                 detail={"via": "web", "steward": user.username}, remote_addr=request.remote_addr)
    db.commit()
    flash(f"{user.username} no longer stewards {slug}; what they reviewed stays on record.", "info")
    return redirect(url_for("designs.latest_page", slug=slug, _anchor="ledger"))


def _maker_page_again(slug: str, status: int):
    from .makers import _page

    body, _ = _page(slug)
    return body, status


@bp.post("/makers/<slug>/attestations")
@login_required
def record_attestation(slug: str):
    form = AttestationForm(prefix="attestation")
    db = get_session()
    raw = form.raw()
    try:
        maker = maker_accounts.owned_maker(db, current_user(), slug)
        found = maker_accounts.record_attestation(db, maker, raw, current_user(), "web")
    except OpenDesignError as exc:
        record_refusal("attestation.record", slug, exc)
        if not isinstance(exc, ManifestError):
            raise
        _field_errors(form, exc)
        g.attestation_form = form
        return _maker_page_again(slug, status_for(exc))
    audit.record(db, "attestation.record", audit.OK, target=f"{slug}: {found.key}", user=current_user(),
                 detail={"attestation": found.key, "registry_id": found.registry_id,
                         "valid_until": str(found.valid_until), "via": "web"}, remote_addr=request.remote_addr)
    db.commit()
    flash(f"Recorded attestation {found.key} (valid {found.valid_from} to {found.valid_until}); your productions "
          "were judged again.", "success")
    return redirect(url_for("makers.show", slug=slug, _anchor="attestations"))


@bp.post("/makers/<slug>/attestations/<key>/challenge")
@login_required
def challenge(slug: str, key: str):
    from opendesign.commons.reciprocity import get_maker

    form = ChallengeForm()
    db = get_session()
    try:
        maker = get_maker(db, slug)
        found = attestations.challenge(db, attestations.get_attestation(maker, key), form.reason.data or "",
                                       user=current_user(), via="web", remote_addr=request.remote_addr)
        compliance.refresh_maker(maker)
    except OpenDesignError as exc:
        record_refusal("attestation.challenge", f"{slug}: {key}", exc)
        if not isinstance(exc, ManifestError):
            raise
        _field_errors(form, exc)
        g.challenge_form = form
        return _maker_page_again(slug, status_for(exc))
    db.commit()
    flash(f"Challenge {found.id} recorded: the verdicts that turn on this attestation need review until a steward "
          "resolves it.", "success")
    return redirect(url_for("makers.show", slug=slug, _anchor="attestations"))


@bp.post("/makers/<slug>/challenges/<int:challenge_id>/resolve")
@login_required
def resolve(slug: str, challenge_id: int):
    from opendesign.commons.reciprocity import get_maker

    form = ResolveForm()
    db = get_session()
    try:
        maker = get_maker(db, slug)
        attestations.resolve(db, attestations.get_challenge(maker, challenge_id), form.outcome.data or "",
                             form.reason.data or "", user=current_user(), via="web", remote_addr=request.remote_addr)
        compliance.refresh_maker(maker)
    except OpenDesignError as exc:
        record_refusal("attestation.resolve", f"{slug}: challenge {challenge_id}", exc)
        if not isinstance(exc, ManifestError):
            raise
        _field_errors(form, exc)
        g.resolve_form = form
        return _maker_page_again(slug, status_for(exc))
    db.commit()
    flash(f"Challenge {challenge_id} {form.outcome.data}.", "success")
    return redirect(url_for("makers.show", slug=slug, _anchor="attestations"))
