"""Catalogue commands: import, validate, list, show."""

from __future__ import annotations

import sys

import click

from ..catalogue import queries, removal
from ..catalogue.importer import CREATED, INVALID, UNCHANGED, UPDATED, discover, import_designs
from ..errors import ManifestError
from ..manifests import load_design_folder
from .base import AppContext, emit_json, json_option, pass_app, report_validation

_STATUS_COLOURS = {CREATED: "green", UPDATED: "cyan", UNCHANGED: None, INVALID: "red"}


@click.command("import")
@click.argument("paths", nargs=-1, type=click.Path())
@json_option
@pass_app
def import_command(app: AppContext, paths: tuple[str, ...], as_json: bool) -> None:
    """Import design folders into the catalogue (default: the designs folder).

    Idempotent: unchanged versions are skipped, new versions are added, changed
    content under a published version is refused. Exits 1 if any design was invalid.
    """
    paths = paths or (str(app.settings.designs_dir),)
    total = len(discover(paths))
    show_progress = not as_json and sys.stderr.isatty()
    with click.progressbar(length=total, label="importing", file=sys.stderr,
                           hidden=not show_progress) as bar:
        report = import_designs(app.db, paths, progress=lambda _result: bar.update(1))
    from . import hooks

    outcomes = [o for o in (after(app, paths, report) for after in hooks.after_import_hooks()) if o is not None]
    if as_json:
        emit_json({**report.as_dict(), **{o.name: o.data for o in outcomes}})
    else:
        for result in report.results:
            if result.status == INVALID:
                click.secho(f"invalid  {result.path}", fg="red", err=True)
                for err in result.errors:
                    click.echo(f"  {err}", err=True)
            elif result.status != UNCHANGED:
                click.secho(f"{result.status:<8} {result.slug}@{result.version}", fg=_STATUS_COLOURS[result.status])
        counts = report.as_dict()
        click.echo(", ".join(f"{counts[k]} {k}" for k in (CREATED, UPDATED, UNCHANGED, INVALID)))
        for outcome in outcomes:
            outcome.echo()
    if not report.ok or not all(o.ok for o in outcomes):
        sys.exit(1)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(), required=True)
@json_option
def validate(paths: tuple[str, ...], as_json: bool) -> None:
    """Validate design folders without writing anything."""
    results = []
    for path in discover(paths):
        display = str(path).rstrip("/")
        try:
            folder = load_design_folder(path, display=display)
            results.append({"path": display, "valid": True, "slug": folder.slug, "version": folder.version,
                            "content_hash": folder.content_hash, "errors": []})
        except ManifestError as exc:
            results.append({"path": display, "valid": False, "errors": [str(e) for e in exc.errors]})
    report_validation(results, as_json, lambda r: f"{r['slug']}@{r['version']}")


@click.command("list")
@json_option
@pass_app
def list_command(app: AppContext, as_json: bool) -> None:
    """List the designs in the catalogue with their latest version."""
    with app.db.session() as session:
        rows = [queries.version_summary(d.latest_version) for d in queries.list_designs(session) if d.latest_version]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("the catalogue is empty; run `opendesign import`")
    width = max((len(r["slug"]) + len(r["version"]) + 1 for r in rows), default=0)
    for r in rows:
        ref = f"{r['slug']}@{r['version']}"
        click.echo(f"{ref:<{width}}  {r['category']:<17} {r['license']:<20} {r['title']}")


@click.command()
@click.argument("ref")
@json_option
@pass_app
def show(app: AppContext, ref: str, as_json: bool) -> None:
    """Show one design: SLUG (latest version) or SLUG@VERSION."""
    with app.db.session() as session:
        detail = queries.version_detail(queries.get_version(session, ref))
    if as_json:
        emit_json(detail)
        return
    click.secho(f"{detail['title']}  ({detail['slug']}@{detail['version']})", bold=True)
    click.echo(detail["summary"])
    click.echo(f"license:   {detail['license']}")
    click.echo(f"category:  {detail['category']}")
    click.echo(f"kind:      {detail['kind_label']} ({detail['kind']})")
    click.echo(f"authors:   {', '.join(a['name'] for a in detail['authors'])}")
    click.echo(f"versions:  {', '.join(detail['versions'])}")
    if detail["tags"]:
        click.echo(f"tags:      {', '.join(detail['tags'])}")
    if detail["derived_from"]:
        click.echo(f"derived from: {', '.join(detail['derived_from'])}")
    if detail["derivatives"]:
        click.echo(f"derivatives:  {', '.join(detail['derivatives'])}")
    click.echo("parameters:")
    for p in detail["parameters"]:
        bounds = f" [{p['min']}..{p['max']}]" if p["min"] is not None or p["max"] is not None else ""
        choices = f" {{{', '.join(p['choices'])}}}" if p["choices"] else ""
        click.echo(f"  {p['name']:<20} {p['type']:<6} = {p['default']}{' ' + p['unit'] if p['unit'] else ''}"
                   f"{bounds}{choices}  {p['label']}")
    if detail["presets"]:
        click.echo("presets:")
        for p in detail["presets"]:
            changes = ", ".join(f"{k}={v}" for k, v in p["changes"].items())
            click.echo(f"  {p['name']:<20} {changes}{'  — ' + p['description'] if p['description'] else ''}")
    click.echo("parts:")
    for p in detail["parts"]:
        click.echo(f"  {p['name']:<20} {p['quantity']} x {p['material']} ({p['process']})")
    if detail["bom"]:
        click.echo("bill of materials:")
        for b in detail["bom"]:
            click.echo(f"  {b['quantity']:g} {b['unit']} {b['item']}{'  — ' + b['note'] if b['note'] else ''}")
    click.echo(f"content sha256: {detail['content_hash']}")


@click.command()
@click.argument("ref")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@pass_app
def remove(app: AppContext, ref: str, yes: bool, as_json: bool) -> None:
    """Remove a design (SLUG, every version) or one version (SLUG@VERSION).

    Refused while other versions derive from it.
    """
    if not yes and not as_json:
        click.confirm(f"remove {ref} from the catalogue?", abort=True)
    with app.db.session() as session:
        removed = removal.remove(session, ref)
    if as_json:
        emit_json({"removed": removed})
    else:
        click.echo(f"removed {', '.join(removed)}")
