"""Provenance carried inside exported files, and read back from them.

A mesh that leaves the catalogue keeps its design, version, license, authors
and a pointer to its attribution: in the 80-byte binary STL header, in 3MF
model metadata, in the GLB ``asset`` object, in the STEP header and in the SVG
``<metadata>``. Every function here is pure (bytes in, bytes out) and
deterministic: embedding never adds a timestamp, and it normalises what the
exporters stamp (OCC's STEP date and product counter, trimesh's random 3MF
UUIDs, CadQuery's 3MF creation date and zip times). Embedding is idempotent:
``embed(embed(b, f, p), f, p) == embed(b, f, p)``.

One module per format (:data:`FORMATS`), as ``trimesh.exchange`` keeps its exporters.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path
from typing import Any

from . import glb, step, stl, svg, threemf
from .model import Provenance, ProvenanceError, for_design, for_version

__all__ = ["EMBEDDERS", "FORMATS", "READERS", "Provenance", "ProvenanceError", "detect_format", "embed",
           "for_design", "for_version", "read_provenance"]

#: Format name -> module with ``embed(data, prov)`` and ``read(data)``; adding a format is adding an entry.
FORMATS = {"stl": stl, "3mf": threemf, "glb": glb, "step": step, "svg": svg}
EMBEDDERS = {name: module.embed for name, module in FORMATS.items()}
READERS = {name: module.read for name, module in FORMATS.items()}


def embed(data: bytes, fmt: str, prov: Provenance) -> bytes:
    """*data* (a file of format *fmt*) with *prov* written into it."""
    try:
        embedder = EMBEDDERS[fmt.lower().lstrip(".")]
    except KeyError:
        raise ProvenanceError(f"cannot embed provenance in {fmt!r}; supported: {', '.join(EMBEDDERS)}") from None
    return embedder(data, prov)


def detect_format(data: bytes) -> str:
    """The format of *data*, from its content rather than a file name."""
    if data[:4] == glb.MAGIC:
        return "glb"
    if data[:4] == b"PK\x03\x04":
        return "3mf"
    if data.lstrip()[:13] == b"ISO-10303-21;":
        return "step"
    head = data[:1024].lstrip()
    if head.startswith(b"<?xml") or head.startswith(b"<svg"):
        if b"<svg" in data[:4096]:
            return "svg"
    if len(data) >= 84 and len(data) == 84 + 50 * struct.unpack_from("<I", data, 80)[0]:
        return "stl"
    raise ProvenanceError("unrecognised file: not binary STL, 3MF, GLB, STEP or SVG")


def read_provenance(source: str | Path | bytes) -> dict[str, Any]:
    """What a file says about its design: at least ``format``, and ``slug``, ``version``
    and ``license`` when it carries them.

    :param source: a path or the file's bytes.
    :raises ProvenanceError: for a format that is not supported or is malformed.
    """
    data = source if isinstance(source, bytes | bytearray) else Path(source).read_bytes()
    fmt = detect_format(bytes(data))
    try:
        return READERS[fmt](bytes(data))
    except (ValueError, KeyError, IndexError, zipfile.BadZipFile, struct.error) as exc:
        if isinstance(exc, ProvenanceError):
            raise
        raise ProvenanceError(f"malformed {fmt.upper()} file: {exc}") from None
