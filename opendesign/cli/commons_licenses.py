"""``opendesign licenses``: the license registry, and compatibility along lineage edges."""

from __future__ import annotations

import sys

import click

from ..commons import edges
from ..commons.lineage import resolve
from ..errors import NotFound
from ..licenses import registry
from .base import AppContext, emit_json, json_option, pass_app


def _license_data(lic) -> dict:
    return {
        "id": lic.id, "name": lic.name, "url": lic.url, "family": lic.family,
        "attribution_required": lic.attribution_required, "share_alike": lic.share_alike,
        "derivatives_allowed": lic.derivatives_allowed, "commercial_use": lic.commercial_use,
        "compatible": list(lic.compatible), "product_obligations": list(lic.product_obligations),
        "clauses": dict(lic.clauses), "note": lic.note,
    }


@click.group()
def licenses() -> None:
    """The license registry, and license compatibility along lineage edges."""


@licenses.command("list")
@json_option
def list_licenses(as_json: bool) -> None:
    """List the licenses the registry describes, by family."""
    items = registry.all_licenses()
    if as_json:
        emit_json([_license_data(lic) for lic in items])
        return
    width = max(len(lic.id) for lic in items)
    for family in registry.families():
        members = [lic for lic in items if lic.family == family]
        if members:
            click.secho(family, bold=True)
            for lic in members:
                click.echo(f"  {lic.id:<{width}}  {lic.name}")


@licenses.command("show")
@click.argument("license_id")
@json_option
def show_license(license_id: str, as_json: bool) -> None:
    """Show one license's rules, with the clause each comes from."""
    lic = registry.find(license_id)
    if lic is None:
        raise NotFound(f"no license {license_id!r} in the registry; known: {', '.join(registry.ids())}")
    data = _license_data(lic)
    if as_json:
        emit_json(data)
        return
    yes = {True: "yes", False: "no"}
    click.secho(f"{lic.id} — {lic.name}", bold=True)
    click.echo(f"url:                  {lic.url}")
    click.echo(f"family:               {lic.family}")
    click.echo(f"attribution required: {yes[lic.attribution_required]}  ({lic.clause('attribution')})")
    click.echo(f"derivatives allowed:  {yes[lic.derivatives_allowed]}  ({lic.clause('derivatives')})")
    click.echo(f"share-alike:          {yes[lic.share_alike]}  ({lic.clause('share_alike')})")
    if lic.compatible:
        click.echo(f"compatible:           {', '.join(lic.compatible)}  ({lic.clause('compatible')})")
    click.echo(f"commercial use:       {lic.commercial_use}  ({lic.clause('commercial_use')})")
    if lic.product_obligations:
        click.echo("when making or selling products:")
        for text in lic.product_obligations:
            click.echo(f"  - {text}")
    if lic.note:
        click.echo(f"note: {lic.note}")


@licenses.command("check")
@json_option
@pass_app
def check(app: AppContext, as_json: bool) -> None:
    """Audit every lineage edge in the catalogue; exit 1 on any incompatible edge."""
    with app.db.session() as session:
        result = edges.audit(session)
        data = result.as_dict()
    if as_json:
        emit_json(data)
    else:
        for edge in data["results"]:
            if edge["compatible"]:
                click.echo(f"ok       {edge['parent']} ({edge['parent_license']}) -> "
                           f"{edge['child']} ({edge['child_license']})")
            else:
                click.secho(f"INCOMPATIBLE {edge['parent']} ({edge['parent_license']}) -> "
                            f"{edge['child']} ({edge['child_license']})", fg="red")
                for problem in edge["problems"]:
                    click.echo(f"  {problem['message']}")
        click.echo(f"{data['edges']} edges, {data['incompatible']} incompatible")
    if not result.ok:
        sys.exit(1)


@licenses.command("allowed")
@click.argument("refs", nargs=-1, required=True)
@json_option
@pass_app
def allowed(app: AppContext, refs: tuple[str, ...], as_json: bool) -> None:
    """List the licenses a new derivative of REFS (SLUG[@VERSION] ...) may use."""
    with app.db.session() as session:
        result = edges.allowed_for(resolve(session, refs))
    data = edges.allowance_view(result)
    if as_json:
        emit_json(data)
    else:
        for pa in data["parents"]:
            click.echo(f"{pa['parent']} ({pa['license']}): {pa['rule']}"
                       + (f" ({pa['clause']})" if pa["clause"] else ""))
        if data["possible"]:
            click.secho("allowed: " + ", ".join(data["allowed"]), fg="green")
        else:
            click.secho(f"no license is allowed: {data['reason']}", fg="red")
    if not data["possible"]:
        sys.exit(1)
