"""Design bundles: one reproducible, verifiable zip per design version.

:func:`build_bundle` makes ``dist/<slug>-<version>.zip`` from the catalogue and
the render cache; :func:`verify` checks one against its ``MANIFEST.sha256``.
Names are imported lazily so importing one part stays fast. The build rules
for ``make bundles`` come from ``python -m renderers.bundle_make`` (the render
layer: its stamp holds the renderer's versions).
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "MANIFEST": "archive", "REQUIRED": "archive", "VerifyReport": "archive", "verify": "archive",
    "DEFAULT_QUALITY": "builder", "QUALITIES": "builder", "BundleError": "builder", "BundleResult": "builder",
    "build_bundle": "builder", "bundle_name": "builder", "params_hash": "builder",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
