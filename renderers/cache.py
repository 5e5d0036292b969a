"""The content-addressed render cache.

Files live under ``$OPENDESIGN_HOME/cache/objects/<k[:2]>/<key>.<ext>`` with a
``<key>.json`` sidecar (mesh statistics the ``Artifact`` row has no columns
for). The ``Artifact`` row is the commit point: an entry exists only once its
row does, and the row is written after both files were fsynced and renamed
into place, so a process killed mid-write leaves at most a temporary file
(swept later), never a partial entry. The row's sha256 is checked whenever
the bytes are served (:meth:`FileArtifactStore.open_verified`).

Single-flight: :meth:`FileArtifactStore.lock` takes ``flock`` locks on one
file per key, which serialise threads and processes alike. Size is bounded
by least-recently-used eviction (``cache_max_bytes``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from opendesign.config import Settings
from opendesign.db import Database
from opendesign.models import Artifact, as_utc

log = logging.getLogger(__name__)

#: A hit refreshes ``last_used_at`` only when it is older than this (saves a write per hit).
TOUCH_INTERVAL = timedelta(seconds=60)
#: Temporary files older than this are debris of a killed writer.
STALE_TMP_SECONDS = 3600
CHUNK = 1 << 20


@dataclass(frozen=True)
class ArtifactMeta:
    """What is known about an artifact besides its bytes."""

    format: str
    quality: str
    part: str | None = None
    version_id: int | None = None
    parameters: dict = field(default_factory=dict)
    triangles: int | None = None
    watertight: bool | None = None
    volume: float | None = None
    bbox: list | None = None
    #: On the whole-model entry of a multi-part render: the part names.
    parts: list[str] = field(default_factory=list)
    render_seconds: float | None = None


@dataclass(frozen=True)
class StoredArtifact:
    key: str
    path: Path
    size: int
    sha256: str
    meta: ArtifactMeta


class ArtifactStore(Protocol):
    def get(self, key: str) -> StoredArtifact | None: ...

    def put(self, key: str, data: bytes | Iterable[bytes], meta: ArtifactMeta, *,
            durable: bool = True) -> StoredArtifact: ...

    def open_verified(self, key: str) -> tuple[BinaryIO, StoredArtifact] | None: ...

    def lock(self, keys: Iterable[str]): ...

    def discard(self, key: str) -> None: ...

    def evict(self, protect: Iterable[str] = ()) -> int: ...


def artifact_store(db: Database, settings: Settings) -> ArtifactStore:
    """The deployment's store: files on this host, or PostgreSQL shared by every host (``artifact_store``)."""
    if settings.artifact_store == "postgres":
        from .pg_store import PostgresArtifactStore

        return PostgresArtifactStore(db, settings)
    return FileArtifactStore(db, settings)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileArtifactStore:
    """Artifacts as files under the cache folder, recorded as ``Artifact`` rows."""

    def __init__(self, db: Database, settings: Settings, *, root: Path | None = None, max_bytes: int | None = None):
        self.db = db
        self.root = Path(root or settings.cache_dir).resolve()
        self.max_bytes = max_bytes or settings.cache_max_bytes
        self.objects, self.tmp, self.locks = self.root / "objects", self.root / "tmp", self.root / "locks"
        for d in (self.objects, self.tmp, self.locks):
            d.mkdir(mode=0o700, parents=True, exist_ok=True)

    # -- paths --------------------------------------------------------------------------
    def path(self, key: str, fmt: str) -> Path:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key) or not fmt.isalnum():
            raise ValueError(f"not a cache key: {key!r}")
        return self.objects / key[:2] / f"{key}.{fmt}"

    def _meta_path(self, key: str) -> Path:
        return self.objects / key[:2] / f"{key}.json"

    # -- reading ----------------------------------------------------------------------------
    def get(self, key: str) -> StoredArtifact | None:
        """The entry for *key* if its row, file and sidecar are all there (size checked, not hashed)."""
        with self.db.session() as session:
            row = session.scalar(select(Artifact).where(Artifact.cache_key == key))
            if row is None:
                return None
            path = self.path(key, row.format)
            try:
                st = os.stat(path, follow_symlinks=False)
                meta = ArtifactMeta(**json.loads(self._meta_path(key).read_bytes()))
                intact = st.st_size == row.size and os.path.isfile(path) and not path.is_symlink()
            except (OSError, ValueError, TypeError):
                intact = False
            if intact:
                now = datetime.now(UTC)
                if now - as_utc(row.last_used_at) > TOUCH_INTERVAL:
                    row.last_used_at = now
                return StoredArtifact(key, path, row.size, row.sha256, meta)
        log.warning("render cache: entry %s is incomplete; dropping it", key)
        self.discard(key)
        return None

    def open_verified(self, key: str) -> tuple[BinaryIO, StoredArtifact] | None:
        """An open file of the entry's bytes after checking them against the recorded sha256.

        Returns None (and drops the entry) when the bytes are missing or differ.
        """
        entry = self.get(key)
        if entry is None:
            return None
        try:
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            self.discard(key)
            return None
        f = os.fdopen(fd, "rb")
        digest, size = hashlib.sha256(), 0
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
        if digest.hexdigest() != entry.sha256 or size != entry.size:
            f.close()
            log.error("render cache: %s does not match its recorded sha256; dropping it", entry.path)
            self.discard(key)
            return None
        f.seek(0)
        return f, entry

    # -- writing ----------------------------------------------------------------------------
    def _write_tmp(self, key: str, chunks: Iterable[bytes], durable: bool = True) -> tuple[Path, int, str]:
        fd, name = _mkstemp(self.tmp, key)
        digest, size = hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in chunks:
                    f.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                f.flush()
                if durable:
                    os.fsync(f.fileno())
        except BaseException:
            _unlink(name)
            raise
        return name, size, digest.hexdigest()

    def put(self, key: str, data: bytes | Iterable[bytes], meta: ArtifactMeta, *,
            durable: bool = True) -> StoredArtifact:
        """Store *data* under *key* atomically and record it; returns the new entry.

        ``durable=False`` skips the fsyncs, for entries that can be rendered again (drafts):
        the rename still makes the entry appear whole or not at all, and after a crash a
        torn file fails its size or sha256 check, is dropped and is rendered again.
        """
        chunks = [data] if isinstance(data, bytes | bytearray | memoryview) else data
        final = self.path(key, meta.format)
        tmp_data, size, sha = self._write_tmp(key, chunks, durable)
        try:
            tmp_meta, _, _ = self._write_tmp(key, [json.dumps(asdict(meta), sort_keys=True).encode()], durable)
        except BaseException:
            _unlink(tmp_data)
            raise
        try:
            final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.replace(tmp_data, final)
            os.replace(tmp_meta, self._meta_path(key))
            if durable:
                _fsync_dir(final.parent)
        except BaseException:
            _unlink(tmp_data)
            _unlink(tmp_meta)
            raise
        self._record(key, size, sha, meta)
        return StoredArtifact(key, final, size, sha, meta)

    def _record(self, key: str, size: int, sha: str, meta: ArtifactMeta) -> None:
        values = dict(sha256=sha, version_id=meta.version_id, format=meta.format, quality=meta.quality,
                      part=meta.part, parameters=meta.parameters, size=size, triangles=meta.triangles,
                      watertight=meta.watertight)
        for attempt in (1, 2):
            try:
                with self.db.session() as session:
                    row = session.scalar(select(Artifact).where(Artifact.cache_key == key))
                    now = datetime.now(UTC)
                    if row is None:
                        row = Artifact(cache_key=key, created_at=now)
                        session.add(row)
                    for name, value in values.items():
                        setattr(row, name, value)
                    row.last_used_at = now
                return
            except IntegrityError:
                if attempt == 2:
                    raise

    def discard(self, key: str) -> None:
        """Forget *key*: row first (the commit point), then its files."""
        with self.db.session() as session:
            row = session.scalar(select(Artifact).where(Artifact.cache_key == key))
            fmt = row.format if row is not None else None
            if row is not None:
                session.delete(row)
        if fmt:
            _unlink(self.path(key, fmt))
        _unlink(self._meta_path(key))

    # -- single flight ------------------------------------------------------------------------
    def _acquire(self, key: str, blocking: bool = True) -> int | None:
        path = self.locks / f"{key}.lock"
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                os.close(fd)
                return None
            try:
                if os.stat(path).st_ino == os.fstat(fd).st_ino:
                    return fd
            except FileNotFoundError:
                pass
            os.close(fd)  # the holder removed the file as we waited; lock the new one

    def _release(self, key: str, fd: int) -> None:
        _unlink(self.locks / f"{key}.lock")  # while still holding it, so no one locks a stale file
        os.close(fd)

    @contextmanager
    def lock(self, keys: Iterable[str]) -> Iterator[None]:
        """Hold the render locks of *keys* (in sorted order, so lockers never deadlock)."""
        held: list[tuple[str, int]] = []
        try:
            for key in sorted(set(keys)):
                held.append((key, self._acquire(key)))
            yield
        finally:
            for key, fd in reversed(held):
                self._release(key, fd)

    # -- size bound ---------------------------------------------------------------------------
    def stats(self) -> dict:
        with self.db.session() as session:
            count, total = session.execute(select(func.count(Artifact.id), func.coalesce(func.sum(Artifact.size), 0))).one()
        return {"entries": int(count), "bytes": int(total), "max_bytes": self.max_bytes, "path": str(self.root)}

    def evict(self, protect: Iterable[str] = ()) -> int:
        """Delete least-recently-used entries until the cache fits; return how many went."""
        guard = os.open(self.root / "evict.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(guard, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return 0  # another process is evicting
            self._sweep_tmp()
            protect = set(protect)
            with self.db.session() as session:
                total = session.scalar(select(func.coalesce(func.sum(Artifact.size), 0)))
                if total <= self.max_bytes:
                    return 0
                rows = session.execute(select(Artifact.cache_key, Artifact.size)
                                       .order_by(Artifact.last_used_at, Artifact.id)).all()
            evicted = 0
            for key, size in rows:
                if total <= self.max_bytes:
                    break
                if key in protect:
                    continue
                fd = self._acquire(key, blocking=False)
                if fd is None:
                    continue  # being rendered right now
                try:
                    self.discard(key)
                finally:
                    self._release(key, fd)
                total -= size
                evicted += 1
            if evicted:
                log.info("render cache: evicted %d entries; %d bytes remain", evicted, total)
            return evicted
        finally:
            os.close(guard)

    def _sweep_tmp(self) -> None:
        cutoff = time.time() - STALE_TMP_SECONDS
        for entry in os.scandir(self.tmp):
            try:
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)
            except OSError:
                pass


def _mkstemp(directory: Path, key: str) -> tuple[int, Path]:
    import tempfile

    fd, name = tempfile.mkstemp(dir=directory, prefix=f"{key[:16]}-", suffix=".tmp")
    return fd, Path(name)


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
