"""The ``opendesign`` command line.

Commands live next to the area they drive (one module per area) and are
registered on the :data:`main` group here. Errors of type
:class:`~opendesign.errors.OpenDesignError` are turned into a message and an
exit code in one place (:class:`ErrorHandlingGroup`).
"""

from __future__ import annotations

from .base import main
from . import catalogue  # noqa: F401  (registers commands)
from . import okh  # noqa: F401
from . import serve  # noqa: F401
from . import commons  # noqa: F401
from . import render  # noqa: F401
from . import bundle  # noqa: F401
from . import search  # noqa: F401
from . import init  # noqa: F401
# The render worker is a command of the renderers layer; the lead moves this line into the
# CLI's command registry (the "cli" branch) at merge.
from renderers.worker_cli import worker as _worker

main.add_command(_worker)

__all__ = ["main"]
