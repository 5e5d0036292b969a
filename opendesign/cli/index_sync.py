"""Keeps the search index in step with what a CLI command commits.

Imported when a command first opens the catalogue database
(:attr:`.base.AppContext.db`), so every command that commits catalogue
changes (``opendesign import`` and friends) re-indexes without having to
remember it, and commands that never open the database never pay for it.
"""

from __future__ import annotations

import click

from .. import events, search
from .base import AppContext


def _sync_from_cli(change: events.CatalogueChange, maker) -> None:
    """Re-index after a commit made by the running command's own database.

    It acts only inside a CLI invocation whose database made the commit,
    never for other databases in the same process (tests, the web app).
    """
    ctx = click.get_current_context(silent=True)
    app = ctx.find_object(AppContext) if ctx is not None else None
    db = app.__dict__.get("db") if app is not None else None  # only if the command opened it
    if db is None or db.sessionmaker is not maker:
        return
    search.handle_change(search.get_index(app.settings), change, maker)


events.subscribe(_sync_from_cli)
