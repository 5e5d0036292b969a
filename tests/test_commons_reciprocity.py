"""Reciprocity: what makers give back to the designs they produce (confirmed contributions only)."""

from __future__ import annotations

import tomli_w
from sqlalchemy import select

from opendesign.catalogue.importer import import_designs
from opendesign.commons.ledger import review
from opendesign.commons.makers import import_makers
from opendesign.commons.reciprocity import design_reciprocity, format_totals, maker_reciprocity
from opendesign.models import Contribution

EVIDENCE = "https://opencollective.example/stove/transactions/1"


def write_maker(folder, slug, legal_form, productions, contributions):
    folder.mkdir(exist_ok=True)
    (folder / f"{slug}.toml").write_text(tomli_w.dumps({
        "slug": slug, "name": slug, "legal_form": legal_form, "country": "KE",
        "productions": productions, "contributions": [{"evidence": EVIDENCE, **c} for c in contributions]}))


def confirm_all(db, *, but: tuple[str, ...] = ()) -> None:
    with db.session() as s:
        for entry in s.scalars(select(Contribution)):
            if entry.note not in but:
                review.confirm(s, entry, operator=True, via="cli")


def test_design_and_maker_reciprocity(db, make_design):
    make_design("stove", license="CC-BY-SA-4.0")
    make_design("filter", license="CC0-1.0")
    assert import_designs(db, [make_design.root]).ok
    folder = make_design.root / "makers"
    write_maker(folder, "giver", "worker-cooperative",
                [{"design": "stove@1.0.0"}, {"design": "stove@1.0.0", "modified": True,
                                              "modified_source": "https://example.org/stove-mod"}],
                [{"design": "stove", "kind": "money", "amount": 100, "currency": "EUR", "date": "2026-01-01"},
                 {"design": "stove", "kind": "money", "amount": 50.5, "currency": "EUR", "date": "2026-02-01"},
                 {"design": "stove", "kind": "money", "amount": 2000, "currency": "KES", "date": "2026-02-01"},
                 {"design": "stove", "kind": "hours", "amount": 12, "date": "2026-03-01"},
                 {"design": "stove", "kind": "improvement", "date": "2026-03-02", "note": "better grate"},
                 {"design": "stove", "kind": "money", "amount": 0.1, "currency": "EUR", "date": "2026-03-03",
                  "note": "unreviewed"},
                 {"design": "filter", "kind": "hardware", "amount": 80, "currency": "EUR", "date": "2026-04-01"}])
    write_maker(folder, "taker", "for-profit", [{"design": "stove@1.0.0"}, {"design": "filter@1.0.0"}], [])
    assert import_makers(db, [folder]).ok
    with db.session() as s:
        assert design_reciprocity(s, "stove")["giving_back"] == 0  # nothing confirmed yet
        assert maker_reciprocity(s, "giver")["gives_back"] is False
    confirm_all(db, but=("unreviewed",))

    with db.session() as s:
        stove = design_reciprocity(s, "stove")
        giver = maker_reciprocity(s, "giver")
        taker = maker_reciprocity(s, "taker")
    assert stove["productions"] == 3
    assert (stove["producing_makers"], stove["giving_back"]) == (2, 1)
    assert [(m["slug"], m["productions"], m["gives_back"]) for m in stove["makers"]] == [
        ("giver", 2, True), ("taker", 1, False)]
    by_kind = stove["contributions"]["by_kind"]
    # exact, per currency: 100 + 50.50 EUR (the claimed 0.10 EUR apart), never added to the KES
    assert by_kind["money"]["count"] == 3
    assert by_kind["money"]["totals"] == {"EUR": "150.50", "KES": "2000.00"}
    assert by_kind["hours"]["totals"] == {"hours": "12.00"}
    assert by_kind["improvement"]["totals"] == {"improvements": "1"}
    assert by_kind["hardware"]["count"] == 0  # the hardware went to the filter
    assert stove["claimed"]["by_kind"]["money"]["totals"] == {"EUR": "0.10"}
    assert format_totals(stove["contributions"]) == "money 150.50 EUR, 2000 KES; 1 improvement; 12 hours"
    assert [c["state"] for c in stove["contribution_list"]].count("claimed") == 1

    assert giver["gives_back"] is True and giver["designs_supported"] == ["filter", "stove"]
    assert giver["contributions"]["count"] == 6 and giver["claimed"]["count"] == 1
    assert taker["gives_back"] is False
    assert taker["produces_without_giving_back"] == ["filter", "stove"]
    assert taker["contributions"]["count"] == 0
