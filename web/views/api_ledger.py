"""The reciprocity ledger's JSON API under ``/api/v1`` (documented in ``/api/v1/openapi.json``).

Reads are public. Writes need a token: ``steward:<slug>`` to confirm or
dispute entries to a design, resolve challenges and (for its owner) name
stewards; ``makers:<slug>`` to record a maker's attestation; ``challenge:<maker>``
to challenge one. Every write and refusal is in the audit trail.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request, url_for

from opendesign.accounts import audit
from opendesign.catalogue.queries import get_design
from opendesign.commons import compliance
from opendesign.commons.ledger import attestations, entries, reports, review, stewards
from opendesign.commons.reciprocity import get_maker
from opendesign.errors import OpenDesignError

from ..adapters import makers as maker_accounts
from ..auth import token_required
from ..db import get_session
from ..params import ParameterErrors
from .designs import record_refusal

bp = Blueprint("api_ledger", __name__, url_prefix="/api/v1")


def _body(required: bool = True) -> dict:
    body = request.get_json(silent=True)
    if body is None and not required and not request.get_data():
        return {}
    if not isinstance(body, dict):
        raise ParameterErrors({"body": ["send a JSON object (Content-Type: application/json)"]})
    return body


def _text(body: dict, key: str) -> str:
    value = body.get(key, "")
    if not isinstance(value, str):
        raise ParameterErrors({key: [f"must be a string, not {type(value).__name__}"]})
    return value


def _write(action: str, target: str, write):
    """Run *write(db)*; audit a refusal in its own transaction, commit on success."""
    db = get_session()
    try:
        result = write(db)
    except OpenDesignError as exc:
        record_refusal(action, target[:200], exc, token=g.token)
        raise
    db.commit()
    return result


@bp.get("/ledger")
def ledger_export():
    """Every entry with its state, history and flows (``?maker=&design=`` to narrow)."""
    rows = reports.export(get_session(), maker=request.args.get("maker") or None,
                          design=request.args.get("design") or None)
    return jsonify({"entries": rows, "count": len(rows)})


@bp.get("/ledger/<entry_id>")
def ledger_entry(entry_id: str):
    db = get_session()
    found = entries.get_entry(db, entry_id)
    (row,) = reports.export(db, entry=found.entry_id)
    return jsonify(row)


def _review(entry_id: str, action: str):
    def write(db):
        body = _body(required=action == "dispute")
        found = entries.get_entry(db, entry_id)
        if action == "confirm":
            review.confirm(db, found, user=g.user, token=g.token, via="api", note=_text(body, "note"),
                           remote_addr=request.remote_addr)
        else:
            review.dispute(db, found, _text(body, "reason"), user=g.user, token=g.token, via="api",
                           remote_addr=request.remote_addr)
        return found.entry_id

    found_id = _write(f"ledger.{action}", entry_id, write)
    (row,) = reports.export(get_session(), entry=found_id)
    return jsonify(row)


@bp.post("/ledger/<entry_id>/confirm")
@token_required
def ledger_confirm(entry_id: str):
    return _review(entry_id, "confirm")


@bp.post("/ledger/<entry_id>/dispute")
@token_required
def ledger_dispute(entry_id: str):
    return _review(entry_id, "dispute")


@bp.get("/designs/<slug>/reciprocity")
def design_reciprocity(slug: str):
    """What the design received directly and through derivatives, each flow explained; qualified producers."""
    return jsonify(reports.design_ledger(get_session(), slug))


@bp.get("/designs/<slug>/qualified-producers")
def qualified_producers(slug: str):
    data = reports.design_ledger(get_session(), slug)
    return jsonify({"slug": slug, "qualified_producers": data["qualified_producers"]})


def _stewards_body(db, slug: str) -> dict:
    design = get_design(db, slug)
    return {"slug": slug, "owner": design.owner.username if design.owner else None,
            "stewards": [{"username": u.username, "owner": u.id == design.owner_id}
                         for u in stewards.stewards_of(db, design)]}


@bp.get("/designs/<slug>/stewards")
def list_stewards(slug: str):
    return jsonify(_stewards_body(get_session(), slug))


@bp.post("/designs/<slug>/stewards")
@token_required
def add_steward(slug: str):
    def write(db):
        username = _text(_body(), "username")
        steward = stewards.name_steward(db, g.user, get_design(db, slug), username, token=g.token)
        audit.record(db, "steward.add", audit.OK, target=f"{slug}: {steward.user.username}", user=g.user,
                     token=g.token, detail={"via": "api", "steward": steward.user.username},
                     remote_addr=request.remote_addr)

    _write("steward.add", slug, write)
    return jsonify(_stewards_body(get_session(), slug)), 201


@bp.delete("/designs/<slug>/stewards/<username>")
@token_required
def remove_steward(slug: str, username: str):
    def write(db):
        user = stewards.remove_steward(db, g.user, get_design(db, slug), username, token=g.token)
        audit.record(db, "steward.remove", audit.OK, target=f"{slug}: {user.username}", user=g.user,
                     token=g.token, detail={"via": "api", "steward": user.username}, remote_addr=request.remote_addr)

    _write("steward.remove", f"{slug}: {username}", write)
    return jsonify(_stewards_body(get_session(), slug))


@bp.post("/makers/<slug>/attestations")
@token_required
def record_attestation(slug: str):
    def write(db):
        maker = maker_accounts.owned_maker(db, g.user, slug, g.token)
        found = maker_accounts.record_attestation(db, maker, _body(), g.user, "api")
        audit.record(db, "attestation.record", audit.OK, target=f"{slug}: {found.key}", user=g.user, token=g.token,
                     detail={"attestation": found.key, "registry_id": found.registry_id,
                             "valid_until": str(found.valid_until), "via": "api"}, remote_addr=request.remote_addr)
        return found.key

    key = _write("attestation.record", slug, write)
    db = get_session()
    view = attestations.ownership_view(get_maker(db, slug), compliance.today())
    return jsonify({**view, "recorded": key}), 201, {"Location": url_for("api.maker", slug=slug, _external=True)}


@bp.post("/makers/<slug>/attestations/<key>/challenges")
@token_required
def challenge(slug: str, key: str):
    def write(db):
        maker = get_maker(db, slug)
        found = attestations.challenge(db, attestations.get_attestation(maker, key), _text(_body(), "reason"),
                                       user=g.user, token=g.token, via="api", remote_addr=request.remote_addr)
        compliance.refresh_maker(maker)
        return found.id

    challenge_id = _write("attestation.challenge", f"{slug}: {key}", write)
    view = attestations.ownership_view(get_maker(get_session(), slug), compliance.today())
    return jsonify({**view, "challenge": challenge_id}), 201


@bp.post("/makers/<slug>/challenges/<int:challenge_id>/resolve")
@token_required
def resolve(slug: str, challenge_id: int):
    def write(db):
        body = _body()
        maker = get_maker(db, slug)
        attestations.resolve(db, attestations.get_challenge(maker, challenge_id), _text(body, "outcome"),
                             _text(body, "reason"), user=g.user, token=g.token, via="api",
                             remote_addr=request.remote_addr)
        compliance.refresh_maker(maker)

    _write("attestation.resolve", f"{slug}: challenge {challenge_id}", write)
    return jsonify(attestations.ownership_view(get_maker(get_session(), slug), compliance.today()))
