"""The reciprocity ledger's part of the OpenAPI document: schemas and paths, merged by :mod:`.openapi`."""

from __future__ import annotations

_STR = {"type": "string"}
_DEC = {"type": "string", "pattern": r"^\d+(\.\d+)?$", "description": "An exact decimal, e.g. \"120.50\""}
_ENTRY_PATH = {"name": "entry", "in": "path", "required": True, "description": "A ledger entry id (16 hex digits) "
               "or a unique prefix of at least 6", "schema": {"type": "string", "pattern": "^[0-9a-f]{6,16}$"}}
_SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[a-z0-9-]+$"}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(schema: dict, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


_TOTALS = {"type": "object", "description": "Per kind: count, exact totals per unit (currency, hours, improvements) "
                                            "and the same for people (display)",
           "properties": {"count": {"type": "integer"}, "by_kind": {"type": "object", "additionalProperties": {
               "type": "object", "properties": {"count": {"type": "integer"},
                                                "totals": {"type": "object", "additionalProperties": _DEC},
                                                "display": {"type": "object", "additionalProperties": _STR}}}}}}

SCHEMAS = {
    "LedgerEntry": {"type": "object", "properties": {
        "id": {"type": "string", "pattern": "^[0-9a-f]{16}$"}, "maker": _STR, "design": _STR,
        "version": {"type": "string", "nullable": True}, "kind": _STR, "amount": _DEC,
        "amount_minor": {"type": "integer", "description": "The amount in minor units of its unit"},
        "scale": {"type": "integer"}, "currency": {"type": "string", "nullable": True},
        "unit": {"type": "string", "description": "The currency, hours or improvements"}, "date": {
            "type": "string", "format": "date"}, "evidence": {"type": "array", "items": _STR}, "note": _STR,
        "state": {"type": "string", "enum": ["claimed", "confirmed", "disputed", "corrected"]},
        "reason": {"type": "string", "description": "Why it is disputed"},
        "corrects": {"type": "string", "nullable": True}, "corrected_by": {"type": "string", "nullable": True},
        "counts": {"type": "boolean", "description": "Confirmed and not corrected: it counts in totals and flows"},
        "flows": {"type": "array", "items": _ref("Flow")},
        "kept": {"type": "object", "additionalProperties": _DEC, "description": "What each version keeps"},
        "history": {"type": "array", "items": {"type": "object"}}}},
    "Flow": {"type": "object", "properties": {
        "entry": _STR, "maker": _STR, "kind": _STR, "unit": _STR, "from": _STR, "to": _STR, "amount": _DEC,
        "display": _STR, "share": _STR,
        "explanation": {"type": "string", "example": "30 EUR: 25% of a 120 EUR contribution to solar-dryer-rack-3-tier"}}},
    "DesignLedger": {"type": "object", "properties": {
        "slug": _STR, "received_directly": _TOTALS, "through_derivatives": _TOTALS, "passed_upstream": _TOTALS,
        "kept": _TOTALS, "flows_in": {"type": "array", "items": _ref("Flow")},
        "flows_out": {"type": "array", "items": _ref("Flow")},
        **{k: {"type": "array", "items": _ref("LedgerEntry")} for k in ("confirmed", "claimed", "disputed",
                                                                          "corrected")},
        "qualified_producers": {"type": "array", "items": _ref("QualifiedProducer")}}},
    "QualifiedProducer": {"type": "object", "properties": {
        "slug": _STR, "name": _STR, "legal_form": _STR, "country": _STR, "versions": {"type": "array", "items": _STR},
        "since": {"type": "string", "format": "date", "description": "The window's first day (12 months back)"},
        "contributions": {"type": "array", "items": {"type": "object"}}}},
    "AttestationInput": {"type": "object", "additionalProperties": False,
                         "required": ["evidence", "registry_id", "valid_from", "valid_until"], "properties": {
                             "kind": {"type": "string", "enum": ["worker-ownership"]},
                             "evidence": {"type": "string", "format": "uri",
                                          "description": "Bylaws, a registry entry, a certificate (http/https)"},
                             "registry_id": _STR, "valid_from": {"type": "string", "format": "date"},
                             "valid_until": {"type": "string", "format": "date",
                                             "description": "Not before valid_from"}}},
    "Ownership": {"type": "object", "properties": {
        "status": {"type": "string", "enum": ["valid", "none", "expired", "not-yet-valid", "challenged", "rejected"]},
        "detail": _STR, "current": {"type": "string", "nullable": True},
        "affected_designs": {"type": "array", "items": _STR}, "attestations": {"type": "array", "items": {
            "type": "object"}}}},
}

_STEWARD = ("Needs a token scoped `steward:<slug>` (or `steward:*`) for the entry's design, whose user is a steward "
            "of it: its owner or an account the owner named. Reviewing an entry of a maker the user owns is refused. "
            "Confirming a confirmed entry (or disputing a disputed one) is 409. Every review and refusal is audited.")
_ERR = {"$ref": "#/components/schemas/Error"}


def _errors(*codes: int) -> dict:
    words = {401: "Missing or invalid token", 403: "Not a steward, or the token is not scoped for it",
             404: "No such entry, design, maker or challenge", 409: "The entry or challenge is already in that state",
             422: "Invalid input; fields named"}
    return {str(c): _json(_ERR, words[c]) for c in codes}


PATHS = {
    "/ledger": {"get": {"summary": "Every ledger entry with its state, history and flows", "operationId": "ledgerExport",
                        "parameters": [{"name": "maker", "in": "query", "schema": _STR},
                                       {"name": "design", "in": "query", "schema": _STR}],
                        "responses": {"200": _json({"type": "object", "properties": {
                            "count": {"type": "integer"}, "entries": {"type": "array", "items": _ref("LedgerEntry")}}})}}},
    "/ledger/{entry}": {"get": {"summary": "One ledger entry", "operationId": "ledgerEntry", "parameters": [_ENTRY_PATH],
                                "responses": {"200": _json(_ref("LedgerEntry")), **_errors(404)}}},
    "/ledger/{entry}/confirm": {"post": {
        "summary": "Confirm an entry: it counts in totals and flows", "description": _STEWARD,
        "operationId": "ledgerConfirm", "parameters": [_ENTRY_PATH], "security": [{"token": []}],
        "requestBody": _body({"type": "object", "properties": {"note": _STR}}, required=False),
        "responses": {"200": _json(_ref("LedgerEntry")), **_errors(401, 403, 404, 409, 422)}}},
    "/ledger/{entry}/dispute": {"post": {
        "summary": "Dispute an entry with a reason: it stops counting", "description": _STEWARD,
        "operationId": "ledgerDispute", "parameters": [_ENTRY_PATH], "security": [{"token": []}],
        "requestBody": _body({"type": "object", "required": ["reason"], "properties": {"reason": _STR}}),
        "responses": {"200": _json(_ref("LedgerEntry")), **_errors(401, 403, 404, 409, 422)}}},
    "/designs/{slug}/reciprocity": {"get": {
        "summary": "What the design received directly and through derivatives, each flow explained",
        "operationId": "designReciprocity", "parameters": [_SLUG],
        "responses": {"200": _json(_ref("DesignLedger")), **_errors(404)}}},
    "/designs/{slug}/qualified-producers": {"get": {
        "summary": "Makers producing the design compliantly with a confirmed contribution to it (or a descendant) "
                   "in the last 12 months", "operationId": "qualifiedProducers", "parameters": [_SLUG],
        "responses": {"200": _json({"type": "object", "properties": {"slug": _STR, "qualified_producers": {
            "type": "array", "items": _ref("QualifiedProducer")}}}), **_errors(404)}}},
    "/designs/{slug}/stewards": {
        "get": {"summary": "The design's stewards (its owner first)", "operationId": "listStewards",
                "parameters": [_SLUG], "responses": {"200": _json({"type": "object"}), **_errors(404)}},
        "post": {"summary": "Name a steward (the design's owner, with a steward:<slug> token)",
                 "operationId": "addSteward", "parameters": [_SLUG], "security": [{"token": []}],
                 "requestBody": _body({"type": "object", "required": ["username"], "properties": {"username": _STR}}),
                 "responses": {"201": _json({"type": "object"}), **_errors(401, 403, 404, 422)}}},
    "/designs/{slug}/stewards/{username}": {"delete": {
        "summary": "Stop a named steward stewarding (the owner); what they reviewed stays on record",
        "operationId": "removeSteward", "security": [{"token": []}],
        "parameters": [_SLUG, {"name": "username", "in": "path", "required": True, "schema": _STR}],
        "responses": {"200": _json({"type": "object"}), **_errors(401, 403, 404)}}},
    "/makers/{slug}/attestations": {"post": {
        "summary": "Record a worker-ownership attestation (the maker's owner, with a makers:<slug> token); the "
                   "maker's verdicts are judged again", "operationId": "recordAttestation", "parameters": [_SLUG],
        "security": [{"token": []}], "requestBody": _body(_ref("AttestationInput")),
        "responses": {"201": _json(_ref("Ownership")), **_errors(401, 403, 404, 422)}}},
    "/makers/{slug}/attestations/{attestation}/challenges": {"post": {
        "summary": "Challenge an attestation (any account, with a challenge:<maker> or challenge:* token): the "
                   "verdicts that turn on it need review until a steward resolves it",
        "operationId": "challengeAttestation", "security": [{"token": []}],
        "parameters": [_SLUG, {"name": "attestation", "in": "path", "required": True, "schema": _STR}],
        "requestBody": _body({"type": "object", "required": ["reason"], "properties": {"reason": _STR}}),
        "responses": {"201": _json(_ref("Ownership")), **_errors(401, 403, 404, 422)}}},
    "/makers/{slug}/challenges/{challenge}/resolve": {"post": {
        "summary": "Resolve a challenge (a steward of a design the attestation affects, with its steward: token)",
        "operationId": "resolveChallenge", "security": [{"token": []}],
        "parameters": [_SLUG, {"name": "challenge", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "requestBody": _body({"type": "object", "required": ["outcome", "reason"], "properties": {
            "outcome": {"type": "string", "enum": ["upheld", "dismissed"]}, "reason": _STR}}),
        "responses": {"200": _json(_ref("Ownership")), **_errors(401, 403, 404, 409, 422)}}},
}
