"""Commons commands: lineage, attribution, fork; and the maker import after ``opendesign import``.

The ``licenses``, ``makers`` and ``ledger`` groups live in :mod:`.commons_licenses`,
:mod:`.commons_makers` and :mod:`.commons_ledger`.
"""

from __future__ import annotations

from pathlib import Path

import click

from .. import commons  # noqa: F401  (installs the license check in the importer)
from ..catalogue import queries
from ..commons import attribution as attribution_
from ..commons import family as family_
from ..commons import fork as fork_
from ..commons.makers import import_makers, makers_dirs
from . import hooks
from .base import AppContext, emit_json, json_option, pass_app


@click.command()
@click.argument("slug")
@click.option("--json", "fmt", flag_value="json", help="Print the family as JSON (nodes, edges, verdicts).")
@click.option("--dot", "fmt", flag_value="dot", help="Print the family as Graphviz DOT (pipe to `dot -Tsvg`).")
@pass_app
def lineage(app: AppContext, slug: str, fmt: str | None) -> None:
    """Show the derivation family of a design: ancestors, derivatives, license verdicts.

    SLUG may carry a version (SLUG@VERSION); the family is always the whole design's.
    """
    slug = slug.partition("@")[0]
    with app.db.session() as session:
        if fmt == "json":
            emit_json(family_.family_view(session, slug))
        elif fmt == "dot":
            click.echo(family_.family_dot(session, slug), nl=False)
        else:
            click.echo(family_.family_text(session, slug), nl=False)


@click.command()
@click.argument("ref")
@json_option
@pass_app
def attribution(app: AppContext, ref: str, as_json: bool) -> None:
    """Print the attribution chain of SLUG[@VERSION]: it and every ancestor, with authors, license and link."""
    with app.db.session() as session:
        version = queries.get_version(session, ref)
        chain = attribution_.attribution_chain(session, version, app.settings.base_url)
    if as_json:
        emit_json(chain)
    else:
        click.echo(attribution_.attribution_text(chain), nl=False)


@click.command()
@click.argument("source")
@click.argument("new_slug")
@click.option("--title", help="Title of the fork (default: the parent's).")
@click.option("--license", "license_", metavar="SPDX",
              help="License of the fork; must be one the parent allows (default: the parent's own).")
@click.option("--designs-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write the new design folder (default: the designs folder setting).")
@json_option
@pass_app
def fork(app: AppContext, source: str, new_slug: str, title: str | None, license_: str | None,
         designs_dir: Path | None, as_json: bool) -> None:
    """Fork SOURCE (SLUG or SLUG@VERSION) into a new design folder NEW_SLUG.

    Copies the published files of that version, sets derived_from, version
    0.1.0 and a license the parent allows. Refused for no-derivatives parents,
    a license the parent does not allow, or an existing target folder.
    """
    with app.db.session() as session:
        result = fork_.fork(session, source, new_slug, designs_dir or app.settings.designs_dir,
                            title=title, license=license_)
    if as_json:
        emit_json(result.as_dict())
        return
    click.secho(f"forked {result.parent} -> {result.slug}@{fork_.FORK_VERSION}", fg="green")
    click.echo(f"folder:   {result.path}")
    click.echo(f"license:  {result.license}")
    click.echo(f"title:    {result.title}")
    click.echo(f"next: edit {result.path / 'design.toml'} (title, summary, authors), then "
               f"`opendesign import {result.path}`")


def _import_makers_hook(app: AppContext, paths, report) -> hooks.HookOutcome | None:
    """After the designs: import ``<designs>/makers/*.toml`` for each path given."""
    dirs = makers_dirs(paths)
    if not dirs:
        return None
    result = import_makers(app.db, dirs)
    data = result.as_dict()
    from ..commons import compliance

    with app.db.session() as session:
        counts = compliance.stored_counts(session)
    data["verdicts"] = counts

    def echo() -> None:
        for r in result.results:
            if r.status == "invalid":
                click.secho(f"invalid  {r.path}", fg="red", err=True)
                for err in r.errors:
                    click.echo(f"  {err}", err=True)
            elif r.status != "unchanged":
                click.secho(f"{r.status:<8} maker {r.slug}", fg="green" if r.status == "created" else "cyan")
        click.echo("makers: " + ", ".join(f"{data[k]} {k}" for k in ("created", "updated", "unchanged", "invalid")))
        if any(counts.values()):
            click.echo("productions: " + ", ".join(f"{n} {status}" for status, n in counts.items())
                       + ("  (see `opendesign makers check`)" if counts.get("violation") else ""))

    return hooks.HookOutcome("makers", result.ok, data, echo)


def _import_decisions_hook(app: AppContext, paths, report) -> hooks.HookOutcome | None:
    """After the makers: apply the operator's decisions in ``<designs>/makers/_stewardship.toml``."""
    from ..commons.ledger.decisions import apply_decisions, decisions_files

    files = decisions_files(makers_dirs(paths))
    if not files:
        return None
    results = [apply_decisions(app.db, path) for path in files]
    data = {"files": [r.as_dict() for r in results], "applied": sum(r.applied for r in results),
            "unchanged": sum(r.unchanged for r in results)}

    def echo() -> None:
        for r in results:
            for err in r.errors:
                click.secho(f"error: {err}", fg="red", err=True)
        click.echo(f"stewardship decisions: {data['applied']} applied, {data['unchanged']} unchanged"
                   + (f", {sum(1 for r in results if not r.ok)} file(s) invalid" if not all(r.ok for r in results)
                      else ""))

    return hooks.HookOutcome("stewardship", all(r.ok for r in results), data, echo)


for _hook in (_import_makers_hook, _import_decisions_hook):
    if _hook not in hooks.after_import:
        hooks.after_import.append(_hook)
