"""Rendered files from the content-addressed cache: ``/files/<sha256>.<ext>``.

The URL names the bytes, so a response never changes: a strong ETag (the
sha256) and a year of immutable caching. Anything that is not exactly 64 hex
digits and a known extension — including every path trick — is a 404, and
the bytes are checked against their recorded sha256 by the render cache
before they are served.

A file this process has located and verified before is served by
:class:`FastFiles`, a WSGI wrapper in front of Flask: no request context, no
database query, only an ``fstat`` to check that the bytes on disk are still
the ones verified (same size and mtime). Anything else (a first request, a
changed file, a Range or date-conditional request) goes through the view.
"""

from __future__ import annotations

import os
import re
import time

from flask import Blueprint, Response, send_file
from werkzeug.http import dump_options_header, http_date, parse_etags
from werkzeug.wsgi import FileWrapper

from ..adapters import render_service
from ..adapters.render import CONTENT_TYPES
from ..db import get_session

bp = Blueprint("files", __name__)
blueprints = [bp]

NAME_RE = re.compile(r"^(?P<sha>[0-9a-f]{64})\.(?P<ext>stl|3mf|glb|step|svg)$")
IMMUTABLE = "public, max-age=31536000, immutable"
MAX_AGE = 31536000
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
_FAST_NAME_RE = re.compile(r"/files/(?P<sha>[0-9a-f]{64})\.(?P<ext>stl|3mf|glb|step|svg)")
#: Conditional headers the fast path leaves to werkzeug (If-None-Match it answers itself).
_SLOW_HEADERS = ("HTTP_RANGE", "HTTP_IF_RANGE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE")


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
                         download_name=filename, etag=m["sha"], conditional=True, max_age=MAX_AGE)
    response.headers["Cache-Control"] = IMMUTABLE
    response.headers["X-Content-Type-Options"] = "nosniff"
    if inline:
        # An SVG from a stranger's model: never let it run script when opened directly.
        response.headers["Content-Security-Policy"] = SVG_CSP
    return response


@bp.get("/files/")
@bp.get("/files")
def index():
    return _not_found()




class FastFiles:
    """WSGI wrapper serving already verified ``/files/`` hits without Flask (same headers as :func:`serve`)."""

    def __init__(self, wsgi_app, renderer):
        self.wsgi_app = wsgi_app
        self.renderer = renderer

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/files/") and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            m = _FAST_NAME_RE.fullmatch(path)
            if m and not any(h in environ for h in _SLOW_HEADERS):
                served = self._serve(environ, start_response, m["sha"], m["ext"])
                if served is not None:
                    return served
        return self.wsgi_app(environ, start_response)

    def _serve(self, environ, start_response, sha: str, ext: str):
        hit = self.renderer.known(sha, ext)
        if hit is None:
            return None
        path, filename, stamp = hit
        try:
            f = open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb")
        except OSError:
            return None
        st = os.fstat(f.fileno())
        if (st.st_size, st.st_mtime_ns) != stamp:
            f.close()  # changed since it was verified: the view hashes it again
            return None
        inline = ext == "svg"
        headers = [
            ("Content-Disposition", dump_options_header("inline" if inline else "attachment", {"filename": filename})),
            ("Cache-Control", IMMUTABLE), ("Expires", http_date(time.time() + MAX_AGE)), ("ETag", f'"{sha}"'),
            ("Accept-Ranges", "bytes"), ("X-Content-Type-Options", "nosniff"),
        ]
        if inline:
            headers.append(("Content-Security-Policy", SVG_CSP))
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match is not None and parse_etags(if_none_match).contains_weak(sha):
            f.close()
            start_response("304 Not Modified", headers)
            return []
        if if_none_match is None and "HTTP_IF_MODIFIED_SINCE" in environ:
            f.close()
            return None
        headers += [("Content-Type", CONTENT_TYPES[ext]), ("Content-Length", str(st.st_size)),
                    ("Last-Modified", http_date(st.st_mtime))]
        start_response("200 OK", headers)
        if environ["REQUEST_METHOD"] == "HEAD":
            f.close()
            return []
        wrapper = environ.get("wsgi.file_wrapper", FileWrapper)
        return wrapper(f, 64 * 1024)


def init_app(app) -> None:
    app.wsgi_app = FastFiles(app.wsgi_app, app.extensions["opendesign.render"])
