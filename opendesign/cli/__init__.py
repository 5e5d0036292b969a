"""The ``opendesign`` command line.

Commands live next to the area they drive (one module per area; the render
and web layers keep theirs in ``renderers/cli/`` and ``web/cli/``) and are
registered as entry points of the group ``opendesign.cli`` in
``pyproject.toml``. The root group (:data:`main`) imports a command only when
it runs (:mod:`.lazy`), so ``--help`` and ``--version`` stay fast. Errors of
type :class:`~opendesign.errors.OpenDesignError` are turned into a message
and an exit code in one place (:class:`~.base.ErrorHandlingGroup`).
"""

from __future__ import annotations

from .base import main

__all__ = ["main"]
