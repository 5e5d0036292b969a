"""The seed makers in designs/makers/: valid, varied, and exercising every verdict."""

from __future__ import annotations

from opendesign.catalogue.importer import import_designs
from opendesign.commons import compliance
from opendesign.commons.makers import import_makers
from opendesign.commons.makers.loader import discover, load_maker_file
from opendesign.commons.makers.queries import maker_detail
from opendesign.licenses.compliance import LEGAL_FORMS, STATUSES

from .conftest import SEED_DESIGNS

MAKERS = SEED_DESIGNS / "makers"


def test_seed_makers_cover_every_legal_form():
    sources = [load_maker_file(p) for p in discover([MAKERS])]
    assert len(sources) >= 6
    assert {s.spec.legal_form for s in sources} == set(LEGAL_FORMS)


def test_seed_makers_import_and_exercise_every_verdict(db):
    assert import_designs(db, [SEED_DESIGNS]).ok
    report = import_makers(db, [MAKERS])
    assert [r.errors for r in report.results if r.errors] == []
    assert report.count("created") == len(discover([MAKERS]))
    with db.session() as s:
        audit = compliance.audit(s)
    assert all(audit.counts[status] >= 1 for status in STATUSES), audit.counts
    # the seed's violation is a deliberate example, and says so
    with db.session() as s:
        for slug in {p["maker"] for p in audit.productions if p["verdict"] == "violation"}:
            assert "EXAMPLE" in maker_detail(s, slug)["description"]
    again = import_makers(db, [MAKERS])
    assert again.count("unchanged") == len(again.results)
