"""A render cache several hosts share: artifacts in the catalogue's PostgreSQL, a verified copy on each host.

``artifact_store = "postgres"``. The bytes of every artifact are stored once
in ``artifact_blob`` (content-addressed by cache key, with their sha256); a
host that needs one it does not hold fetches it, checks the sha256 and size,
and keeps it in its own :class:`~renderers.cache.FileArtifactStore` (which
serves files, verifies them again on every download, and evicts its copies
within ``cache_max_bytes``; the shared blobs are not evicted). A blob whose
bytes do not match is dropped and reported, never served. Web processes and
render workers on different hosts so see the same artifacts: what one host
rendered is a cache hit on every other.

Single flight stays per host (:meth:`lock` is the local store's file locks);
two hosts asked for the same new key at once may both render it, and the
second write is a no-op (same key, same bytes).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import BinaryIO

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from opendesign.blobs import artifact_blob
from opendesign.config import Settings
from opendesign.db import Database

from .cache import ArtifactMeta, FileArtifactStore, StoredArtifact

log = logging.getLogger(__name__)


class PostgresArtifactStore:
    """The :class:`~renderers.cache.ArtifactStore` of a deployment whose hosts share one PostgreSQL."""

    #: Entries may exist for this host before their file does (another host rendered them).
    shared = True

    def __init__(self, db: Database, settings: Settings, *, local: FileArtifactStore | None = None):
        if not db.url.startswith("postgresql"):
            raise ValueError(f"artifact_store 'postgres' needs a PostgreSQL catalogue, not {db.url.split(':')[0]}")
        self.db = db
        self.local = local or FileArtifactStore(db, settings)

    def path(self, key: str, fmt: str):
        """Where this host keeps (or will keep) its copy."""
        return self.local.path(key, fmt)

    # -- reading ----------------------------------------------------------------------------
    def _fetch(self, key: str) -> StoredArtifact | None:
        """Copy *key*'s blob to this host after checking its bytes; None when there is none or it is damaged."""
        with self.db.engine.connect() as conn:
            row = conn.execute(select(artifact_blob).where(artifact_blob.c.cache_key == key)).mappings().first()
        if row is None:
            return None
        data = bytes(row["data"])
        if hashlib.sha256(data).hexdigest() != row["sha256"] or len(data) != row["size"]:
            log.error("shared artifact store: %s does not match its recorded sha256; dropping it", key)
            self.discard(key)
            return None
        return self.local.put(key, data, ArtifactMeta(**row["meta"]))

    def get(self, key: str) -> StoredArtifact | None:
        return self.local.get(key) or self._fetch(key)

    def open_verified(self, key: str) -> tuple[BinaryIO, StoredArtifact] | None:
        opened = self.local.open_verified(key)
        if opened is None and self._fetch(key) is not None:
            opened = self.local.open_verified(key)
        return opened

    # -- writing ----------------------------------------------------------------------------
    def put(self, key: str, data: bytes | Iterable[bytes], meta: ArtifactMeta, *,
            durable: bool = True) -> StoredArtifact:
        """Store *data* for every host (the shared row is the commit point), then keep this host's copy.

        *durable* applies to the local copy only: the shared row is committed either way.
        """
        data = data if isinstance(data, bytes) else b"".join(bytes(c) for c in ([data] if isinstance(
            data, bytearray | memoryview) else data))
        with self.db.engine.begin() as conn:
            conn.execute(insert(artifact_blob).values(
                cache_key=key, sha256=hashlib.sha256(data).hexdigest(), size=len(data), format=meta.format,
                meta=asdict(meta), data=data, created_at=datetime.now(UTC),
            ).on_conflict_do_nothing(index_elements=["cache_key"]))  # same key: same bytes
        return self.local.put(key, data, meta, durable=durable)

    def discard(self, key: str) -> None:
        with self.db.engine.begin() as conn:
            conn.execute(delete(artifact_blob).where(artifact_blob.c.cache_key == key))
        self.local.discard(key)

    # -- the rest is this host's copy -------------------------------------------------------------
    def lock(self, keys: Iterable[str]):
        return self.local.lock(keys)

    def evict(self, protect: Iterable[str] = ()) -> int:
        """Evict this host's copies only: the shared blobs are every host's cache."""
        return self.local.evict(protect)

    def stats(self) -> dict:
        with self.db.engine.connect() as conn:
            from sqlalchemy import func

            count, total = conn.execute(select(func.count(), func.coalesce(func.sum(artifact_blob.c.size), 0))
                                        ).one()
        return {**self.local.stats(), "shared_entries": int(count), "shared_bytes": int(total)}
