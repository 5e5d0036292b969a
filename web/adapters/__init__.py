"""Adapters between the web layer and the services other packages provide.

The render pipeline (``renderers``), the search index (``opendesign.search``)
and the commons layer (``opendesign.commons``) are reached only through these
modules, so a view never depends on how those packages spell their APIs, and
the site still works (with less) when one of them is unavailable.
"""

from __future__ import annotations

from flask import Flask, current_app


def init_app(app: Flask) -> None:
    import threading

    from . import bundles, commons, makers, render, search

    # Request threads that may wait for a render or a bundle at once (RENDER_WAITERS); the rest answer
    # 202 at once, so a burst of renders always leaves threads for the pages.
    app.extensions["opendesign.render_waiters"] = threading.BoundedSemaphore(max(1, int(app.config["RENDER_WAITERS"])))
    bundles.init_app(app)
    commons.init_app(app)
    makers.init_app(app)
    search.init_app(app)
    render.init_app(app)


def search_service():
    return current_app.extensions["opendesign.search"]


def render_service():
    return current_app.extensions["opendesign.render"]


def bundle_builder():
    return current_app.extensions["opendesign.bundles"]
