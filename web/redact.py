"""Error text without server paths: what a visitor reads never maps the server's disk.

Messages come from many layers (the render sandbox's tracebacks, the OS, the
archive reader) and some quote a file by its absolute path. Every path under a
folder of this server (the home, the repository, the Python installation, the
temporary folder, the sandbox's job folders) is cut to its last component:
``/var/lib/opendesign/uploads/publish-x/_upload/w/design.toml`` reads
``design.toml`` and ``/jobs/job-12-ab/in/model.py`` reads ``model.py``.
"""

from __future__ import annotations

import re
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

from flask import current_app, has_app_context

_REPO = str(Path(__file__).resolve().parent.parent)


@lru_cache(maxsize=16)
def _pattern(home: str) -> re.Pattern:
    roots = {home, _REPO, sys.prefix, sys.base_prefix, sys.exec_prefix, tempfile.gettempdir(), "/jobs", "/tmp",
             "/var/tmp", "/dev/shm", "/root", "/home", "/srv", "/opt", "/var/lib", "/run"}
    roots |= {str(Path(r).resolve()) for r in list(roots) if r}
    alternatives = "|".join(re.escape(r.rstrip("/")) for r in sorted(roots, key=len, reverse=True) if r.strip("/"))
    # A root, then path components up to a quote, whitespace, comma, bracket or the end.
    return re.compile(rf"(?:{alternatives})(?:/[^\s'\",:()\[\]<>]*)?")


def _last(match: re.Match) -> str:
    name = match.group(0).rstrip("/").rsplit("/", 1)[-1]
    return name or "…"


def redact(text: str) -> str:
    """*text* with every server path reduced to its last component."""
    if not text or "/" not in text:
        return text
    home = str(current_app.config["SETTINGS"].home.resolve()) if has_app_context() else ""
    return _pattern(home).sub(_last, text)
