"""Catalogue search: a service interface, its Whoosh implementation, and index sync.

For the web layer and the CLI::

    from opendesign import search

    index = search.install(settings)            # at start-up: keeps the index in sync
    results = index.search(search.SearchQuery("solar dryer", filters={"category": ("food-agriculture",)}))
    search.rebuild_index(index, session)        # full rebuild, swapped in atomically
    search.compare(index, session).in_sync      # does the index match the catalogue?
"""

from __future__ import annotations

import importlib

#: Each name and the module it lives in. Loaded on first use (PEP 562) so that a
#: search of an existing index never imports the ORM that :mod:`.sync` and
#: :mod:`.documents` need to read the catalogue.
_EXPORTS = {
    "SearchDocument": "documents", "document_for": "documents", "load_documents": "documents",
    "license_family": "licensing",
    "SORTS": "service", "FacetValue": "service", "Hit": "service", "IndexStatus": "service",
    "NullSearchIndex": "service", "SearchIndex": "service", "SearchQuery": "service", "SearchResults": "service",
    "IndexLocked": "storage",
    "get_index": "indexes",
    "SyncStatus": "sync", "compare": "sync", "ensure_index": "sync", "handle_change": "sync", "install": "sync",
    "rebuild_index": "sync", "uninstall": "sync", "update_index": "sync",
    "in_transaction": "sync", "update_in_transaction": "sync",
    "WhooshSearchIndex": "whoosh_index",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
