"""Open Know-How commands: ``okh import PATH ...`` and ``okh export SLUG[@VERSION]``."""

from __future__ import annotations

import sys

import click

from .base import AppContext, emit_json, json_option, pass_app

_COLOURS = {"created": "green", "updated": "cyan", "unchanged": None, "invalid": "red"}


@click.group("okh")
def okh() -> None:
    """Take in Open Know-How manifests (okh.toml, okh.yml) and print the ones bundles carry."""


@okh.command("import")
@click.argument("paths", nargs=-1, type=click.Path(), required=True)
@click.option("--quiet", is_flag=True, help="Do not list warnings and missing files.")
@json_option
@pass_app
def import_command(app: AppContext, paths: tuple[str, ...], quiet: bool, as_json: bool) -> None:
    """Import OKH manifests, or folder trees holding them, as designs of origin ``okh``.

    A manifest beside the design.toml and model source it references (an
    unpacked bundle) gives back that design, parameters and model code
    included (stored, never run here); any other becomes a static design of
    the files it references.

    Every manifest is imported in its own transaction; one that cannot make a
    design (no name, no license, an unknown license, a reference out of its
    folder...) is listed with the reason and writes nothing. Re-importing the
    same manifest is a no-op; a changed one needs a new version. Exits 1 if
    any manifest was refused.
    """
    from ..okh.importer import STATUSES, import_manifests
    from ..okh.manifest import discover_manifests

    total = len(discover_manifests(list(paths))[0])
    show_progress = not as_json and sys.stderr.isatty()
    with click.progressbar(length=total, label="importing OKH manifests", file=sys.stderr,
                           hidden=not show_progress) as bar:
        report = import_manifests(app.db, paths, progress=lambda _result: bar.update(1))
    if as_json:
        emit_json(report.as_dict())
    else:
        for note in report.notes:
            click.secho(f"note: {note}", fg="yellow", err=True)
        for result in report.results:
            if result.status == "invalid":
                click.secho(f"invalid  {result.path}", fg="red", err=True)
                for err in result.errors:
                    click.echo(f"  {err}", err=True)
            else:
                click.secho(f"{result.status:<9} {result.slug}@{result.version}  ({result.path})",
                            fg=_COLOURS[result.status])
            if not quiet:
                for warning in result.warnings:
                    click.echo(f"  warning: {warning}", err=True)
                for missing in result.missing:
                    click.echo(f"  missing: {missing}", err=True)
        counts = report.as_dict()
        click.echo(", ".join(f"{counts[s]} {s}" for s in STATUSES))
    if not report.ok:
        sys.exit(1)


@okh.command("export")
@click.argument("ref")
@json_option
@pass_app
def export_command(app: AppContext, ref: str, as_json: bool) -> None:
    """Print the okh.toml a bundle of SLUG[@VERSION] carries (without rendering: no measured sizes)."""
    from ..okh.export import export_manifest, render_toml

    data = export_manifest(app.db, app.settings, ref)
    if as_json:
        emit_json(data)
    else:
        click.echo(render_toml(data), nl=False)
