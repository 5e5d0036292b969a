"""Bundle commands: ``bundle [build] REF``, ``bundle verify FILE.zip``, ``provenance FILE``.

``opendesign bundle SLUG[@VERSION] ...`` builds; ``opendesign bundle verify
FILE.zip ...`` checks. :class:`DefaultCommandGroup` makes that work: any first
argument that is not a subcommand name goes to ``build`` (so a design slugged
``verify`` needs ``opendesign bundle build verify``).
"""

from __future__ import annotations

import sys

import click

from opendesign.cli.base import AppContext, emit_json, json_option, pass_app


class DefaultCommandGroup(click.Group):
    """A group that runs :attr:`default_command` when the first argument names no subcommand."""

    default_command = "build"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


def _parse_params(values: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{item!r}: expected NAME=VALUE", param_hint="-p")
        params[name.strip()] = value.strip()
    return params


@click.group(cls=DefaultCommandGroup)
def bundle() -> None:
    """Build a design's bundle (SLUG[@VERSION] ...) or verify bundles (verify FILE.zip ...).

    A bundle is one reproducible zip with every part as STL, 3MF and STEP, the
    combined GLB, the SVG drawing, the design's source, BOM.csv, LICENSE,
    ATTRIBUTION, an Open Know-How manifest (okh.toml) and MANIFEST.sha256.
    """


@bundle.command("build")
@click.argument("ref")
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A custom parameter value (repeatable); the bundle name gets a hash of the parameter set.")
@click.option("--quality", type=click.Choice(["draft", "normal", "fine"]), default="normal", show_default=True,
              help="Tessellation quality of the meshes.")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False), default="dist", show_default=True,
              help="Folder the zip is written to.")
@click.option("--check-folder", type=click.Path(file_okay=False, exists=True),
              help="Refuse unless this design folder matches the catalogue version (used by make).")
@json_option
@pass_app
def build_command(app: AppContext, ref: str, params: tuple[str, ...], quality: str, out_dir: str,
                  check_folder: str | None, as_json: bool) -> None:
    """Build dist/<slug>-<version>[-p<hash>].zip for SLUG or SLUG@VERSION from the render cache."""
    from renderers.bundle_renderer import ServiceRenderer

    from opendesign.bundles import build_bundle

    result = build_bundle(app.db, app.settings, ref, renderer=ServiceRenderer(app.db, app.settings),
                          parameters=_parse_params(params), quality=quality, out_dir=out_dir,
                          check_folder_path=check_folder)
    if as_json:
        emit_json(result.as_dict())
        return
    state = "built" if result.written else "unchanged"
    click.echo(f"{state:<9} {result.path}  ({result.size} bytes, {len(result.files)} files, "
               f"{result.seconds:.2f} s)")
    if result.custom:
        changed = ", ".join(f"{k}={v}" for k, v in sorted(result.parameters.items()))
        click.echo(f"          parameters: {changed}")


@bundle.command("verify")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@json_option
def verify_command(files: tuple[str, ...], as_json: bool) -> None:
    """Check bundles against their MANIFEST.sha256; exit 1 naming each offending file."""
    from opendesign.bundles import verify

    reports = [verify(path) for path in files]
    if as_json:
        emit_json([r.as_dict() for r in reports])
    else:
        for report in reports:
            if report.ok:
                click.secho(f"ok       {report.path} ({report.files} files)", fg="green")
            for name, reason in report.problems:
                click.secho(f"error: {report.path}: {name}: {reason}", fg="red", err=True)
    if not all(r.ok for r in reports):
        sys.exit(1)


@click.command("provenance")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@json_option
def provenance_command(file: str, as_json: bool) -> None:
    """Read the provenance embedded in an STL, 3MF, GLB, STEP or SVG file."""
    from renderers.provenance import ProvenanceError, read_provenance

    try:
        info = read_provenance(file)
    except ProvenanceError as exc:
        click.secho(f"error: {file}: {exc}", fg="red", err=True)
        sys.exit(1)
    if as_json:
        emit_json(info)
    else:
        for key in ("format", "slug", "version", "license", "title", "part", "authors", "url", "attribution",
                    "parameters"):
            if info.get(key) not in (None, "", [], {}):
                value = ", ".join(info[key]) if isinstance(info[key], list) else info[key]
                click.echo(f"{key + ':':<13}{value}")
    if not info.get("slug"):
        click.secho(f"error: {file}: carries no opendesign provenance", fg="red", err=True)
        sys.exit(1)
