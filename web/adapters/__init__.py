"""Adapters between the web layer and the services other packages provide.

The render pipeline (``renderers``), the search index (``opendesign.search``)
and the commons layer (``opendesign.commons``) are reached only through these
modules, so a view never depends on how those packages spell their APIs, and
the site still works (with less) when one of them is unavailable.
"""

from __future__ import annotations

from flask import Flask, current_app


def init_app(app: Flask) -> None:
    from . import bundles, commons, makers, render, search

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
