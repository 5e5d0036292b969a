"""``opendesign ledger`` and ``opendesign reciprocity``: the reciprocity ledger from the command line.

Whoever runs these commands is the catalogue's operator: confirmations,
disputes and resolutions made here need no account and are recorded as
``operator (<login>)``, with an AuditEvent like every state change.
"""

from __future__ import annotations

import csv
import sys

import click

from ..commons.ledger import attestations, entries, reports, review
from ..commons.ledger.totals import format_totals
from ..commons.reciprocity import get_maker
from .base import AppContext, emit_json, json_option, pass_app
from .commons_makers import echo_entry


@click.group()
def ledger() -> None:
    """The reciprocity ledger: export entries, confirm or dispute them as the catalogue's operator."""


@ledger.command("export")
@click.option("--json", "fmt", flag_value="json", help="Every entry as JSON, with its history and flows.")
@click.option("--csv", "fmt", flag_value="csv", help="One CSV row per entry (flows as from->to=amount).")
@click.option("--maker", metavar="SLUG", help="Only this maker's entries.")
@click.option("--design", metavar="SLUG", help="Only entries to this design.")
@pass_app
def export(app: AppContext, fmt: str | None, maker: str | None, design: str | None) -> None:
    """Every ledger entry with its state and the flows it makes up the lineage; ENTRY ids for confirm/dispute."""
    with app.db.session() as session:
        rows = reports.export(session, maker=maker, design=design)
    if fmt == "json":
        emit_json(rows)
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=reports.EXPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(reports.export_row(r) for r in rows)
    else:
        for row in rows:
            echo_entry(row)
            for flow in row["flows"]:
                click.echo(f"{'':18}  -> {flow['to']}: {flow['explanation']}")
        counts = {s: sum(1 for r in rows if r["state"] == s) for s in entries.STATES}
        click.echo(f"{len(rows)} entries: " + ", ".join(f"{n} {s}" for s, n in counts.items()))


@ledger.command("show")
@click.argument("entry")
@json_option
@pass_app
def show(app: AppContext, entry: str, as_json: bool) -> None:
    """One entry (ENTRY: its id or a unique prefix) with its evidence, history and flows."""
    with app.db.session() as session:
        found = entries.get_entry(session, entry)
        (row,) = reports.export(session, entry=found.entry_id)
    if as_json:
        emit_json(row)
        return
    echo_entry(row)
    for item in row["evidence"]:
        click.echo(f"  evidence: {item}")
    for h in row["history"]:
        click.echo(f"  {h['at'][:10]}  {h['action']:<8} by {h['by']} ({h['via']})" + (f": {h['reason']}" if h["reason"]
                                                                                      else ""))
    for flow in row["flows"]:
        click.echo(f"  -> {flow['to']}: {flow['explanation']}")


def _review(app: AppContext, entry: str, as_json: bool, act) -> None:
    with app.db.session() as session:
        found = entries.get_entry(session, entry)
        act(session, found)
        view = entries.entry_view(found)
    if as_json:
        emit_json(view)
    else:
        click.secho(f"{view['state']}  {view['id']}  {view['maker']} -> {view['design']}  {view['display']}  "
                    f"(as {view['reviewed_by']})", fg="green" if view["state"] == "confirmed" else "yellow")


@ledger.command("confirm")
@click.argument("entry")
@click.option("--note", default="", help="Why, for the record (optional).")
@json_option
@pass_app
def confirm(app: AppContext, entry: str, note: str, as_json: bool) -> None:
    """Confirm ENTRY as the catalogue's operator: from now on it counts in totals and flows."""
    _review(app, entry, as_json, lambda s, e: review.confirm(s, e, note=note, via="cli", operator=True))


@ledger.command("dispute")
@click.argument("entry")
@click.option("--reason", required=True, help="What the evidence does not show (required).")
@json_option
@pass_app
def dispute(app: AppContext, entry: str, reason: str, as_json: bool) -> None:
    """Dispute ENTRY as the catalogue's operator: it stops counting and shows REASON."""
    _review(app, entry, as_json, lambda s, e: review.dispute(s, e, reason, via="cli", operator=True))


@ledger.command("challenge")
@click.argument("maker")
@click.argument("attestation")
@click.option("--reason", required=True, help="What the attestation does not show (required).")
@pass_app
def challenge(app: AppContext, maker: str, attestation: str, reason: str) -> None:
    """Challenge MAKER's ATTESTATION (its id) as the operator: its PPL verdicts need review until resolved."""
    from ..commons import compliance

    with app.db.session() as session:
        m = get_maker(session, maker)
        found = attestations.challenge(session, attestations.get_attestation(m, attestation), reason, user=None,
                                       via="cli", operator=True)
        compliance.refresh_maker(m)
        click.echo(f"challenge {found.id} recorded against attestation {found.attestation.key} of {m.slug}")


@ledger.command("resolve")
@click.argument("maker")
@click.argument("challenge_id", type=int)
@click.option("--upheld", "outcome", flag_value="upheld", help="The attestation no longer counts.")
@click.option("--dismissed", "outcome", flag_value="dismissed", help="The attestation stands.")
@click.option("--reason", required=True, help="Why (required).")
@pass_app
def resolve(app: AppContext, maker: str, challenge_id: int, outcome: str | None, reason: str) -> None:
    """Resolve challenge CHALLENGE_ID to MAKER's attestation as the operator (--upheld or --dismissed)."""
    from ..commons import compliance

    if outcome is None:
        raise click.UsageError("say --upheld or --dismissed")
    with app.db.session() as session:
        m = get_maker(session, maker)
        attestations.resolve(session, attestations.get_challenge(m, challenge_id), outcome, reason, user=None,
                             via="cli", operator=True)
        compliance.refresh_maker(m)
        click.echo(f"challenge {challenge_id} {outcome}")


def _echo_totals(label: str, summary: dict) -> None:
    if summary["count"] or any(k["display"] for k in summary["by_kind"].values()):
        click.echo(f"{label}: {format_totals(summary)}")


@click.command("reciprocity")
@click.argument("slug")
@json_option
@pass_app
def reciprocity(app: AppContext, slug: str, as_json: bool) -> None:
    """What design SLUG received directly and through its derivatives, each share explained."""
    with app.db.session() as session:
        data = reports.design_ledger(session, slug.partition("@")[0])
    if as_json:
        emit_json(data)
        return
    click.secho(data["slug"], bold=True)
    _echo_totals("received directly (confirmed)", data["received_directly"])
    _echo_totals("reached it through derivatives", data["through_derivatives"])
    for flow in data["flows_in"]:
        click.echo(f"  {flow['explanation']}  [{flow['entry']}, {flow['maker']}]")
    _echo_totals("passed on to its parents", data["passed_upstream"])
    for flow in data["flows_out"]:
        click.echo(f"  -> {flow['to']}: {flow['explanation']}")
    _echo_totals("kept", data["kept"])
    for title, key in (("claimed, awaiting a steward", "claimed"), ("disputed", "disputed"),
                       ("corrected", "corrected")):
        if data[key]:
            click.echo(f"{title}:")
            for row in data[key]:
                echo_entry(row, "  ")
    if data["qualified_producers"]:
        click.echo("qualified producers: " + ", ".join(m["slug"] for m in data["qualified_producers"]))
    if not any(data[k] for k in ("confirmed", "claimed", "disputed", "corrected", "flows_in")):
        click.echo("nothing recorded")
