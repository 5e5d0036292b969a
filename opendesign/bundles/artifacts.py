"""Where a bundle's rendered files come from: the render service and its cache.

``model.py`` is untrusted and runs only in the render sandbox, so the bundle
builder never renders itself: it asks a :class:`Renderer` for files. The
production one, :class:`ServiceRenderer`, goes through ``renderers.service``
(sandboxed workers, content-addressed cache); tests may pass any callable of
the same shape.
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


class Renderer(Protocol):
    def __call__(self, ref: str, parameters: Mapping[str, Any], formats: Sequence[str],
                 quality: str) -> list[Rendered]:
        """Every file of *formats* for the version *ref* (``slug@version``)."""


class ServiceRenderer:
    """Renders through the render service, reusing its cache."""

    def __init__(self, db, settings):
        self.db = db
        self.settings = settings

    def __call__(self, ref: str, parameters: Mapping[str, Any], formats: Sequence[str],
                 quality: str) -> list[Rendered]:
        from renderers import service  # the core reaches the renderer only here

        infos = service.render(self.db, self.settings, ref, dict(parameters), list(formats), quality)
        return [_from_info(info) for info in infos]


def _from_info(info) -> Rendered:
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
