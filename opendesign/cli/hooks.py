"""Extension points of the CLI that other areas fill in.

``after_import`` runs after ``opendesign import`` committed the designs, with
``(app, paths, report)``; the commons layer imports makers there. A hook
returns ``None`` (nothing to report) or a :class:`HookOutcome`: its ``data``
joins the ``--json`` output under ``name``, ``echo()`` prints the human
summary, and ``ok = False`` makes the command exit 1.

Commands are imported lazily, so a module that fills a hook in is named in
:data:`PROVIDERS`; :func:`after_import_hooks` imports them when the hooks run.
"""

from __future__ import annotations

from collections.abc import Callable
import importlib
from dataclasses import dataclass, field
from typing import Any


@dataclass
class HookOutcome:
    name: str
    ok: bool
    data: dict[str, Any] = field(default_factory=dict)
    echo: Callable[[], None] = lambda: None


after_import: list = []

#: Modules that append to the hook lists when imported (one line each).
PROVIDERS: list[str] = ["opendesign.cli.commons"]


def after_import_hooks() -> list:
    """The ``after_import`` hooks, once every provider has registered its own."""
    for module in PROVIDERS:
        importlib.import_module(module)
    return after_import
