"""``OPENDESIGN_HOME`` is private: folders 0700, files 0600, whatever writes them.

The catalogue database (with its ``-wal`` and ``-shm``), the render cache and
its sidecars, the search index, the secret key and uploads all live there, and
some are written by libraries (SQLite, Whoosh) that take their modes from the
process umask. So :func:`secure_home` sets the umask to 077 for the whole
process (a server's files are nobody else's business), creates the home 0700,
and tightens a home made by an older version (one whose own mode lets others
in) once, on start.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

UMASK = 0o077


def secure_home(home: str | Path) -> Path:
    """Set the process umask to 077 and make *home* (created if missing) private; return it."""
    os.umask(UMASK)
    home = Path(home)
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(home.stat().st_mode) & 0o077:
        changed = tighten(home)
        log.warning("made %s private (folders 0700, files 0600): %d entries tightened", home, changed)
    return home


def tighten(root: Path) -> int:
    """Remove group and other permissions from everything under *root* (links are left alone)."""
    changed = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
            try:
                st = os.lstat(name)
                if stat.S_ISLNK(st.st_mode):
                    continue
                mode = stat.S_IMODE(st.st_mode)
                if mode & 0o077:
                    os.chmod(name, mode & 0o700)
                    changed += 1
            except OSError:
                continue  # gone meanwhile, or not ours to change
    return changed


def current_umask() -> int:
    """The process umask, read without changing it (``os.umask`` would, racing other threads)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def public_mode(mode: int = 0o644) -> int:
    """*mode* as the umask allows it: 0644 normally, 0600 in a process that :func:`secure_home` made private."""
    return mode & ~current_umask()
