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


def _sync_in_transaction_from_cli(change: events.CatalogueChange, session) -> None:
    """The same for an index kept in the catalogue database: written before the command's commit."""
    ctx = click.get_current_context(silent=True)
    app = ctx.find_object(AppContext) if ctx is not None else None
    db = app.__dict__.get("db") if app is not None else None
    if db is None or session.info.get("sessionmaker") is not db.sessionmaker:
        return
    index = search.get_index(app.settings)
    if getattr(index, "in_transaction", False):
        search.update_in_transaction(index, session, change)


events.subscribe(_sync_from_cli)
events.subscribe_in_transaction(_sync_in_transaction_from_cli)
