"""The presets part of the OpenAPI document (merged into :mod:`web.openapi`)."""

from __future__ import annotations

from opendesign.presets.saved import MAX_DESCRIPTION, MAX_NAME


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


_ERROR = _ref("Error")
_WORDS = {401: "Missing or invalid token", 403: "Token not scoped presets:<slug> (or presets:*), or not the set's author",
          404: "No such design, version or parameter set (private sets of others do not exist for you)",
          409: "You already have a set of that name for this version", 422: "Invalid input; fields named"}


def _errors(*codes: int) -> dict:
    return {str(c): _json(_ERROR, _WORDS[c]) for c in codes}


_SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[a-z0-9-]+$"}}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"},
       "description": "The set's id (from its permalink)"}
_VERSION = {"name": "version", "in": "query", "required": False, "schema": {"type": "string"},
            "description": "A published version (default: the latest)"}
_VALUE = {"oneOf": [{"type": "number"}, {"type": "boolean"}, {"type": "string"}]}
SCOPES = ("Reading needs no token (the designer's presets and the public sets); with a token scoped `presets:<slug>` "
          "or `presets:*` the token user's private sets are listed too. Saving and deleting need such a token; "
          "only a set's author deletes it. Every write and refusal is recorded in the audit trail.")

SCHEMAS = {
    "Preset": {"type": "object", "description": "A preset from design.toml: the defaults with `changes` applied",
               "properties": {"name": {"type": "string"}, "description": {"type": "string"},
                              "changes": {"type": "object", "additionalProperties": _VALUE},
                              "values": {"type": "object", "additionalProperties": _VALUE}}},
    "ParameterSet": {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string"},
        "design": {"type": "string"}, "version": {"type": "string"}, "author": {"type": "string"},
        "public": {"type": "boolean"},
        "values": {"type": "object", "additionalProperties": _VALUE,
                   "description": "Every parameter, canonical"},
        "changed": {"type": "object", "additionalProperties": _VALUE,
                    "description": "The values that differ from the defaults"},
        "hash": {"type": "string", "description": "Names the set's bundle: <slug>-<version>-p<hash>.zip"},
        "created_at": {"type": "string", "format": "date-time"},
        "url": {"type": "string", "format": "uri"}, "page": {"type": "string", "format": "uri",
                                                             "description": "The permalink"},
        "bundle": {"type": "string", "format": "uri"}}},
    "ParameterSetInput": {"type": "object", "additionalProperties": False, "required": ["name"], "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME},
        "values": {"type": "object", "additionalProperties": _VALUE,
                   "description": "Parameter name -> value; missing parameters take their defaults. Checked like "
                                  "render parameters; errors are named `values.<parameter>`"},
        "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
        "public": {"type": "boolean", "default": False},
        "version": {"type": "string", "description": "A published version (default: the latest)"}}},
}

PATHS = {
    "/designs/{slug}/parameters": {"get": {
        "summary": "Check a parameter set without rendering: canonical values, hash, permalink and bundle",
        "description": "Any query argument other than `version` is a design parameter, as for render.",
        "operationId": "resolveParameters", "parameters": [_SLUG, _VERSION],
        "responses": {"200": _json({"type": "object"}), **_errors(404, 422)}}},
    "/designs/{slug}/presets": {
        "get": {"summary": "The designer's presets of a version and the design's saved parameter sets",
                "description": SCOPES + " With `version`, only that version's sets are listed.",
                "operationId": "listPresets", "security": [{}, {"token": []}],
                "parameters": [_SLUG, _VERSION,
                               {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                               {"name": "per_page", "in": "query",
                                "schema": {"type": "integer", "minimum": 1, "maximum": 100}}],
                "responses": {"200": _json({"type": "object", "properties": {
                    "presets": {"type": "array", "items": _ref("Preset")},
                    "parameter_sets": {"type": "array", "items": _ref("ParameterSet")}}}),
                    **_errors(401, 403, 404, 422)}},
        "post": {"summary": "Save a named parameter set (private unless `public`)", "description": SCOPES,
                 "operationId": "createParameterSet", "security": [{"token": []}],
                 "parameters": [_SLUG],
                 "requestBody": {"required": True, "content": {
                     "application/json": {"schema": _ref("ParameterSetInput")}}},
                 "responses": {"201": _json(_ref("ParameterSet"), "Saved (Location: the set)"),
                               **_errors(401, 403, 404, 409, 422)}}},
    "/designs/{slug}/presets/{id}": {
        "get": {"summary": "One saved parameter set", "description": SCOPES, "operationId": "getParameterSet",
                "security": [{}, {"token": []}], "parameters": [_SLUG, _ID],
                "responses": {"200": _json(_ref("ParameterSet")), **_errors(401, 403, 404)}},
        "delete": {"summary": "Delete one of your parameter sets", "description": SCOPES,
                   "operationId": "deleteParameterSet", "security": [{"token": []}], "parameters": [_SLUG, _ID],
                   "responses": {"204": {"description": "Deleted"}, **_errors(401, 403, 404)}}},
}
