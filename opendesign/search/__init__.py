"""Catalogue search: a service interface, its Whoosh implementation, and index sync.

For the web layer and the CLI::

    from opendesign import search

    index = search.install(settings)            # at start-up: keeps the index in sync
    results = index.search(search.SearchQuery("solar dryer", filters={"category": ("food-agriculture",)}))
    search.rebuild_index(index, session)        # full rebuild, swapped in atomically
    search.compare(index, session).in_sync      # does the index match the catalogue?
"""

from __future__ import annotations

from .documents import SearchDocument, document_for, load_documents
from .licensing import license_family
from .service import (SORTS, FacetValue, Hit, IndexStatus, NullSearchIndex, SearchIndex, SearchQuery,
                      SearchResults)
from .storage import IndexLocked
from .sync import (SyncStatus, compare, ensure_index, get_index, handle_change, in_transaction, install,
                   rebuild_index, uninstall, update_in_transaction, update_index)
from .whoosh_index import WhooshSearchIndex

__all__ = [
    "SORTS", "FacetValue", "Hit", "IndexLocked", "IndexStatus", "NullSearchIndex", "SearchDocument", "SearchIndex",
    "SearchQuery", "SearchResults", "SyncStatus", "WhooshSearchIndex", "compare", "document_for", "ensure_index",
    "get_index", "handle_change", "in_transaction", "install", "update_in_transaction", "license_family", "load_documents", "rebuild_index", "uninstall", "update_index",
]
