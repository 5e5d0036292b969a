"""Index generations on disk: atomic swaps for readers, one writer at a time.

Layout under the index folder::

    index/
      CURRENT          name of the live generation (replaced atomically)
      write.lock       flock()ed by the one writer
      g-<time>-<rand>/ a complete Whoosh index

A rebuild writes a fresh generation and then replaces ``CURRENT``; readers
re-read ``CURRENT`` and switch on their next search, so they never see a
half-built index and never wait for a writer. The previous generation is kept
for searchers still holding it open; older ones are removed.
"""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import OpenDesignError

POINTER = "CURRENT"
LOCK = "write.lock"
PREFIX = "g-"


class IndexLocked(OpenDesignError):
    """Another process holds the index's write lock for too long."""


class IndexStorage:
    """The generations of one index folder."""

    def __init__(self, root: Path):
        self.root = Path(root)
        # flock() excludes other open file descriptions, threads included;
        # this lock only spares threads of one process the polling.
        self._thread_lock = threading.Lock()

    # Reading ---------------------------------------------------------------

    def current(self) -> Path | None:
        """The live generation's folder, or None when no index was built yet."""
        try:
            name = (self.root / POINTER).read_text("utf-8").strip()
        except FileNotFoundError:
            return None
        path = self.root / name
        return path if name.startswith(PREFIX) and path.is_dir() else None

    def pointer_stamp(self) -> tuple[int, int] | None:
        """Changes whenever ``CURRENT`` is replaced; cheap enough to check on every search."""
        try:
            st = os.stat(self.root / POINTER)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    def generations(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted((p for p in self.root.iterdir() if p.is_dir() and p.name.startswith(PREFIX)),
                      key=lambda p: p.name)

    # Writing ---------------------------------------------------------------

    @contextmanager
    def write_lock(self, timeout: float = 120.0) -> Iterator[None]:
        """Hold the index's single-writer lock (waiting up to *timeout* seconds)."""
        self.root.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        if not self._thread_lock.acquire(timeout=timeout):
            raise IndexLocked(f"{self.root}: another thread is writing the search index")
        try:
            with open(self.root / LOCK, "a+") as handle:
                while True:
                    try:
                        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except OSError as exc:
                        if exc.errno not in (errno.EAGAIN, errno.EACCES):
                            raise
                        if time.monotonic() >= deadline:
                            raise IndexLocked(
                                f"{self.root}: another process is writing the search index "
                                f"(waited {timeout:.0f} s); try again when it has finished") from None
                        time.sleep(0.05)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def new_generation(self) -> Path:
        """An empty folder for a generation that is not live yet."""
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"{PREFIX}{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(3)}"
        path = self.root / name
        path.mkdir()
        return path

    def publish(self, generation: Path) -> None:
        """Make *generation* live in one atomic rename, then drop all but the previous one."""
        previous = self.current()
        tmp = self.root / f".{POINTER}.{os.getpid()}.{secrets.token_hex(3)}"
        tmp.write_text(generation.name + "\n", "utf-8")
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, self.root / POINTER)
        keep = {generation.name, previous.name if previous else None}
        for old in self.generations():
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)

    def discard(self, generation: Path) -> None:
        shutil.rmtree(generation, ignore_errors=True)
