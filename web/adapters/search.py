"""The catalogue search (``opendesign.search``) as the pages and the API use it."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from flask import Flask

from opendesign.config import Settings

log = logging.getLogger(__name__)

#: Facets shown on the search page, with their labels, in order.
FACETS = {"category": "Category", "family": "License family", "license": "License", "process": "Process",
          "has_makers": "Produced by makers", "country": "Maker country"}
#: Query-string names of the facets (``/search?category=..&license=..``).
FILTER_ARGS = tuple(FACETS)
MAX_PAGE = 500


@dataclass
class SearchPage:
    results: object  # opendesign.search.SearchResults
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, min(MAX_PAGE, -(-self.results.total // self.per_page)))


class WebSearch:
    """The deployment's index, installed so catalogue commits keep it in sync."""

    def __init__(self, settings: Settings):
        from opendesign import search

        self._search = search
        self.settings = settings
        self.index = search.install(settings)
        self._ensured = False
        self._lock = threading.Lock()

    def ensure(self, session_factory) -> None:
        # Built once from the catalogue if it was never built (make serve builds it up front).
        if self._ensured:
            return
        with self._lock:
            if not self._ensured:
                if not self.index.exists():
                    session = session_factory()
                    try:
                        self._search.ensure_index(self.index, session)
                    finally:
                        session.close()
                self._ensured = True

    def query(self, session_factory, text: str, filters: dict[str, list[str]], sort: str = "relevance",
              page: int = 1, per_page: int = 20, highlight: bool = True) -> SearchPage:
        self.ensure(session_factory)
        page = max(1, min(page, MAX_PAGE))
        sort = sort if sort in self._search.SORTS else "relevance"
        request = self._search.SearchQuery(
            text=text, filters={k: tuple(v) for k, v in filters.items() if v}, sort=sort, limit=per_page,
            offset=(page - 1) * per_page, facets=True, highlight=highlight, suggest=True)
        return SearchPage(self.index.search(request), page, per_page)

    def close(self) -> None:
        self._search.uninstall(self.settings)
        self.index.close()


def init_app(app: Flask) -> None:
    app.extensions["opendesign.search"] = WebSearch(app.config["SETTINGS"])
