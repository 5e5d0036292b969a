"""File references of a manifest, confined to the manifest's folder.

OKH paths are relative to the manifest's folder; a leading ``/`` means the
same thing (the repository root, where the manifest sits), as real OKH-LOSH
manifests write it. Nothing else may reach the host: a path that climbs out
with ``..``, a drive or home path, or a symbolic link that leads outside is
refused with the reason. A reference that stays inside but names no file is
*missing*: listed, not fatal. URLs are references to elsewhere, never fetched.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from ..manifests.loader import MAX_FILE_BYTES

_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_DRIVE_RE = re.compile(r"^[a-zA-Z]:[\\/]|^\\\\")


class RefusedReference(ValueError):
    """A reference that would read outside the manifest's folder."""


@dataclass(frozen=True)
class Found:
    """A referenced file that exists inside the manifest's folder."""

    #: Path relative to the manifest's folder, POSIX style, normalised.
    path: str
    data: bytes


@dataclass(frozen=True)
class Missing:
    path: str
    reason: str


@dataclass(frozen=True)
class Remote:
    url: str


Resolved = Found | Missing | Remote


def confined(reference: str) -> str | None:
    """The normalised path *reference* names inside the manifest's folder (``None`` for a URL), read
    from the text alone: nothing on disk is touched.

    :raises RefusedReference: the text leaves the folder (``..``, an absolute host path, a file: URL).
    """
    ref = reference.strip()
    if _SCHEME_RE.match(ref):
        if ref.lower().startswith("file:"):
            raise RefusedReference(f"{reference!r} is a file: URL; give a path relative to the manifest's folder")
        return None
    if "\x00" in ref:
        raise RefusedReference(f"{reference!r} holds a NUL character")
    if _DRIVE_RE.match(ref) or ref.startswith("~"):
        raise RefusedReference(f"{reference!r} is an absolute path on someone's computer; "
                               "give a path relative to the manifest's folder")
    posix = ref.replace("\\", "/")
    normal = posixpath.normpath(posix.lstrip("/")) if posix.strip("/") else "."
    if normal == ".." or normal.startswith("../"):
        raise RefusedReference(f"{reference!r} leaves the manifest's folder; references must stay inside it")
    return normal


def resolve(root: Path, reference: str) -> Resolved:
    """What *reference* (as written in a manifest in *root*) names.

    :raises RefusedReference: the reference leaves *root* (``..``, an absolute
        host path, a symbolic link out).
    """
    ref = reference.strip()
    normal = confined(reference)
    if normal is None:
        return Remote(ref)
    if normal == ".":
        return Missing(ref, "names the manifest's folder itself, not a file")
    base = root.resolve()
    target = root / normal
    try:
        real = target.resolve(strict=False)
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise RefusedReference(f"{reference!r} cannot be resolved: {exc}") from None
    if real != base and base not in real.parents:
        raise RefusedReference(f"{reference!r} is a symbolic link that leads out of the manifest's folder "
                               f"(to {real}); references must stay inside it")
    if not real.exists():
        return Missing(normal, "no such file beside the manifest")
    if not real.is_file():
        return Missing(normal, "is a folder, not a file; list the files in it")
    size = real.stat().st_size
    if size > MAX_FILE_BYTES:
        return Missing(normal, f"is {size} bytes; the limit for a design file is {MAX_FILE_BYTES}")
    return Found(normal, real.read_bytes())
