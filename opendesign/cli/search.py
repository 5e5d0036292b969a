"""Search commands: ``opendesign search`` and ``opendesign index rebuild|status``.

The index follows the catalogue's commits on its own (see :mod:`.index_sync`).
"""

from __future__ import annotations

import re

import click

from .. import search
from .base import AppContext, emit_json, json_option, pass_app


_MARK = re.compile(r"<mark>(.*?)</mark>")


def _terminal(snippet: str) -> str:
    """An HTML snippet from the index as terminal text, matches in bold."""
    from html import unescape

    parts = _MARK.split(snippet)
    return "".join(click.style(unescape(p), bold=True) if i % 2 else unescape(p) for i, p in enumerate(parts))


@click.command("search")
@click.argument("query", nargs=-1)
@click.option("--category", multiple=True, help="Only this category (repeatable: any of them).")
@click.option("--license", "license_", multiple=True, help="Only designs under this license identifier.")
@click.option("--family", multiple=True,
              help="Only this license family (permissive, weakly-reciprocal, strongly-reciprocal, non-commercial, "
                   "no-derivatives, copyfair).")
@click.option("--process", multiple=True, help="Only designs with a part made by this process (fdm, cnc, laser...).")
@click.option("--country", multiple=True, help="Only designs produced by a maker in this country (ISO code).")
@click.option("--has-makers", "has_makers", flag_value="yes", default=None,
              help="Only designs some maker produces.")
@click.option("--sort", type=click.Choice(search.SORTS), default="relevance", show_default=True)
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0, help="Skip this many results (paging).")
@json_option
@pass_app
def search_command(app: AppContext, query: tuple[str, ...], category, license_, family, process, country,
                   has_makers, sort: str, limit: int, offset: int, as_json: bool) -> None:
    """Search the catalogue: words, "phrases", field:value, AND / OR / NOT.

    Anything you type is safe: what cannot be parsed is searched as plain words.
    """
    index = search.get_index(app.settings)
    if not index.exists():
        with app.db.session() as session:
            search.ensure_index(index, session)
    filters = {name: tuple(values) for name, values in (
        ("category", category), ("license", license_), ("family", family), ("process", process),
        ("country", country), ("has_makers", (has_makers,) if has_makers else ())) if values}
    results = index.search(search.SearchQuery(" ".join(query), filters=filters, sort=sort, limit=limit,
                                              offset=offset))
    if as_json:
        emit_json(results.as_dict())
        return
    _print_results(results, offset)


def _print_results(results: search.SearchResults, offset: int) -> None:
    if results.suggestion:
        click.secho(f"did you mean: {results.suggestion}", fg="yellow")
    if not results.total:
        click.echo("no results")
        return
    shown = f"{offset + 1}-{offset + len(results.hits)} of " if results.hits else ""
    note = " (designs matching any of the words)" if results.relaxed else ""
    click.echo(f"{shown}{results.total} result{'s' if results.total != 1 else ''}{note}")
    for hit in results.hits:
        title = _terminal(hit.highlights.get("title", hit.title))
        click.echo(f"\n{click.style(f'{hit.slug}@{hit.version}', fg='cyan')}  {title}")
        click.echo(f"  {hit.category} · {hit.license}"
                   + (f" · {hit.forks} fork{'s' if hit.forks != 1 else ''}" if hit.forks else "")
                   + (f" · made by {hit.productions}" if hit.productions else ""))
        click.echo(f"  {_terminal(hit.highlights.get('summary', hit.summary))}")
    facets = {name: values for name, values in results.facets.items() if values}
    if facets:
        click.echo("")
        for name, values in facets.items():
            click.echo(f"{name}: " + ", ".join(f"{v.value} ({v.count})" for v in values[:8]))
    if results.timed_out:
        click.secho("the search hit its time limit; results may be incomplete", fg="yellow", err=True)


@click.group("index")
def index_group() -> None:
    """The search index: rebuild it, or check it against the catalogue."""


@index_group.command("rebuild")
@json_option
@pass_app
def index_rebuild(app: AppContext, as_json: bool) -> None:
    """Build the whole index afresh and swap it in atomically (searches keep working meanwhile)."""
    index = search.get_index(app.settings)
    with app.db.session() as session:
        count = search.rebuild_index(index, session)
        status = search.compare(index, session)
    if as_json:
        emit_json({"indexed": count, **status.as_dict()})
    else:
        click.echo(f"indexed {count} design{'s' if count != 1 else ''} into {status.index.generation}")


@index_group.command("status")
@json_option
@pass_app
def index_status(app: AppContext, as_json: bool) -> None:
    """Document count, last update, and whether the index matches the catalogue."""
    index = search.get_index(app.settings)
    with app.db.session() as session:
        status = search.compare(index, session)
    if as_json:
        emit_json(status.as_dict())
        return
    if not status.index.exists:
        click.echo("no search index yet; run `opendesign index rebuild`")
        return
    last = status.index.last_update.isoformat(timespec="seconds") if status.index.last_update else "never"
    click.echo(f"generation:   {status.index.generation}")
    click.echo(f"documents:    {status.index.documents} (catalogue: {status.database_documents})")
    click.echo(f"last update:  {last}")
    if status.in_sync:
        click.secho("in sync with the catalogue", fg="green")
        return
    click.secho("out of sync with the catalogue; run `opendesign index rebuild`", fg="yellow")
    for label, slugs in (("missing", status.missing), ("stale", status.stale), ("extra", status.extra)):
        if slugs:
            click.echo(f"  {label}: {', '.join(slugs[:20])}{' ...' if len(slugs) > 20 else ''}")
