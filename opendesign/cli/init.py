"""``opendesign init``: a design.toml draft beside an existing script or part files."""

from __future__ import annotations

import click

from ..manifests.draft import write_draft
from .base import emit_json, json_option


@click.command("init")
@click.argument("path", type=click.Path(exists=True))
@json_option
def init_command(path: str, as_json: bool) -> None:
    """Write a design.toml draft for the folder (or the folder of the file) PATH.

    Reads model.py (a CQGI script, a build123d or CadQuery module) or, without
    one, the folder's STEP/STL/3MF/OBJ files; lists every parameter with its
    default, type and suggested bounds, and the parts. The license is a
    placeholder that fails validation until chosen. Never overwrites.
    """
    d = write_draft(path)
    if as_json:
        emit_json(d.as_dict())
        return
    click.secho(f"wrote {d.path / 'design.toml'} (kind {d.kind}, {len(d.manifest.get('parameters', []))} "
                f"parameters, {len(d.manifest['parts'])} parts)", fg="green")
    click.echo("review before publishing:")
    for item in d.todo:
        click.echo(f"  - {item}")
