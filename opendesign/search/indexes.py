"""Which search index a deployment uses: one object per index folder, shared by the whole process.

Kept apart from :mod:`.sync` (which loads the ORM to read the catalogue) so
that ``opendesign search`` can query an existing index without importing any
database code. Each backend is imported in its own branch, so a deployment
loads only the one it uses: Whoosh's evaluator needs numpy, PostgreSQL's the
database code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .service import SearchIndex

if TYPE_CHECKING:
    from ..config import Settings

_indexes: dict[tuple[str, object], SearchIndex] = {}


def get_index(settings: Settings) -> SearchIndex:
    """The search index of the deployment *settings* describe (one object per index folder or database)."""
    if settings.search_engine == "postgres":
        # Imported here so that a Whoosh search never loads the database code.
        from ..db import make_engine
        from .pg_index import PostgresSearchIndex
        from .sync import _database_key

        key = ("postgres", _database_key(settings.database))
        index = _indexes.get(key)
        if index is None:
            index = _indexes[key] = PostgresSearchIndex(make_engine(settings.database),
                                                        time_limit=settings.search_time_limit)
        return index
    # Imported here so that a PostgreSQL search never loads numpy and the Whoosh evaluator.
    from .whoosh_index import WhooshSearchIndex

    key = ("whoosh", str(settings.index_dir.resolve()))
    index = _indexes.get(key)
    if index is None:
        index = _indexes[key] = WhooshSearchIndex(settings.index_dir, time_limit=settings.search_time_limit)
    return index
