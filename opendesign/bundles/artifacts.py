"""Where a bundle's rendered files come from: a :class:`Renderer` the caller hands in.

``model.py`` is untrusted and runs only in the render sandbox, so the bundle
builder never renders itself: it asks a :class:`Renderer` for files and for
the provenance stamped into them. The core never imports the render layer; the
production renderer is ``renderers.bundle_renderer.ServiceRenderer`` (the
render service, its cache, and the Celery workers when ``broker_url`` is set),
and tests may pass any object of the same shape.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

#: Per-part formats, then the formats of the combined model.
PART_FORMATS = ("stl", "3mf", "step")
COMBINED_FORMATS = ("glb", "svg")
FORMATS = PART_FORMATS + COMBINED_FORMATS


@dataclass(frozen=True)
class Rendered:
    """One rendered file: ``part`` is ``None`` for the combined model."""

    format: str
    part: str | None
    data: bytes
    #: Extents along x, y, z in mm, when the renderer measured them.
    size: tuple[float, float, float] | None = None
    #: Enclosed volume in mm³, when the mesh is watertight.
    volume: float | None = None


@dataclass(frozen=True)
class ProvenanceRecord:
    """What a bundled file must say about where it comes from (the renderer writes it into the file)."""

    slug: str
    version: str
    license: str
    title: str
    authors: tuple[str, ...]
    base_url: str
    part: str | None
    #: The custom parameters; None for the defaults (a default file does not record them).
    parameters: Mapping[str, Any] | None


class Renderer(Protocol):
    def __call__(self, ref: str, parameters: Mapping[str, Any], formats: Sequence[str],
                 quality: str) -> list[Rendered]:
        """Every file of *formats* for the version *ref* (``slug@version``)."""

    def embed_provenance(self, data: bytes, fmt: str, record: ProvenanceRecord) -> bytes:
        """*data* (a file of format *fmt*) with *record* written into it, deterministically."""


def from_info(info) -> Rendered:
    """A :class:`Rendered` from a render service result (an object or a mapping), its sha256 checked."""
    from pathlib import Path

    def get(name: str, default=None):
        return info.get(name, default) if isinstance(info, Mapping) else getattr(info, name, default)

    size = get("size")
    bbox = get("bbox") or get("bounding_box")
    if size is None and bbox is not None:
        size = _extents(bbox)
    data = get("data")
    if data is None:
        data = Path(get("path")).read_bytes()
        expected = get("sha256")
        if expected and hashlib.sha256(data).hexdigest() != expected:
            # The cache records each entry's sha256; a mismatch is a damaged entry, never bundled.
            from .builder import BundleError

            raise BundleError(f"render cache entry {get('path')} does not match its recorded sha256; "
                              f"remove it and build again")
    return Rendered(format=get("format"), part=get("part"), data=data,
                    size=tuple(size) if size else None, volume=get("volume"))


def _extents(bbox) -> tuple[float, float, float] | None:
    """x, y, z extents from ``[[xmin, ymin, zmin], [xmax, ymax, zmax]]`` or a mapping."""
    if isinstance(bbox, Mapping):
        if "size" in bbox:
            return tuple(bbox["size"])
        lo, hi = bbox.get("min"), bbox.get("max")
    else:
        lo, hi = bbox
    if lo is None or hi is None:
        return None
    return tuple(float(b) - float(a) for a, b in zip(lo, hi))
