"""The root command group, its shared context, and output helpers."""

from __future__ import annotations

import errno
import json
import logging
import sys
from functools import cached_property

import click

from ..config import Settings, load_settings
from ..db import Database
from ..errors import ManifestError, OpenDesignError


class AppContext:
    """Lazily built settings and database, shared by every command of one run."""

    def __init__(self, home: str | None = None):
        self._home = home

    @cached_property
    def settings(self) -> Settings:
        from ..home import secure_home

        settings = load_settings(home=self._home)
        secure_home(settings.home)
        return settings

    @cached_property
    def db(self) -> Database:
        db = Database(self.settings)
        db.migrate()
        return db


pass_app = click.make_pass_decorator(AppContext)


class ErrorHandlingGroup(click.Group):
    """Turns every :class:`OpenDesignError` into ``error: ...`` and its exit code."""

    def invoke(self, ctx: click.Context):
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


@click.group(cls=ErrorHandlingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", envvar="OPENDESIGN_HOME", type=click.Path(file_okay=False),
              help="Folder for everything opendesign writes (default ./var; env OPENDESIGN_HOME).")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="opendesign")
@click.pass_context
def main(ctx: click.Context, home: str | None, verbose: int) -> None:
    """opendesign — an open-design hardware commons."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    ctx.obj = AppContext(home)


def emit_json(data) -> None:
    """Print *data* as JSON on stdout (for scripts)."""
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
