"""The render pipeline: parametric CadQuery models to STL, 3MF, GLB, STEP and SVG.

Entry points (imported lazily, so that the sandbox can import
:mod:`renderers.sandbox` without the application behind it):

- :func:`renderers.service.render` / :func:`renderers.service.fetch`
- :func:`renderers.pool.get_pool`, :class:`renderers.pool.RenderPool`
- :class:`renderers.errors.RenderError`
"""

from __future__ import annotations

_EXPORTS = {
    "render": "renderers.service",
    "fetch": "renderers.service",
    "ArtifactInfo": "renderers.service",
    "get_pool": "renderers.pool",
    "RenderPool": "renderers.pool",
    "RenderError": "renderers.errors",
    "FORMATS": "renderers.formats",
    "QUALITIES": "renderers.formats",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'renderers' has no attribute {name!r}")
