"""The catalogue search (``opendesign.search``) as the pages and the API use it."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
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
#: Results are cached per query; dropped when the catalogue changes in this process or, through the shared
#: generation (:func:`web.db.check_shared_generation`), in any other; and kept at most this many seconds.
RESULTS_TTL = 10.0
MAX_CACHED = 1024


@dataclass
class SearchPage:
    results: object  # opendesign.search.SearchResults
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, min(MAX_PAGE, -(-self.results.total // self.per_page)))


class WebSearch:
    """The deployment's index, installed so catalogue commits keep it in sync.

    Repeated searches (the popular queries, the facet links of a result page)
    are answered from a small cache of results. It is dropped after every
    catalogue change that commits in this process: the subscriber is added
    after the index's own, so it runs once the index has been updated, and a
    search that was running meanwhile does not store its (older) results.
    """

    def __init__(self, settings: Settings):
        from opendesign import events, search

        self._search = search
        self._events = events
        self.settings = settings
        self.index = search.install(settings)
        self._ensured = False
        self._lock = threading.Lock()
        self._results: OrderedDict[tuple, tuple[float, object]] = OrderedDict()
        self._results_lock = threading.Lock()
        self._generation = 0
        self._web_generation = 0
        events.subscribe(self._index_changed)

    def _index_changed(self, _change, _maker) -> None:
        with self._results_lock:
            self._generation += 1
            self._results.clear()

    def _cached_search(self, request) -> object:
        from .. import db as webdb

        seen = webdb.generation()  # moves on changes committed by other processes too
        if seen != self._web_generation:
            with self._results_lock:
                self._web_generation = seen
                self._generation += 1
                self._results.clear()
        key = (request.text, tuple(sorted(request.filters.items())), request.sort, request.limit, request.offset,
               request.highlight, request.facets, request.suggest)
        now = time.monotonic()
        with self._results_lock:
            hit = self._results.get(key)
            if hit is not None and now - hit[0] < RESULTS_TTL:
                self._results.move_to_end(key)
                return hit[1]
            generation = self._generation
        results = self.index.search(request)
        if not getattr(results, "timed_out", False):  # a cut-short search is worth retrying
            with self._results_lock:
                if generation == self._generation:
                    self._results[key] = (now, results)
                    while len(self._results) > MAX_CACHED:
                        self._results.popitem(last=False)
        return results

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
        return SearchPage(self._cached_search(request), page, per_page)

    def close(self) -> None:
        self._events.unsubscribe(self._index_changed)
        self._search.uninstall(self.settings)
        self.index.close()


def init_app(app: Flask) -> None:
    app.extensions["opendesign.search"] = WebSearch(app.config["SETTINGS"])
