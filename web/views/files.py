"""Rendered files from the content-addressed cache: ``/files/<sha256>.<ext>``.

The URL names the bytes, so a response never changes: a strong ETag (the
sha256) and a year of immutable caching. Anything that is not exactly 64 hex
digits and a known extension — including every path trick — is a 404, and
the bytes are checked against their recorded sha256 by the render cache
before they are served.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, request, send_file

from ..adapters import render_service
from ..adapters.render import CONTENT_TYPES
from ..db import get_session

bp = Blueprint("files", __name__)
blueprints = [bp]

NAME_RE = re.compile(r"^(?P<sha>[0-9a-f]{64})\.(?P<ext>stl|3mf|glb|step|svg)$")
IMMUTABLE = "public, max-age=31536000, immutable"


def _not_found() -> Response:
    return Response("not found\n", status=404, mimetype="text/plain")


@bp.get("/files/<name>")
def serve(name: str):
    m = NAME_RE.match(name)
    if not m:
        return _not_found()
    found = render_service().locate(get_session(), m["sha"], m["ext"])
    if found is None:
        return _not_found()
    path, filename = found
    inline = m["ext"] == "svg"
    response = send_file(path, mimetype=CONTENT_TYPES[m["ext"]], as_attachment=not inline,
                         download_name=filename, etag=m["sha"], conditional=True, max_age=31536000)
    response.headers["Cache-Control"] = IMMUTABLE
    response.headers["X-Content-Type-Options"] = "nosniff"
    if inline:
        # An SVG from a stranger's model: never let it run script when opened directly.
        response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response


@bp.get("/files/")
@bp.get("/files")
def index():
    return _not_found()


