"""The seed commons shows every state of the ledger, and keeps showing it when imported again."""

from __future__ import annotations

import json
from datetime import date

from opendesign.cli import main
from opendesign.commons.ledger import reports

from .conftest import SEED_DESIGNS

#: A day the seed's 12-month windows hold for (its contributions are dated 2026).
ON = date(2026, 12, 1)


def test_the_seed_ledger_has_every_state(runner, db):
    result = runner.invoke(main, ["import", str(SEED_DESIGNS)])
    assert result.exit_code == 0, result.output
    assert "stewardship decisions: 14 applied, 0 unchanged" in result.output
    rows = json.loads(runner.invoke(main, ["ledger", "export", "--json"]).output)
    states = {r["state"] for r in rows}
    assert states == {"claimed", "confirmed", "disputed", "corrected"}
    (corrected,) = [r for r in rows if r["state"] == "corrected"]
    (correction,) = [r for r in rows if r["corrects"] == corrected["id"]]
    assert correction["state"] == "confirmed" and correction["amount"] == "120.00"
    assert all(r["evidence"] for r in rows)
    # the two-parent derivative passes its share to both parents, equally by default
    flows = [(f["to"], f["amount"]) for f in correction["flows"]]
    assert flows == [("hand-mill-spur-gear@1.0.0", "6.00"), ("bicycle-generator-mount@1.0.0", "6.00")]

    shown = {slug: json.loads(runner.invoke(main, ["makers", "show", slug, "--json"]).output)["attestations"]
             for slug in ("common-ground-fab-coop", "harbour-weavers-coop", "reclaim-plastics-coop")}
    assert {slug: a["status"] for slug, a in shown.items()} == {
        "common-ground-fab-coop": "valid", "harbour-weavers-coop": "expired", "reclaim-plastics-coop": "challenged"}
    dismissed = shown["common-ground-fab-coop"]["attestations"][0]["challenges"][0]
    assert dismissed["resolution"]["outcome"] == "dismissed"  # the challenge and its outcome stay on record

    check = runner.invoke(main, ["makers", "check", "--json"])
    assert check.exit_code == 1  # the seed's deliberate example violation
    counts = json.loads(check.output)["counts"]
    assert all(counts[s] >= 1 for s in ("compliant", "needs-action", "needs-review", "violation")), counts

    with db.session() as s:
        spur = reports.design_ledger(s, "hand-mill-spur-gear", today=ON)
        compost = reports.design_ledger(s, "compost-bin-panel", today=ON)
    assert spur["through_derivatives"]["by_kind"]["money"]["totals"] == {"EUR": "56.00"}
    assert [f["explanation"] for f in spur["flows_in"]] == [
        "50 EUR: 10% of a 500 EUR contribution to hand-mill-double-gear",
        "6 EUR: 5% of a 120 EUR contribution to pedal-mill-drive (50% of its 10% upstream share)"]
    assert [m["slug"] for m in compost["qualified_producers"]] == ["common-ground-fab-coop"]
    per_unit = json.loads(runner.invoke(main, ["makers", "show", "common-ground-fab-coop", "--json"]).output)
    (panel, rack) = per_unit["reciprocity"]["per_unit"]
    assert panel["per_unit"]["money KES"] == {"kind": "money", "amount": "62.50", "display": "62.50 KES",
                                              "of_price": "1.39%"}

    again = runner.invoke(main, ["import", str(SEED_DESIGNS)])
    assert again.exit_code == 0 and "stewardship decisions: 0 applied, 14 unchanged" in again.output
    assert json.loads(runner.invoke(main, ["ledger", "export", "--json"]).output) == rows
