"""The home page and search."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from .. import listings
from ..adapters import search_service
from ..adapters.search import FACETS, FILTER_ARGS
from ..db import database, get_session

bp = Blueprint("catalogue", __name__)
blueprints = [bp]


@bp.get("/")
def home():
    return render_template("catalogue/home.html", **listings.home_data(get_session()))


def _int_arg(name: str, default: int) -> int:
    try:
        return int(request.args.get(name, default))
    except (TypeError, ValueError):
        return default


def run_search():
    """The search the query string asks for: ``q``, facet filters, ``sort``, ``page``."""
    text = request.args.get("q", "")[:1000]
    filters = {name: [v for v in request.args.getlist(name) if v][:20] for name in FILTER_ARGS}
    sort = request.args.get("sort", "relevance")
    page = _int_arg("page", 1)
    per_page = current_app.config["SEARCH_PAGE_SIZE"]
    return search_service().query(database().sessionmaker, text, filters, sort, page, per_page), text, filters, sort


@bp.get("/search")
def search():
    result, text, filters, sort = run_search()
    return render_template("catalogue/search.html", result=result, q=text, filters=filters, sort=sort,
                           facet_labels=FACETS)
