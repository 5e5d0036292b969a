"""Front-end packages installed with npm, served from ``node_modules``.

Only the files the pages use are reachable (an allow-list of folders), with
a day of caching; ``make serve`` runs ``npm ci`` first.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, send_from_directory

bp = Blueprint("assets", __name__)
blueprints = [bp]

#: URL prefix -> folder under node_modules.
PACKAGES = {
    "pico": "@picocss/pico/css",
    "three": "three/build",
    "three-addons": "three/examples/jsm",
}
SUFFIXES = {".css", ".js", ".map"}


@bp.get("/vendor/<package>/<path:filename>")
def vendor(package: str, filename: str):
    folder = PACKAGES.get(package)
    if folder is None or Path(filename).suffix not in SUFFIXES:
        return Response(status=404)
    root = Path(current_app.config["NODE_MODULES"]) / folder
    # send_from_directory refuses paths that leave root (safe_join).
    return send_from_directory(root, filename, max_age=86400)
