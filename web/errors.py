"""Errors to HTTP statuses, in one place.

Core errors (:mod:`opendesign.errors` and friends) map to a status here; API
requests (under ``/api/``) get JSON ``{"error": {"status", "message",
"fields"}}``, pages get ``error.html``. Views never format errors themselves,
except forms that show problems next to their fields.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from opendesign.accounts import AccountError, PermissionDenied
from opendesign.errors import (
    LicenseConflict,
    LineageError,
    ManifestError,
    NotFound,
    OpenDesignError,
    VersionConflict,
)
from opendesign.publish import PublishConflict, UnsafeArchive
from renderers.errors import RendersUnavailable

from .params import ParameterErrors
from .redact import redact

log = logging.getLogger(__name__)

#: Most specific class first; the first match wins. A status may be a function of the error.
STATUS_BY_ERROR: list[tuple[type[BaseException], int | Callable[[BaseException], int]]] = [
    (NotFound, 404),
    # The broker is down: pages still serve, renders come back once it does.
    (RendersUnavailable, 503),
    (PermissionDenied, 403),
    (PublishConflict, 409),
    (VersionConflict, 409),
    (UnsafeArchive, 400),
    (ManifestError, 422),
    (ParameterErrors, 422),
    (AccountError, 422),
    (LicenseConflict, 422),
    (LineageError, 422),
]


def register_error(cls: type[BaseException], status: int | Callable[[BaseException], int]) -> None:
    """Map another core error type (e.g. from the renderers) to *status*."""
    STATUS_BY_ERROR[:] = [(c, s) for c, s in STATUS_BY_ERROR if c is not cls]
    STATUS_BY_ERROR.insert(0, (cls, status))


def status_for(exc: BaseException) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(exc, cls):
            return status(exc) if callable(status) else status
    return 400


def field_errors(exc: BaseException) -> dict[str, list[str]]:
    """Per-field problems of an error that has them (``{"file: field": [reason, ...]}``)."""
    fields: dict[str, list[str]] = {}
    errors = getattr(exc, "errors", None) or []
    if isinstance(errors, dict):  # opendesign.parameters.ParameterError: name -> reason
        return {name: [str(reason)] for name, reason in errors.items()}
    for err in errors:
        if hasattr(err, "reason") and hasattr(err, "file"):
            key = err.field if not err.file or err.file in ("", "upload", "fork") else f"{err.file}: {err.field}"
            fields.setdefault(key.rstrip(": ") or "upload", []).append(err.reason)
    extra = getattr(exc, "fields", None)
    if isinstance(extra, dict):
        for key, value in extra.items():
            fields.setdefault(key, []).extend(value if isinstance(value, list) else [str(value)])
    return fields


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(status: int, message: str, fields: dict | None = None, title: str | None = None) -> Response:
    message = redact(message)
    if fields:
        fields = {redact(key): [redact(str(v)) for v in values] for key, values in fields.items()}
    if wants_json():
        body = {"error": {"status": status, "message": message}}
        if fields:
            body["error"]["fields"] = fields
        response = jsonify(body)
        response.status_code = status
        return response
    html = render_template("error.html", status=status, message=message, fields=fields or {},
                           title=title or _TITLES.get(status, "Error"))
    return Response(html, status=status, mimetype="text/html")


_TITLES = {400: "Bad request", 401: "Log in required", 403: "Not allowed", 404: "Not found",
           405: "Method not allowed", 409: "Conflict", 413: "Upload too large", 422: "Cannot be processed",
           429: "Too many attempts", 500: "Server error", 503: "Busy", 507: "Server storage full"}

#: errno values (and SQLSTATE / SQLite messages) that mean the server's disk is full.
_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
_FULL_SQLSTATES = ("53100",)  # PostgreSQL disk_full
_FULL_MESSAGES = ("database or disk is full", "no space left on device", "could not extend file")
DISK_FULL_MESSAGE = ("the server ran out of disk space, so nothing was saved; please try again later "
                     "(the operators have been alerted through the log and /healthz)")


def storage_full(exc: BaseException) -> bool:
    """Whether *exc* (an OS or database error) says the server's disk is full."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
            return True
        if getattr(exc, "sqlstate", None) in _FULL_SQLSTATES:
            return True
        if isinstance(exc, DBAPIError | OSError) and any(m in str(exc).lower() for m in _FULL_MESSAGES):
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
        seen += 1
    return False


def _storage_error(exc: Exception):
    if not storage_full(exc):
        raise exc
    log.error("disk full on %s %s: %s", request.method, request.path, exc)
    _rollback()
    response = error_response(507, DISK_FULL_MESSAGE)
    response.headers["Retry-After"] = "300"
    return response


def _rollback() -> None:
    from .db import get_session

    try:
        get_session().rollback()
    except Exception:  # noqa: BLE001 — the answer matters more than a clean session
        pass


def _opendesign_error(exc: OpenDesignError):
    return error_response(status_for(exc), str(exc), field_errors(exc))


def _http_error(exc: HTTPException):
    if exc.code == 413:
        limit = request.max_content_length
        message = f"the upload is larger than the limit of {limit // (1024 * 1024)} MiB" if limit else exc.description
        return error_response(413, message)
    response = error_response(exc.code or 500, exc.description or exc.name)
    if exc.code == 405 and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def _csrf_error(exc: CSRFError):
    return error_response(400, f"the form could not be submitted: {exc.description} Reload the page and try again.",
                          title="Form expired or forged")


def _unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    if storage_full(exc):
        return _storage_error(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "something went wrong on our side; it has been logged")


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(OpenDesignError, _opendesign_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OSError, _storage_error)
    app.register_error_handler(DBAPIError, _storage_error)
    if not app.testing:
        app.register_error_handler(Exception, _unexpected)
