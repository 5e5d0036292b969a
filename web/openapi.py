"""The OpenAPI 3 document of ``/api/v1``."""

from __future__ import annotations

from functools import lru_cache

from flask import current_app

from opendesign.commons.makers import CONTRIBUTION_KINDS, LEGAL_FORMS

from . import openapi_presets
from . import openapi_ledger
from .adapters.render import FORMATS, QUALITIES

_ERROR = {"$ref": "#/components/schemas/Error"}
#: Render failures by category (renderers.errors); too-large is 422, not 413: the request is
#: small, it is the model these parameters make that is over the caps (renderers.caps).
RENDER_422 = ("The render failed for a reason in the design or its parameters: invalid-params (fields named), "
              "script-error, invalid-geometry, disk-full (the job filled its scratch disk), too-large (the model "
              "needed more than the render memory cap, or its mesh is over the triangle, memory or time caps of "
              "conversion: simplify it, use a coarser quality or fewer formats)")


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict:
    words = {400: "Bad request", 401: "Missing or invalid token",
             403: "Token not scoped for this design or maker, or not the maker's owner",
             404: "Not found", 409: "Conflict (slug taken, version published with other content)",
             413: "Upload over the size limit", 422: "Invalid input; fields named"}
    return {str(c): _json(_ERROR, words[c]) for c in codes}


def _q(name: str, description: str, schema: dict | None = None, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema or {"type": "string"}}


SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[a-z0-9-]+$"}}
VERSION = _q("version", "A published version (default: the latest)")
PAGING = [_q("page", "Page number, from 1", {"type": "integer", "minimum": 1}),
          _q("per_page", "Results per page", {"type": "integer", "minimum": 1, "maximum": 100})]


_STR, _BOOL = {"type": "string"}, {"type": "boolean"}
_CODES = "ISO 3166-1 alpha-2 country codes, or EU, EEA, WORLD"
#: The request bodies of the maker endpoints: the fields of a maker file (designs/makers/README.md), checked
#: by the same schema; unknown fields are refused.
MAKER_SCHEMAS = {
    "MakerInput": {"type": "object", "additionalProperties": False,
                   "required": ["slug", "name", "legal_form", "country"], "properties": {
                       "slug": {"type": "string", "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$"}, "name": _STR,
                       "legal_form": {"type": "string", "enum": list(LEGAL_FORMS)},
                       "country": {"type": "string", "description": "ISO 3166-1 alpha-2, e.g. DE"},
                       "website": {"type": "string", "format": "uri", "nullable": True},
                       "description": _STR}},
    "ProductionInput": {"type": "object", "additionalProperties": False, "required": ["design"], "properties": {
        "design": {"type": "string", "description": "slug@version of a catalogue version"},
        "modified": _BOOL, "modified_source": {"type": "string", "description": "URL, or slug@version of a "
                                                                                 "catalogue derivative"},
        "attribution": _BOOL, "price": {"type": "number", "minimum": 0, "nullable": True},
        "currency": {"type": "string", "description": "ISO 4217, required with a price", "nullable": True},
        "regions": {"type": "array", "items": {"type": "string", "description": _CODES}},
        "units": {"type": "integer", "minimum": 1, "description": "Units made in the period (with both dates)"},
        "period_start": {"type": "string", "format": "date"}, "period_end": {"type": "string", "format": "date"},
        "source_location": {"type": "string", "description": "Where recipients find the complete source (CERN OHL "
                                                              "v2 §4): a URL or slug@version"},
        "notice": {"type": "boolean", "nullable": True, "description": "The product carries the design's notice"}}},
    "ContributionInput": {"type": "object", "additionalProperties": False,
                          "required": ["design", "kind", "date", "evidence"],
                          "properties": {
                              "design": {"type": "string", "description": "slug (or slug@version)"},
                              "kind": {"type": "string", "enum": list(CONTRIBUTION_KINDS)},
                              "amount": {"type": "number", "exclusiveMinimum": True, "minimum": 0, "nullable": True,
                                         "description": "Finite, with no more decimal places than the currency "
                                                        "has (hours: 2; improvements: whole)"},
                              "currency": {"type": "string", "description": "ISO 4217; for money and hardware only",
                                           "nullable": True},
                              "date": {"type": "string", "format": "date", "description": "Not in the future"},
                              "evidence": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"},
                                                                          "minItems": 1, "maxItems": 10}],
                                           "description": "Required: http(s) URL(s) (transaction, receipt, merged "
                                                          "pull request, published improvement) and/or the sha256 "
                                                          "of a receipt file (64 hex digits)"},
                              "corrects": {"type": "string", "pattern": "^[0-9a-f]{16}$",
                                           "description": "The id of an earlier entry of this maker this one "
                                                          "replaces"},
                              "note": _STR}},
}
MAKER_SCOPES = ("Needs a token scoped `makers:<slug>` or `makers:*`. Registering a maker needs that scope for the "
                "new slug and makes the token's user its owner; writing to a maker needs that scope and its "
                "ownership. Makers imported from maker files have no owner and cannot be written here. "
                "Every write and refusal is recorded in the audit trail.")


def _body(schema: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


@lru_cache(maxsize=1)
def _document(max_upload: int) -> dict:
    obj = {"type": "object"}
    return {
        "openapi": "3.0.3",
        "info": {"title": "opendesign catalogue API", "version": "1.0.0",
                 "description": "Browse, search, render and publish open hardware designs. Errors are JSON "
                                "`{\"error\": {\"status\", \"message\", \"fields\"}}`."},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer",
                                          "description": "An API token from the account page (od_...), scoped "
                                                         "publish:<slug>, publish:*, makers:<slug>, makers:*, "
                                                         "presets:<slug>, presets:*, steward:<slug>, steward:*, "
                                                         "challenge:<maker-slug> or challenge:*."}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["status", "message"],
                    "properties": {"status": {"type": "integer"}, "message": {"type": "string"},
                                   "fields": {"type": "object", "additionalProperties": {
                                       "type": "array", "items": {"type": "string"}}}}}}},
                **MAKER_SCHEMAS,
                **openapi_presets.SCHEMAS,
                **openapi_ledger.SCHEMAS,
                "DesignCard": {"type": "object", "properties": {
                    k: {"type": "string"} for k in ("slug", "version", "title", "summary", "license", "category")}},
            },
        },
        "paths": {
            "/designs": {
                "get": {"summary": "List designs (latest versions)", "operationId": "listDesigns",
                        "parameters": [_q("category", "Category filter"), _q("license", "License filter"),
                                       _q("owner", "Username of the owner")] + PAGING,
                        "responses": {"200": _json({"type": "object", "properties": {
                            "total": {"type": "integer"}, "designs": {
                                "type": "array", "items": {"$ref": "#/components/schemas/DesignCard"}}}}),
                            **_errors(422)}},
                "post": {"summary": "Publish a design or a new version from a zip of its folder",
                         "operationId": "publishDesign", "security": [{"token": []}],
                         "requestBody": {"required": True, "content": {
                             "application/zip": {"schema": {"type": "string", "format": "binary",
                                                            "maxLength": max_upload}},
                             "multipart/form-data": {"schema": {"type": "object", "properties": {
                                 "file": {"type": "string", "format": "binary"}}}}}},
                         "responses": {"201": _json(obj, "Published"),
                                       "200": _json(obj, "Already published with identical content"),
                                       **_errors(400, 401, 403, 409, 413, 422)}},
            },
            "/designs/{slug}": {"get": {"summary": "One design version in full", "operationId": "getDesign",
                                        "parameters": [SLUG, VERSION],
                                        "responses": {"200": _json(obj), **_errors(404)}}},
            "/designs/{slug}/versions": {"get": {"summary": "Published versions, newest first",
                                                 "operationId": "listVersions", "parameters": [SLUG],
                                                 "responses": {"200": _json(obj), **_errors(404)}}},
            "/designs/{slug}/lineage": {"get": {"summary": "Ancestors, descendants, family graph, attribution",
                                                "operationId": "getLineage", "parameters": [SLUG, VERSION],
                                                "responses": {"200": _json(obj), **_errors(404)}}},
            "/designs/{slug}/render": {"get": {
                "summary": "Render with parameters; any other query argument is a design parameter",
                "operationId": "render",
                "parameters": [SLUG, VERSION, _q("format", "Output format", {"type": "string", "enum": list(FORMATS)}),
                               _q("quality", "Tessellation quality", {"type": "string", "enum": list(QUALITIES)}),
                               _q("part", "One part (default: the whole model)"),
                               _q("wait", "Seconds to wait before answering 202", {"type": "number"}),
                               _q("speculative", "1: render ahead of the user only if the server is idle "
                                  "(format=glb&quality=draft only); 200 JSON with the cached file's url, 202 "
                                  "accepted, 204 declined (X-Speculative-Reason: busy, visitor-budget, "
                                  "design-budget, unavailable)", {"type": "string", "enum": ["0", "1"]})],
                "responses": {"200": {"description": "The file (speculative=1: JSON naming it)", "headers": {
                    "Server-Timing": {"description": "render;dur=<ms> (cache lookup, job and the wait for it), "
                                                     "app;dur=<ms> (the whole request in the server)",
                                      "schema": {"type": "string"}}}, "content": {
                    "model/stl": {}, "model/3mf": {}, "model/gltf-binary": {}, "model/step": {}, "image/svg+xml": {},
                    "application/json": {"schema": obj}}},
                              "202": _json(obj, "Still rendering: poll the job URL (Location)"),
                              "204": {"description": "speculative=1: declined, nothing is rendered"},
                              **_errors(404),
                              "422": _json(_ERROR, RENDER_422),
                              "503": _json(_ERROR, "out-of-memory, sandbox-failure or sandbox-required"),
                              "504": _json(_ERROR, "timeout: the model ran past its time limit")}}},
            "/jobs/{job_id}": {"get": {"summary": "A render job's status", "operationId": "getJob",
                                       "parameters": [{"name": "job_id", "in": "path", "required": True,
                                                       "schema": {"type": "string"}}],
                                       "responses": {"200": _json(obj), **_errors(404)}}},
            "/search": {"get": {"summary": "Full-text search with facets", "operationId": "search",
                                "parameters": [_q("q", "Query text"), _q("category", "Facet"),
                                               _q("family", "License family"), _q("license", "Facet"),
                                               _q("process", "Facet"), _q("has_makers", "yes or no"),
                                               _q("country", "Maker country"),
                                               _q("sort", "relevance, newest, most-forked, most-produced"),
                                               _q("page", "Page", {"type": "integer"})],
                                "responses": {"200": _json(obj)}}},
            "/makers": {"get": {"summary": "Makers", "operationId": "listMakers",
                                "parameters": [_q("legal_form", "Filter"), _q("country", "ISO 3166 alpha-2")],
                                "responses": {"200": _json(obj)}},
                        "post": {"summary": "Register a maker organisation owned by the token's user",
                                 "description": MAKER_SCOPES, "operationId": "registerMaker",
                                 "security": [{"token": []}], "requestBody": _body("MakerInput"),
                                 "responses": {"201": _json(obj, "Registered (Location: the maker)"),
                                               **_errors(401, 403, 409, 422)}}},
            "/makers/{slug}/productions": {"post": {
                "summary": "Claim a production; its compliance verdict is computed at once and returned",
                "description": MAKER_SCOPES, "operationId": "claimProduction", "parameters": [SLUG],
                "security": [{"token": []}], "requestBody": _body("ProductionInput"),
                "responses": {"201": _json(obj, "Claimed, with verdict, reason and clause"),
                              **_errors(401, 403, 404, 422)}}},
            "/makers/{slug}/contributions": {"post": {
                "summary": "Record a contribution to a design's commons", "description": MAKER_SCOPES,
                "operationId": "recordContribution", "parameters": [SLUG], "security": [{"token": []}],
                "requestBody": _body("ContributionInput"),
                "responses": {"201": _json(obj, "Recorded, with the maker's reciprocity"),
                              **_errors(401, 403, 404, 422)}}},
            "/makers/{slug}": {"get": {"summary": "A maker with productions, verdicts and contributions",
                                       "operationId": "getMaker", "parameters": [SLUG],
                                       "responses": {"200": _json(obj), **_errors(404)}}},
            "/licenses": {"get": {"summary": "The license registry in plain words", "operationId": "listLicenses",
                                  "responses": {"200": _json(obj)}}},
            "/licenses/{license_id}": {"get": {"summary": "One license", "operationId": "getLicense",
                                               "parameters": [{"name": "license_id", "in": "path", "required": True,
                                                               "schema": {"type": "string"}}],
                                               "responses": {"200": _json(obj), **_errors(404)}}},
            "/openapi.json": {"get": {"summary": "This document", "operationId": "openapi",
                                      "responses": {"200": _json(obj)}}},
            **openapi_presets.PATHS,
            **openapi_ledger.PATHS,
        },
    }


def openapi_document() -> dict:
    return _document(current_app.config["MAX_CONTENT_LENGTH"] or 0)
