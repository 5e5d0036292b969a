"""``opendesign makers``: makers, the compliance of their productions, and what they give back."""

from __future__ import annotations

import sys

import click

from ..commons import compliance
from ..commons.makers import queries
from ..commons.makers.importer import import_maker
from ..commons.makers.loader import discover, load_maker_file
from ..errors import ManifestError
from ..commons.reciprocity import format_totals
from .base import AppContext, emit_json, json_option, pass_app, report_validation

_VERDICT_COLOURS = {"compliant": "green", "needs-action": "yellow", "needs-review": "cyan", "violation": "red"}
STATE_COLOURS = {"confirmed": "green", "claimed": "yellow", "disputed": "red", "corrected": None}


def echo_entry(c: dict, indent: str = "") -> None:
    """One ledger entry on two lines: what it is, then its state."""
    click.echo(f"{indent}{c['id']}  {c['date']}  {c['maker']:<24} -> {c['design']:<28} {c['kind']:<11} "
               f"{c['display']}" + (f"  — {c['note']}" if c["note"] else ""))
    more = [f"reason: {c['reason']}" if c["state"] == "disputed" and c["reason"] else "",
            f"corrects {c['corrects']}" if c["corrects"] else "",
            f"corrected by {c['corrected_by']}" if c["corrected_by"] else "",
            f"by {c['reviewed_by']}" if c["reviewed_by"] and c["state"] != "disputed" else ""]
    click.secho(f"{indent}{'':16}  {c['state']}" + "".join(f"; {m}" for m in more if m),
                fg=STATE_COLOURS.get(c["state"]))


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


@click.group()
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
        click.echo(f"{'':<{width}}  gives back: {format_totals(r['contributions'])}"
                   + (f"  (claimed, awaiting review: {format_totals(r['claimed'])})" if r["claimed"]["count"] else ""))


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
        echo_entry(c, "  ")
    rec = detail["reciprocity"]
    click.echo(f"totals (confirmed): {format_totals(rec['contributions'])}")
    if rec["claimed"]["count"]:
        click.echo(f"claimed, awaiting a steward: {format_totals(rec['claimed'])}")
    for row in rec["per_unit"]:
        shares = "; ".join(f"{v['display']}" + (f" ({v['of_price']} of the price)" if "of_price" in v else "")
                           for v in row["per_unit"].values()) or "nothing confirmed"
        click.echo(f"give-back per unit, {row['design']} ({row['units']} units, {row['period_start']} to "
                   f"{row['period_end']}): {shares}")
    ownership = detail["attestations"]
    if ownership["attestations"] or ownership["affected_designs"]:
        click.echo(f"worker-ownership attestation: {ownership['status']}"
                   + (f" ({ownership['detail']})" if ownership["detail"] else ""))
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

    Checks the schema, that the designs they name are in the catalogue (import
    the designs first), and that the ledger can take them (an entry recorded
    from a file may not disappear from it; corrections name this maker's entries).
    """
    files = discover(paths or [app.settings.designs_dir / "makers"])
    results = []
    with app.db.session() as session:
        for path in files:
            try:
                source = load_maker_file(path)
                savepoint = session.begin_nested()  # the whole import, rolled back: nothing is written
                try:
                    import_maker(session, source)
                finally:
                    savepoint.rollback()
                results.append({"path": str(path), "valid": True, "slug": source.slug, "errors": []})
            except ManifestError as exc:
                results.append({"path": str(path), "valid": False, "errors": [str(e) for e in exc.errors]})
        session.rollback()
    report_validation(results, as_json, lambda r: r['slug'])
