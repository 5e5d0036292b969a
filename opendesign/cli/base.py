"""The root command group, its shared context, and output helpers.

Imported by every run, ``--help`` and ``--version`` included: keep it to click
and the standard library at import time (settings, the database and the error
types load when a command uses them). The commands are registered in
``pyproject.toml`` (see :mod:`.registry`) and imported only when they run.
"""

from __future__ import annotations

import errno
import sys
from functools import cached_property
from typing import TYPE_CHECKING

import click

from . import registry
from .lazy import LazyGroup

if TYPE_CHECKING:
    from ..config import Settings
    from ..db import Database


class AppContext:
    """Lazily built settings and database, shared by every command of one run."""

    def __init__(self, home: str | None = None):
        self._home = home

    @cached_property
    def settings(self) -> Settings:
        from ..config import load_settings
        from ..home import secure_home

        settings = load_settings(home=self._home)
        secure_home(settings.home)
        return settings

    @cached_property
    def db(self) -> Database:
        from ..db import Database
        from . import index_sync  # noqa: F401  (keeps the search index in step with this command's commits)

        db = Database(self.settings)
        db.migrate()
        return db


pass_app = click.make_pass_decorator(AppContext)


class ErrorHandlingGroup(LazyGroup):
    """Turns every :class:`OpenDesignError` into ``error: ...`` and its exit code."""

    def invoke(self, ctx: click.Context):
        from ..errors import ManifestError, OpenDesignError  # light, but only needed once a command runs

        try:
            return super().invoke(ctx)
        except ManifestError as exc:
            for err in exc.errors:
                click.secho(f"error: {err}", fg="red", err=True)
            ctx.exit(exc.exit_code)
        except OpenDesignError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            ctx.exit(exc.exit_code)
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            click.secho(f"error: the disk is full ({exc.strerror}{': ' + exc.filename if exc.filename else ''}); "
                        "nothing more was written", fg="red", err=True)
            ctx.exit(1)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``--version`` as click's own prints it, from the metadata :mod:`.registry` reads anyway.

    (``click.version_option`` would import :mod:`importlib.metadata`: a third
    of the start-up time of ``--version``.)
    """
    if not value or ctx.resilient_parsing:
        return
    click.echo(f"{ctx.find_root().info_name}, version {registry.project().version}", color=ctx.color)
    ctx.exit()


@click.group(cls=ErrorHandlingGroup, context_settings={"help_option_names": ["-h", "--help"]},
             lazy_subcommands=lambda: registry.project().commands)
@click.option("--home", envvar="OPENDESIGN_HOME", type=click.Path(file_okay=False),
              help="Folder for everything opendesign writes (default ./var; env OPENDESIGN_HOME).")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and exit.")
@click.pass_context
def main(ctx: click.Context, home: str | None, verbose: int) -> None:
    """opendesign — an open-design hardware commons."""
    import logging  # here, not at the top: --help and --version never log

    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    ctx.obj = AppContext(home)


def emit_json(data) -> None:
    """Print *data* as JSON on stdout (for scripts)."""
    import json
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def json_option(fn):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(fn)


def report_validation(results: list[dict], as_json: bool, label) -> None:
    """Print ``validate`` results (dicts with path, valid, errors) and exit 1 if any is invalid.

    :param label: how to name a valid entry, e.g. ``lambda r: f"{r['slug']}@{r['version']}"``.
    """
    if as_json:
        emit_json(results)
    else:
        for r in results:
            if r["valid"]:
                click.secho(f"ok       {label(r)}", fg="green")
            else:
                click.secho(f"invalid  {r['path']}", fg="red")
                for err in r["errors"]:
                    click.echo(f"  {err}")
    if not all(r["valid"] for r in results):
        sys.exit(1)
