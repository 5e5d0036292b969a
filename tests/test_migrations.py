"""The Alembic migrations build exactly the schema the models describe; 0006, 0011 and 0012 downgrade cleanly."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from opendesign.models import Base

# Known drift, left for its own migration: 0001 creates design.latest_version_id's foreign key with
# use_alter=True inside create_table, which PostgreSQL skips (SQLite writes it inline).
KNOWN = {("add_fk", "design", ("latest_version_id",))}


def _key(diff) -> tuple:
    if diff[0] == "add_fk":
        return diff[0], diff[1].parent.name, tuple(c.name for c in diff[1].columns)
    return (diff[0],)


def _differences(db) -> list:
    from opendesign import blobs
    from opendesign.search import pg_tables

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        # The search tables and artifact blobs exist on PostgreSQL only (migration 0007), in their own metadata.
        metadata = ([Base.metadata, pg_tables.metadata, blobs.metadata] if conn.dialect.name == "postgresql"
                    else Base.metadata)
        return [d for d in compare_metadata(context, metadata) if _key(d) not in KNOWN]


def test_migrated_schema_matches_the_models(db):
    assert _differences(db) == []


def test_parameter_sets_migration_downgrades_and_upgrades(db):
    config = db._alembic_config()
    command.downgrade(config, "0006-1")  # the revision before ours, whatever the lead chains it after
    assert not inspect(db.engine).has_table("parameter_set")
    command.upgrade(config, "head")
    assert inspect(db.engine).has_table("parameter_set")
    assert _differences(db) == []


def test_search_filter_keys_migration_fills_the_rows_already_indexed(pg_url, tmp_path):
    """0011 on a PostgreSQL index that already holds documents: their filters work without a rebuild."""
    from opendesign.config import load_settings
    from opendesign.db import Database
    from opendesign.search import SearchQuery
    from opendesign.search.pg_index import PostgresSearchIndex

    from .conftest import _truncate_search
    from .test_search_safety import make_docs

    db = Database(load_settings(environ={}, database_url=pg_url, home=str(tmp_path)))
    config = db._alembic_config()
    try:
        _truncate_search(db.engine)
        index = PostgresSearchIndex(db.engine)
        index.rebuild(make_docs(12))
        command.downgrade(config, "0010")
        assert "filter_keys" not in {c["name"] for c in inspect(db.engine).get_columns("search_document")}
        command.upgrade(config, "head")
        water = index.search(SearchQuery("", filters={"category": ("Water",)}, limit=100))
        assert {h.slug for h in water.hits} == {f"design-{i}" for i in range(0, 12, 3)} and water.total == 4
        assert index.search(SearchQuery("category:WATER", limit=100)).total == 4
        assert _differences(db) == []
    finally:
        command.upgrade(config, "head")
        _truncate_search(db.engine)
        db.dispose()


def test_search_facet_ids_migration_fills_the_rows_already_indexed(pg_url, tmp_path):
    """0012 on a PostgreSQL index that already holds documents: facet counts stay right without a rebuild,
    and a facet value first written after it gets an id of its own."""
    import dataclasses

    from opendesign.config import load_settings
    from opendesign.db import Database
    from opendesign.search import SearchQuery
    from opendesign.search.pg_index import PostgresSearchIndex

    from .conftest import _truncate_search
    from .test_search_safety import make_docs

    db = Database(load_settings(environ={}, database_url=pg_url, home=str(tmp_path)))
    config = db._alembic_config()
    try:
        _truncate_search(db.engine)
        index = PostgresSearchIndex(db.engine)
        docs = make_docs(12)
        index.rebuild(docs)
        command.downgrade(config, "0011")
        assert not inspect(db.engine).has_table("search_facet")
        command.upgrade(config, "head")
        facets = index.search(SearchQuery("", limit=0)).facets
        assert {v.value: v.count for v in facets["category"]} == {"water": 4, "energy": 4, "shelter": 4}
        assert {v.value: v.count for v in facets["process"]} == {"fdm": 12}
        index.apply([dataclasses.replace(docs[0], category="mobility", processes=("cnc",))])
        facets = index.search(SearchQuery("", limit=0)).facets
        assert {v.value: v.count for v in facets["category"]} == {"water": 3, "energy": 4, "shelter": 4,
                                                                   "mobility": 1}
        assert {v.value: v.count for v in facets["process"]} == {"fdm": 11, "cnc": 1}
        assert _differences(db) == []
    finally:
        command.upgrade(config, "head")
        _truncate_search(db.engine)
        db.dispose()
