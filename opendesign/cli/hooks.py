"""Extension points of the CLI that other areas fill in.

``after_import`` runs after ``opendesign import`` committed the designs, with
``(app, paths, report)``; the commons layer imports makers there. A hook
returns ``None`` (nothing to report) or a :class:`HookOutcome`: its ``data``
joins the ``--json`` output under ``name``, ``echo()`` prints the human
summary, and ``ok = False`` makes the command exit 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class HookOutcome:
    name: str
    ok: bool
    data: dict[str, Any] = field(default_factory=dict)
    echo: Callable[[], None] = lambda: None


after_import: list = []
