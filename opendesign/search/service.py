"""The search service interface, its request and result types, and a null implementation.

The web layer and the CLI talk to :class:`SearchIndex` only, so the Whoosh
implementation can later be replaced (e.g. by PostgreSQL full-text search)
without touching them.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: documents.py loads the ORM, which a search does not need
    from .documents import SearchDocument

SORTS = ("relevance", "newest", "most-forked", "most-produced")
#: Longest query text looked at; the rest is ignored.
MAX_QUERY_CHARS = 256
MAX_LIMIT = 100


@dataclass(frozen=True)
class SearchQuery:
    """What a person asked for.

    ``filters`` maps a facet (``category``, ``family``, ``license``, ``process``,
    ``has_makers``, ``country``) to accepted values; values of one facet are
    alternatives (OR), different facets must all hold (AND).
    """

    text: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sort: str = "relevance"
    limit: int = 20
    offset: int = 0
    facets: bool = True
    highlight: bool = True
    suggest: bool = True


@dataclass(frozen=True)
class Hit:
    slug: str
    version: str
    title: str
    summary: str
    score: float
    category: str
    license: str
    tags: list[str]
    authors: list[str]
    forks: int
    productions: int
    published: str
    #: Field name -> HTML snippet: text escaped, matches in ``<mark>``.
    highlights: dict[str, str]


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int


@dataclass(frozen=True)
class SearchResults:
    query: str
    total: int
    hits: list[Hit]
    #: Facet name -> values with their counts in the whole result set, most frequent first.
    facets: dict[str, list[FacetValue]]
    #: A corrected query that finds more, e.g. ``solar dryer`` for ``sollar dryer``.
    suggestion: str | None = None
    #: The query could not be parsed as written and was searched as plain words.
    fallback: bool = False
    #: No design held every word, so designs holding any of them are shown.
    relaxed: bool = False
    #: The time cap stopped the search; ``hits`` and ``total`` are partial.
    timed_out: bool = False
    took_ms: float = 0.0

    def as_dict(self) -> dict:
        data = asdict(self)
        data["facets"] = {name: {v.value: v.count for v in values} for name, values in self.facets.items()}
        return data


@dataclass(frozen=True)
class IndexStatus:
    exists: bool
    documents: int
    last_update: datetime | None
    generation: str | None
    #: (slug, version, content hash) of every indexed design.
    fingerprints: frozenset[tuple[str, str, str]] = frozenset()


class SearchIndex(abc.ABC):
    """A search index over the catalogue's designs (one document per design)."""

    @abc.abstractmethod
    def search(self, query: SearchQuery) -> SearchResults:
        """Run *query*. Never raises for anything a person can type."""

    @abc.abstractmethod
    def apply(self, documents: Iterable[SearchDocument], deleted: Iterable[str] = ()) -> None:
        """Add or replace *documents* and remove the designs named in *deleted*."""

    @abc.abstractmethod
    def rebuild(self, documents: Iterable[SearchDocument]) -> int:
        """Replace the whole index with *documents*, atomically; return how many were indexed."""

    @abc.abstractmethod
    def status(self) -> IndexStatus: ...

    @abc.abstractmethod
    def parents_of(self, slugs: Iterable[str]) -> set[str]:
        """Slugs of the designs the indexed *slugs* derive from (their fork counts depend on them)."""

    def exists(self) -> bool:
        return self.status().exists

    def close(self) -> None:
        """Release open files; the index can still be used afterwards."""


class NullSearchIndex(SearchIndex):
    """Finds nothing and stores nothing: for deployments or tests without search."""

    def search(self, query: SearchQuery) -> SearchResults:
        return SearchResults(query=query.text, total=0, hits=[], facets={})

    def apply(self, documents: Iterable[SearchDocument], deleted: Iterable[str] = ()) -> None:
        for _ in documents:
            pass

    def rebuild(self, documents: Iterable[SearchDocument]) -> int:
        return sum(1 for _ in documents)

    def status(self) -> IndexStatus:
        return IndexStatus(exists=False, documents=0, last_update=None, generation=None)

    def parents_of(self, slugs: Iterable[str]) -> set[str]:
        return set()
