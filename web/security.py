"""Security headers on every response: a strict Content Security Policy and its companions.

The CSP allows scripts and styles from this site only (no inline script, no
inline style, no ``eval``), no plugins, no framing (``frame-ancestors
'none'``, and ``X-Frame-Options`` for old browsers), forms that post here
only. The one inline element the pages carry is the design page's import map
(JSON that tells the browser where three.js lives; browsers cannot load an
import map from a file): it is allowed by its sha256, so nothing else inline
ever runs.
"""

from __future__ import annotations

import base64
import hashlib
import json

from flask import Flask, Response, request, url_for
from markupsafe import Markup

_importmaps: dict[str, tuple[str, str]] = {}

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def _importmap() -> tuple[str, str]:
    """(the import map's JSON, its CSP hash source) for this deployment's URLs."""
    root = request.script_root
    if root not in _importmaps:
        text = json.dumps({"imports": {
            "three": url_for("assets.vendor", package="three", filename="three.module.js"),
            "three/addons/": url_for("assets.vendor", package="three-addons", filename="_")[:-1],
        }}, separators=(",", ":"))
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        _importmaps[root] = (text, f"'sha256-{digest}'")
    return _importmaps[root]


def importmap_tag() -> Markup:
    """The ``<script type="importmap">`` element, exactly as the CSP hash allows it."""
    return Markup(f'<script type="importmap">{_importmap()[0]}</script>')


def content_security_policy() -> str:
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' {_importmap()[1]}",
        "style-src 'self'",
        # data: for the SVG icons inside Pico's CSS; blob: for textures the GLB loader unpacks.
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def _headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Content-Security-Policy", content_security_policy())
    return response


def init_app(app: Flask) -> None:
    app.after_request(_headers)
    app.jinja_env.globals["importmap_tag"] = importmap_tag
