"""The render layer's ``opendesign`` commands: ``render``, ``doctor``, ``bundle``, ``provenance``.

Registered in ``pyproject.toml`` under ``[project.entry-points."opendesign.cli"]``
(the core's CLI never imports this package; see :mod:`opendesign.cli.registry`).
"""
