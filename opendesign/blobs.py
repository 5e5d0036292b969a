"""PostgreSQL-only tables of shared bytes (created by migration 0007 on PostgreSQL).

``artifact_blob`` holds the render cache's artifacts for every host of a
deployment (``artifact_store = "postgres"``, see ``renderers.pg_store``):
content-addressed by cache key, with the sha256 each reader checks.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, DateTime, LargeBinary, MetaData, Table, Text

metadata = MetaData()

artifact_blob = Table(
    "artifact_blob", metadata,
    Column("cache_key", Text, primary_key=True),
    Column("sha256", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("format", Text, nullable=False),
    #: The entry's ArtifactMeta (mesh statistics, parts), as the file store's sidecar holds it.
    Column("meta", JSON, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
