"""``opendesign makers``: makers, the compliance of their productions, and what they give back."""

from __future__ import annotations

import sys

import click

from ..commons import compliance
from ..commons.makers import queries
from ..commons.makers.loader import discover, load_maker_file, resolve
from ..errors import ManifestError
from ..commons.reciprocity import format_totals
from .base import AppContext, emit_json, json_option, main, pass_app, report_validation

_VERDICT_COLOURS = {"compliant": "green", "needs-action": "yellow", "needs-review": "cyan", "violation": "red"}


def _echo_production(p: dict, indent: str = "  ") -> None:
    price = f"  {p['price']:g} {p['currency']}" if p["price"] is not None else ""
    modified = "  modified" + (f" (source: {p['modified_source']})" if p["modified_source"] else " (no source)") \
        if p["modified"] else ""
    click.echo(f"{indent}{p['design']}  [{p['license']}]{price}{modified}")
    click.secho(f"{indent}  {p['verdict']}: {p['reason']}", fg=_VERDICT_COLOURS.get(p["verdict"]))
    if p["clause"]:
        click.echo(f"{indent}  clause: {p['clause']}")
    for action in p["actions"]:
        click.echo(f"{indent}  -> {action}")


@main.group()
def makers() -> None:
    """Makers producing catalogue designs, their compliance verdicts and contributions."""


@makers.command("list")
@json_option
@pass_app
def list_command(app: AppContext, as_json: bool) -> None:
    """List makers with their productions' verdicts and contributions."""
    with app.db.session() as session:
        rows = queries.list_makers(session)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no makers in the catalogue; add designs/makers/<slug>.toml and run `opendesign import`")
    width = max((len(r["slug"]) for r in rows), default=0)
    for r in rows:
        verdicts = ", ".join(f"{n} {s}" for s, n in r["verdicts"].items() if n) or "no productions"
        click.echo(f"{r['slug']:<{width}}  {r['legal_form']:<18} {r['country']}  {verdicts}")
        click.echo(f"{'':<{width}}  gives back: {format_totals(r['contributions'])}")


@makers.command("check")
@click.argument("slug", required=False)
@json_option
@pass_app
def check(app: AppContext, slug: str | None, as_json: bool) -> None:
    """Evaluate every production (of SLUG, if given) now; exit 1 on any violation."""
    with app.db.session() as session:
        if slug is not None:
            queries.get_maker(session, slug)  # NotFound for an unknown maker
        report = compliance.audit(session, slug)
    if as_json:
        emit_json(report.as_dict())
    else:
        current = None
        for p in report.productions:
            if p["maker"] != current:
                current = p["maker"]
                click.secho(f"{p['maker_name']} ({p['maker']}, {p['legal_form']})", bold=True)
            _echo_production(p)
        click.echo(", ".join(f"{n} {status}" for status, n in report.counts.items()))
    if not report.ok:
        sys.exit(1)


@makers.command("show")
@click.argument("slug")
@json_option
@pass_app
def show(app: AppContext, slug: str, as_json: bool) -> None:
    """Show one maker: productions with verdicts, contributions and totals."""
    with app.db.session() as session:
        detail = queries.maker_detail(session, slug)
    if as_json:
        emit_json(detail)
        return
    click.secho(f"{detail['name']}  ({detail['slug']})", bold=True)
    click.echo(f"legal form: {detail['legal_form']}    country: {detail['country']}"
               + (f"    {detail['website']}" if detail["website"] else ""))
    if detail["description"]:
        click.echo(detail["description"].strip())
    click.echo(f"productions ({detail['production_count']}):")
    for p in detail["productions"]:
        _echo_production(p, "  ")
    click.echo(f"contributions ({len(detail['contributions'])}):")
    for c in detail["contributions"]:
        unit = f" {c['currency']}" if c["currency"] else (" h" if c["kind"] == "hours" else "")
        click.echo(f"  {c['date']}  {c['design']:<28} {c['kind']:<12} {c['amount']:g}{unit}"
                   + (f"  — {c['note']}" if c["note"] else ""))
    rec = detail["reciprocity"]
    click.echo(f"totals: {format_totals(rec['contributions'])}")
    if rec["produces_without_giving_back"]:
        click.echo(f"produces without giving back: {', '.join(rec['produces_without_giving_back'])}")
    elif rec["designs_produced"]:
        click.echo("gives back to every design it produces")


@makers.command("validate")
@click.argument("paths", nargs=-1, type=click.Path())
@json_option
@pass_app
def validate(app: AppContext, paths: tuple[str, ...], as_json: bool) -> None:
    """Validate maker files (default: the designs folder's makers/) without writing anything.

    Checks the schema, and that the designs they name are in the catalogue
    (import the designs first).
    """
    files = discover(paths or [app.settings.designs_dir / "makers"])
    results = []
    with app.db.session() as session:
        for path in files:
            try:
                source = load_maker_file(path)
                resolve(session, source)
                results.append({"path": str(path), "valid": True, "slug": source.slug, "errors": []})
            except ManifestError as exc:
                results.append({"path": str(path), "valid": False, "errors": [str(e) for e in exc.errors]})
        session.rollback()
    report_validation(results, as_json, lambda r: r['slug'])
