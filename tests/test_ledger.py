"""The reciprocity ledger from maker files and the CLI: bad input, append-only, reviews, flows, export."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
import tomli_w
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from opendesign.catalogue.importer import import_designs
from opendesign.cli import main
from opendesign.commons.ledger import entries, reports, review
from opendesign.commons.makers import import_makers, load_maker_file
from opendesign.errors import ManifestError
from opendesign.manifests import load_design_folder
from opendesign.models import AuditEvent, Contribution, LedgerReview

TODAY = date.today()
RECENT = (TODAY - timedelta(days=20)).isoformat()
URL = "https://opencollective.example/widget/transactions/1"
SHA = "ab" * 32


def contribution(**overrides) -> dict:
    """A valid [[contributions]] entry; an override of None leaves the field out."""
    data = {"design": "widget-pair", "kind": "money", "amount": 120, "currency": "EUR", "date": RECENT,
            "evidence": URL, "note": "batch share", **overrides}
    return {k: v for k, v in data.items() if v is not None}


def maker(slug: str = "giver-coop", contributions=None, **overrides) -> dict:
    return {"slug": slug, "name": slug.title(), "legal_form": "worker-cooperative", "country": "DE",
            "productions": [{"design": "widget-pair@1.0.0", "source_location": "widget-pair@1.0.0"}],
            "contributions": [contribution()] if contributions is None else contributions, **overrides}


@pytest.fixture
def catalogue(db, make_design):
    make_design("widget", license="CERN-OHL-S-2.0")
    make_design("gadget", license="CERN-OHL-S-2.0")
    make_design("widget-fork", license="CERN-OHL-S-2.0", derived_from=["widget@1.0.0"],
                reciprocity={"upstream_share": 0.25})
    make_design("widget-pair", license="CERN-OHL-S-2.0", derived_from=["widget-fork@1.0.0", "gadget@1.0.0"],
                reciprocity={"upstream_share": 0.5, "weights": {"widget-fork": 0.75, "gadget": 0.25}})
    assert import_designs(db, [make_design.root]).ok
    return db


@pytest.fixture
def write(make_design):
    folder = make_design.root / "makers"
    folder.mkdir(exist_ok=True)

    def write(data: dict):
        path = folder / f"{data['slug']}.toml"
        path.write_text(tomli_w.dumps(data))
        return path

    write.folder = folder
    return write


def problems(path) -> str:
    with pytest.raises(ManifestError) as exc:
        load_maker_file(path)
    return "\n".join(str(e) for e in exc.value.errors)


# -- bad input in maker files ----------------------------------------------------------------------

@pytest.mark.parametrize(("entry", "reason"), [
    ({"amount": -5}, "contributions[0].amount: must be greater than zero (got -5)"),
    ({"amount": float("nan")}, "contributions[0].amount: must be a finite number, not nan"),
    ({"amount": float("inf")}, "contributions[0].amount: must be a finite number, not inf"),
    ({"amount": 10.555}, "contributions[0].amount: 10.555 EUR has more decimal places than EUR has (2)"),
    ({"currency": "XYZ"}, "contributions[0].currency: 'XYZ' is not an ISO 4217 currency code"),
    ({"currency": "XXX"}, "contributions[0].currency: 'XXX' is the code for 'no currency', not a currency"),
    ({"date": (TODAY + timedelta(days=3)).isoformat()}, "is in the future; record what has happened"),
    ({"evidence": "see our website"}, "contributions[0].evidence: 'see our website' is neither an http(s) URL"),
    ({"evidence": "ftp://files.example/receipt.pdf"}, "is neither an http(s) URL"),
    ({"evidence": "ab" * 31}, "nor the sha256 of a receipt file (64 hexadecimal digits)"),
    ({"evidence": [URL, "nope"]}, "contributions[0].evidence: [1] 'nope' is neither"),
    ({"evidence": None}, "contributions[0].evidence: required: a URL (https://...)"),
    ({"corrects": "not-an-id"}, "contributions[0].corrects: 'not-an-id' is not a ledger entry id"),
    ({"kind": "hours", "currency": None, "amount": 1.005}, "hours are recorded to the hundredth"),
])
def test_bad_contributions_are_named(write, entry, reason):
    path = write(maker(contributions=[contribution(**entry)]))
    assert reason in problems(path)


def test_bad_attestations_and_productions_are_named(write):
    path = write(maker(attestations=[{"evidence": "registry", "registry_id": "", "valid_from": "2026-01-01",
                                      "valid_until": "2025-01-01"}],
                       productions=[{"design": "widget-pair@1.0.0", "units": 0},
                                    {"design": "widget-pair@1.0.0", "units": 10, "period_start": "2026-02-01"}]))
    text_ = problems(path)
    assert "attestations[0].evidence: 'registry' must be an http(s) URL" in text_
    assert "attestations[0].registry_id: String should have at least 1 character" in text_
    assert "productions[0].units: must be greater than zero (got 0)" in text_
    path = write(maker(attestations=[{"evidence": "https://registry.example/1", "registry_id": "R1",
                                      "valid_from": "2026-01-01", "valid_until": "2025-01-01"}],
                       productions=[{"design": "widget-pair@1.0.0", "units": 10, "period_start": "2026-02-01"},
                                    {"design": "widget-pair@1.0.0", "period_start": "2026-02-01",
                                     "period_end": "2026-01-01"}]))
    text_ = problems(path)
    assert "attestations[0].valid_until: 2025-01-01 is before valid_from 2026-01-01" in text_
    assert "productions[0].period_end: required with units" in text_
    assert "productions[1].units: required with a period" in text_
    assert "productions[1].period_end: 2026-01-01 is before period_start 2026-02-01" in text_


@pytest.mark.parametrize(("reciprocity", "reason"), [
    ({"upstream_share": 1.5}, "reciprocity.upstream_share: the share must be a number from 0 to 1 (got 1.5)"),
    ({"upstream_share": -0.1}, "reciprocity.upstream_share: the share must be a number from 0 to 1 (got -0.1)"),
    ({"upstream_share": "half"}, "reciprocity.upstream_share: must be a number from 0 to 1, not str 'half'"),
    ({"weights": {"widget-fork": 0.7, "gadget": 0.2}}, "reciprocity.weights: must add up to 1, not 0.9 (0.7 + 0.2)"),
    ({"weights": {"widget-fork": 1.0}}, "reciprocity.weights: give every parent a weight; missing: gadget@1.0.0"),
    ({"weights": {"widget-fork": 0.5, "nobody": 0.5}}, "reciprocity.weights.nobody: 'nobody' is not a parent"),
    ({"upstream": 0.2}, "reciprocity.upstream: unknown field"),
])
def test_bad_reciprocity_in_design_toml_is_named(make_design, reciprocity, reason):
    path = make_design("bad-pair", derived_from=["widget-fork@1.0.0", "gadget@1.0.0"], reciprocity=reciprocity)
    with pytest.raises(ManifestError) as exc:
        load_design_folder(path)
    assert reason in "\n".join(str(e) for e in exc.value.errors)


def test_default_upstream_share_and_forks_drop_reciprocity(make_design):
    folder = load_design_folder(make_design("plain", derived_from=["widget@1.0.0"]))
    assert folder.manifest.reciprocity.upstream_share == 0.1
    from opendesign.commons.fork import _edit_manifest

    edited = _edit_manifest('slug = "a"\nversion = "1.0.0"\n[reciprocity]\nweights = { x = 1.0 }\n', "b",
                            "a@1.0.0", "MIT", None)
    assert "reciprocity" not in edited


# -- import: claimed, idempotent, append-only --------------------------------------------------------

def test_entries_enter_claimed_and_reimport_keeps_states(catalogue, write):
    write(maker())
    assert import_makers(catalogue, [write.folder]).ok
    with catalogue.session() as s:
        (entry,) = s.scalars(select(Contribution))
        assert (entries.state(entry), entry.amount_minor, entry.scale, entry.origin) == ("claimed", 12000, 2, "file")
        assert entry.version.ref == "widget-pair@1.0.0"
        review.confirm(s, entry, operator=True, via="cli")
        entry_id = entry.entry_id
    # the same content, written differently (120.0 instead of 120, keys reordered): the same entry
    data = maker(contributions=[{**contribution(), "amount": 120.0}])
    write({k: data[k] for k in reversed(list(data))})
    assert import_makers(catalogue, [write.folder]).as_dict()["updated"] == 1
    with catalogue.session() as s:
        (entry,) = s.scalars(select(Contribution))
        assert (entry.entry_id, entries.state(entry)) == (entry_id, "confirmed")
        events = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert events == ["ledger.record", "ledger.confirm"]


def test_an_entry_removed_from_its_file_is_refused(catalogue, write):
    write(maker(contributions=[contribution(), contribution(kind="hours", currency=None, amount=3)]))
    assert import_makers(catalogue, [write.folder]).ok
    with catalogue.session() as s:
        first = s.scalar(select(Contribution).order_by(Contribution.id))
        first_id = first.entry_id
    path = write(maker(contributions=[contribution(kind="hours", currency=None, amount=3)], name="Renamed"))
    report = import_makers(catalogue, [write.folder])
    (result,) = report.results
    assert result.status == "invalid"
    assert result.errors == [f"{path}: contributions: entry {first_id} (120 EUR money to widget-pair on {RECENT}) "
                             "was recorded from this file and is no longer in it; the ledger is append-only: put it "
                             f"back as it was, and add an entry with corrects = \"{first_id}\" to change it"]
    with catalogue.session() as s:  # the failed import left everything as it was
        assert s.scalar(select(func.count()).select_from(Contribution)) == 2
        assert s.scalar(text("SELECT name FROM maker")) == "Giver-Coop"


def test_a_correction_replaces_the_entry_it_names(catalogue, write):
    write(maker(contributions=[contribution(amount=12)]))
    assert import_makers(catalogue, [write.folder]).ok
    with catalogue.session() as s:
        wrong = s.scalar(select(Contribution)).entry_id
    write(maker(contributions=[contribution(amount=12), contribution(corrects=wrong, evidence=[URL, SHA])]))
    assert import_makers(catalogue, [write.folder]).ok
    with catalogue.session() as s:
        old, new = s.scalars(select(Contribution).order_by(Contribution.id))
        assert (entries.state(old), old.corrected_by.entry_id) == ("corrected", new.entry_id)
        assert new.evidence == [URL, f"sha256:{SHA}"] and entries.state(new) == "claimed"
        with pytest.raises(entries.LedgerConflict, match=f"entry {wrong} was corrected by entry {new.entry_id}"):
            review.confirm(s, old, operator=True, via="cli")
        assert s.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "ledger.correct"
    # correcting it again, or correcting another maker's entry, is refused
    write(maker(contributions=[contribution(amount=12), contribution(corrects=wrong, evidence=[URL, SHA]),
                               contribution(corrects=wrong, amount=13)]))
    assert f"entry {wrong} is already corrected by" in import_makers(catalogue, [write.folder]).results[0].errors[0]
    write(maker("other-coop", contributions=[contribution(corrects=wrong)]))
    errors = import_makers(catalogue, [write.folder / "other-coop.toml"]).results[0].errors
    assert errors == [f"{write.folder / 'other-coop.toml'}: contributions[0].corrects: '{wrong}' is not an entry of "
                      "maker 'other-coop'"]


def test_the_database_refuses_edits_and_deletes(catalogue, write):
    write(maker())
    assert import_makers(catalogue, [write.folder]).ok
    for statement in ("UPDATE contribution SET amount_minor = 1", "DELETE FROM contribution",
                      "DELETE FROM maker"):
        with pytest.raises(DBAPIError, match="append-only|foreign key|violates|FOREIGN KEY|restrict"):
            with catalogue.engine.begin() as conn:
                conn.execute(text(statement))
    with catalogue.session() as s:
        review.dispute(s, s.scalar(select(Contribution)), "no such transaction", operator=True, via="cli")
    with pytest.raises(DBAPIError, match="append-only"):
        with catalogue.engine.begin() as conn:
            conn.execute(text("UPDATE ledger_review SET reason = 'fine'"))
    with catalogue.session() as s:
        assert s.scalar(select(LedgerReview.reason)) == "no such transaction"


def test_a_design_with_ledger_entries_cannot_be_removed(catalogue, write, runner):
    write(maker())
    assert import_makers(catalogue, [write.folder]).ok
    result = runner.invoke(main, ["remove", "widget-pair", "--yes"])
    assert result.exit_code == 1
    assert "the reciprocity ledger records 1 contribution(s) to it, and the ledger is append-only" in result.output


# -- reviews, flows and the CLI --------------------------------------------------------------------

def test_operator_reviews_from_the_cli(catalogue, write, runner):
    write(maker())
    assert import_makers(catalogue, [write.folder]).ok
    rows = json.loads(runner.invoke(main, ["ledger", "export", "--json"]).output)
    entry_id = rows[0]["id"]
    assert rows[0]["state"] == "claimed" and rows[0]["flows"] == [] and rows[0]["counts"] is False

    result = runner.invoke(main, ["ledger", "confirm", entry_id[:8]])
    assert result.exit_code == 0, result.output
    assert f"confirmed  {entry_id}  giver-coop -> widget-pair  120 EUR  (as operator (" in result.output
    again = runner.invoke(main, ["ledger", "confirm", entry_id])
    assert again.exit_code == 1 and f"error: entry {entry_id} is already confirmed (by operator (" in again.output
    assert runner.invoke(main, ["ledger", "dispute", entry_id]).exit_code == 2  # --reason is required
    assert "no ledger entry 'ffffffff'" in runner.invoke(main, ["ledger", "confirm", "ffffffff"]).output

    # confirmed: its value flows up both parents of the two-parent derivative, and on up to widget
    row = json.loads(runner.invoke(main, ["ledger", "show", entry_id, "--json"]).output)
    assert [(f["from"], f["to"], f["amount"]) for f in row["flows"]] == [
        ("widget-pair@1.0.0", "widget-fork@1.0.0", "45.00"), ("widget-pair@1.0.0", "gadget@1.0.0", "15.00"),
        ("widget-fork@1.0.0", "widget@1.0.0", "11.25")]
    assert row["kept"] == {"widget-pair@1.0.0": "60.00", "widget-fork@1.0.0": "33.75", "gadget@1.0.0": "15.00",
                           "widget@1.0.0": "11.25"}
    assert row["flows"][0]["explanation"] == ("45 EUR: 37.5% of a 120 EUR contribution to widget-pair "
                                              "(75% of its 50% upstream share)")
    assert row["flows"][2]["explanation"] == ("11.25 EUR: 25% of the 45 EUR that reached widget-fork from a 120 EUR "
                                              "contribution to widget-pair")

    text_ = runner.invoke(main, ["reciprocity", "widget"]).output
    assert "reached it through derivatives: money 11.25 EUR" in text_
    assert "11.25 EUR: 25% of the 45 EUR that reached widget-fork from a 120 EUR contribution to widget-pair" in text_
    data = json.loads(runner.invoke(main, ["reciprocity", "widget-pair", "--json"]).output)
    assert data["received_directly"]["by_kind"]["money"]["totals"] == {"EUR": "120.00"}
    assert data["passed_upstream"]["by_kind"]["money"]["totals"] == {"EUR": "60.00"}
    assert data["kept"]["by_kind"]["money"]["totals"] == {"EUR": "60.00"}
    assert [m["slug"] for m in data["qualified_producers"]] == ["giver-coop"]

    result = runner.invoke(main, ["ledger", "dispute", entry_id, "--reason", "the transaction was refunded"])
    assert result.exit_code == 0 and result.output.startswith("disputed")
    data = json.loads(runner.invoke(main, ["reciprocity", "widget-pair", "--json"]).output)
    assert data["received_directly"]["count"] == 0 and data["qualified_producers"] == []
    assert data["disputed"][0]["reason"] == "the transaction was refunded"
    assert json.loads(runner.invoke(main, ["reciprocity", "widget", "--json"]).output)["flows_in"] == []

    export = list(csv.DictReader(io.StringIO(runner.invoke(main, ["ledger", "export", "--csv"]).output)))
    assert export[0]["id"] == entry_id and export[0]["state"] == "disputed"
    assert export[0]["reason"] == "the transaction was refunded" and export[0]["evidence"] == URL
    with catalogue.session() as s:
        events = [(e.action, e.detail.get("from"), e.detail["to"], e.detail["via"]) for e in
                  s.scalars(select(AuditEvent).where(AuditEvent.action.like("ledger.%")).order_by(AuditEvent.id))]
    assert events[1:] == [("ledger.confirm", "claimed", "confirmed", "cli"),
                          ("ledger.dispute", "confirmed", "disputed", "cli")]


def test_hours_flow_and_improvements_stay(catalogue, write, runner):
    write(maker(contributions=[contribution(kind="hours", currency=None, amount=10),
                               contribution(kind="improvement", currency=None, amount=None)]))
    assert import_makers(catalogue, [write.folder]).ok
    for row in json.loads(runner.invoke(main, ["ledger", "export", "--json"]).output):
        assert runner.invoke(main, ["ledger", "confirm", row["id"]]).exit_code == 0
    data = json.loads(runner.invoke(main, ["reciprocity", "widget", "--json"]).output)
    assert data["through_derivatives"]["by_kind"]["hours"]["totals"] == {"hours": "0.94"}  # 25% of 3.75
    assert data["through_derivatives"]["by_kind"]["improvement"]["totals"] == {}
    pair = json.loads(runner.invoke(main, ["reciprocity", "widget-pair", "--json"]).output)
    assert pair["kept"]["by_kind"]["improvement"]["totals"] == {"improvements": "1"}


def test_qualified_producers_need_compliance_and_a_recent_confirmed_contribution(catalogue, write):
    widget = [{"design": "widget@1.0.0", "source_location": "widget@1.0.0"}]
    write(maker(contributions=[contribution(date=(TODAY - timedelta(days=400)).isoformat())]))
    write(maker("fresh-coop", contributions=[contribution(design="widget-fork")]))  # to a parent: does not count
    write(maker("idle-coop", productions=widget, contributions=[]))
    write(maker("noncompliant-coop", productions=[{"design": "widget@1.0.0"}]))  # no source location (§4)
    write(maker("lineage-coop", productions=widget))  # gave to widget-pair, a descendant of widget
    assert import_makers(catalogue, [write.folder]).ok
    with catalogue.session() as s:
        for entry in s.scalars(select(Contribution)):
            review.confirm(s, entry, operator=True, via="cli")
    with catalogue.session() as s:
        assert [m["slug"] for m in reports.design_ledger(s, "widget")["qualified_producers"]] == ["lineage-coop"]
        assert reports.design_ledger(s, "widget-pair")["qualified_producers"] == []  # 400 days ago
        then = reports.design_ledger(s, "widget-pair", today=TODAY - timedelta(days=60))
        assert [m["slug"] for m in then["qualified_producers"]] == ["giver-coop"]


def test_a_descendants_contribution_qualifies_a_producer_of_the_parent(catalogue, write):
    write(maker("root-maker", productions=[{"design": "gadget@1.0.0", "source_location": "gadget@1.0.0"}],
                contributions=[contribution()]))
    assert import_makers(catalogue, [write.folder]).ok
    with catalogue.session() as s:
        review.confirm(s, s.scalar(select(Contribution)), operator=True, via="cli")
        (m,) = reports.design_ledger(s, "gadget")["qualified_producers"]
        assert (m["slug"], m["contributions"][0]["design"]) == ("root-maker", "widget-pair")


def test_makers_validate_checks_the_ledger_without_writing(catalogue, write, runner):
    write(maker(contributions=[contribution(), contribution(amount=7)]))
    assert import_makers(catalogue, [write.folder]).ok
    write(maker(contributions=[contribution(amount=7), contribution(amount=8)]))
    result = runner.invoke(main, ["makers", "validate", str(write.folder)])
    assert result.exit_code == 1
    assert "was recorded from this file and is no longer in it; the ledger is append-only" in result.output
    with catalogue.session() as s:
        assert sorted(c.amount_minor for c in s.scalars(select(Contribution))) == [700, 12000]
