"""Cheap checks of a static design's part files at import, before any parser sees them.

The files are untrusted and are *parsed* only in the render sandbox
(:mod:`renderers.sandbox.uploads`). What can be told from sizes and a few
header bytes is checked here already, so an obviously broken or hostile file
refuses the design at import (nothing is written) instead of failing at its
first render: a binary STL whose header count disagrees with its size, a 3MF
whose zip directory unpacks to a bomb, a STEP without its ISO 10303-21 header.
"""

from __future__ import annotations

import io
import struct
import zipfile

#: The same caps the sandbox applies (renderers.sandbox.uploads), so import and render agree.
MAX_TRIANGLES = 2_000_000
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_UNPACK_RATIO = 200


def _stl(data: bytes) -> str | None:
    head = data.lstrip()[:5].lower()
    if len(data) >= 84:
        (count,) = struct.unpack_from("<I", data, 80)
        expected = 84 + 50 * count
        if len(data) == expected:
            if count == 0:
                return "the binary STL holds no triangles"
            if count > MAX_TRIANGLES:
                return f"holds {count} triangles; the limit for a part is {MAX_TRIANGLES}"
            return None
        if head == b"solid" and b"facet" in data[:4096]:
            return None  # ASCII STL: its size says nothing about its triangles
        holds = (len(data) - 84) // 50
        return (f"the binary STL header says {count} triangles ({expected} bytes) but the file is {len(data)} bytes "
                f"(room for {holds}): truncated or not an STL")
    if head == b"solid":
        return None
    return f"is {len(data)} bytes, too short for an STL (a binary STL has an 84-byte header)"


def _3mf(data: bytes) -> str | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return "is not a 3MF file (a 3MF is a zip archive)"
    unpacked = sum(info.file_size for info in infos)
    limit = min(MAX_UNPACKED_BYTES, max(len(data), 1) * MAX_UNPACK_RATIO)
    if unpacked > limit:
        return f"would unpack to {unpacked} bytes from {len(data)} (limit {limit}): refused as a zip bomb"
    return None


def _step(data: bytes) -> str | None:
    if not data.lstrip()[:13].upper().startswith(b"ISO-10303-21;"):
        return "is not a STEP file: it does not start with ISO-10303-21;"
    return None


def _obj(data: bytes) -> str | None:
    if b"\0" in data[:4096]:
        return "is not an OBJ file (OBJ is text; this holds binary data)"
    return None


_CHECKS = {".stl": _stl, ".3mf": _3mf, ".step": _step, ".stp": _step, ".obj": _obj}


def precheck(path: str, data: bytes) -> str | None:
    """Why the part file *path* cannot be a part, or ``None`` when the sandbox should try it."""
    suffix = path[path.rfind("."):].lower()
    check = _CHECKS.get(suffix)
    return check(data) if check else None
