"""Binary STL: ``slug@version license`` in the 80-byte header."""

from __future__ import annotations

import re
import struct
from typing import Any

from .model import Provenance, ProvenanceError

STL_HEADER = 80


def stl_header(prov: Provenance) -> bytes:
    """``slug@version license`` in 80 ASCII bytes, space padded.

    The license is cut first (ending in ``...``), since the reference is what
    finds the rest. A header must not start with ``solid``: some readers then
    take a binary file for ASCII STL.
    """
    ref = prov.ref
    if ref.lower().startswith("solid"):
        ref = "design " + ref
    text = f"{ref} {prov.license}".encode("ascii", "replace")
    if len(text) > STL_HEADER:
        text = text[:STL_HEADER - 3] + b"..."
    return text.ljust(STL_HEADER, b" ")


def embed(data: bytes, prov: Provenance) -> bytes:
    _check_binary_stl(data)
    return stl_header(prov) + data[STL_HEADER:]


def _check_binary_stl(data: bytes) -> int:
    if len(data) < STL_HEADER + 4:
        raise ProvenanceError("not a binary STL file: shorter than 84 bytes")
    (count,) = struct.unpack_from("<I", data, STL_HEADER)
    if len(data) != STL_HEADER + 4 + 50 * count:
        raise ProvenanceError(f"not a binary STL file: {count} triangles need {84 + 50 * count} bytes, "
                              f"found {len(data)}")
    return count


_STL_RE = re.compile(r"^(?:design )?([a-z0-9][a-z0-9-]*)@(\S+)(?: (.*))?$")


def read(data: bytes) -> dict[str, Any]:
    _check_binary_stl(data)
    text = data[:STL_HEADER].rstrip(b" \x00").decode("ascii", "replace")
    match = _STL_RE.match(text)
    if not match:
        return {"format": "stl", "header": text}
    out: dict[str, Any] = {"format": "stl", "slug": match[1], "version": match[2]}
    if match[3]:
        out["license"] = match[3]
        if len(text) == STL_HEADER and text.endswith("..."):
            out["truncated"] = True
    return out
