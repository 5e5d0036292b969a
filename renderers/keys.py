"""Cache keys: what makes two renders the same render.

A key is the sha256 of the design's content hash, the canonical parameters,
format, quality, part, and the renderer's version — this package's own
:data:`RENDERER_VERSION` plus the versions of CadQuery, OCP, trimesh and
numpy, since any of them can change the bytes. Upgrading one of them therefore
starts a fresh cache (old entries age out by LRU).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version

#: Bump when anything here changes what a render produces.
RENDERER_VERSION = "2"  # 2: every file carries its provenance (renderers.provenance)
_PACKAGES = {"cadquery": "cadquery", "ocp": "cadquery-ocp", "trimesh": "trimesh", "numpy": "numpy"}


@lru_cache(maxsize=1)
def renderer_versions() -> dict[str, str]:
    """Versions that go into every key (read from package metadata; nothing is imported)."""
    found = {"renderer": RENDERER_VERSION}
    for key, dist in _PACKAGES.items():
        try:
            found[key] = version(dist)
        except PackageNotFoundError:
            found[key] = "missing"
    return found


def cache_key(content_hash: str, canonical_params: str, fmt: str, quality: str, part: str | None,
              base_url: str = "") -> str:
    """The key of one artifact.

    :param base_url: the public address embedded in the file's provenance (its
        attribution link), so a deployment that moves gets fresh files.
    """
    material = json.dumps({"design": content_hash, "params": canonical_params, "format": fmt, "quality": quality,
                           "part": part, "renderer": renderer_versions(), "base_url": base_url},
                          sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()
