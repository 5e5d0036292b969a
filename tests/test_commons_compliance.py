"""Compliance verdicts of productions, as stored by the maker import."""

from __future__ import annotations

import pytest
import tomli_w
from sqlalchemy import select

from opendesign.catalogue.importer import import_designs
from opendesign.commons import compliance
from opendesign.commons.makers import import_makers
from opendesign.models import Production

LICENSES = {
    "nc-lamp": "CC-BY-NC-4.0",
    "ppl-press": "LicenseRef-PPL",
    "ohl-s-dryer": "CERN-OHL-S-2.0",
    "nd-plate": "CC-BY-ND-4.0",
    "by-gear": "CC-BY-4.0",
    "or-hinge": "CC-BY-NC-4.0 OR CERN-OHL-P-2.0",
    "and-frame": "CERN-OHL-P-2.0 AND CC-BY-NC-4.0",
}


@pytest.fixture
def produce(db, make_design):
    for slug, license_ in LICENSES.items():
        make_design(slug, license=license_)
    assert import_designs(db, [make_design.root]).ok
    folder = make_design.root / "makers"
    folder.mkdir()

    def produce(legal_form: str, design: str, **production) -> dict:
        """Import one maker producing *design*; return the stored verdict detail."""
        slug = f"maker-{len(list(folder.iterdir()))}"
        (folder / f"{slug}.toml").write_text(tomli_w.dumps({
            "slug": slug, "name": slug.title(), "legal_form": legal_form, "country": "FR",
            "productions": [{"design": f"{design}@1.0.0", **production}],
        }))
        report = import_makers(db, [folder])
        assert report.ok, report.as_dict()["errors"]
        with db.session() as s:
            stored = s.scalars(select(Production).join(Production.maker)).all()
            (production_row,) = [p for p in stored if p.maker.slug == slug]
            assert production_row.verdict == production_row.verdict_detail["status"]
            return production_row.verdict_detail

    return produce


def test_non_commercial_design_sold_by_a_for_profit_is_a_violation(produce):
    verdict = produce("for-profit", "nc-lamp", price=40.0, currency="EUR")
    assert verdict["status"] == "violation"
    assert "CC-BY-NC-4.0" in verdict["reason"] and "for-profit" in verdict["reason"]
    assert verdict["clause"].startswith("CC-BY-NC-4.0 §")
    assert verdict["actions"]


def test_ppl_design_sold_by_a_for_profit_is_a_violation(produce):
    verdict = produce("for-profit", "ppl-press", price=400.0, currency="EUR")
    assert verdict["status"] == "violation"
    assert "LicenseRef-PPL" in verdict["clause"]
    assert "worker-owned" in verdict["reason"]


def test_ppl_design_made_by_a_worker_cooperative_is_compliant(produce):
    verdict = produce("worker-cooperative", "ppl-press", price=400.0, currency="EUR")
    assert verdict["status"] == "compliant"
    assert verdict["actions"] == []


def test_ppl_design_sold_by_an_individual_needs_review(produce):
    verdict = produce("individual", "ppl-press", price=400.0, currency="EUR")
    assert verdict["status"] == "needs-review"
    assert verdict["reason"] and verdict["actions"]


def test_reciprocal_license_modified_without_published_source_needs_action(produce):
    verdict = produce("social-enterprise", "ohl-s-dryer", modified=True)
    assert verdict["status"] == "needs-action"
    assert "publish the modified source under CERN-OHL-S-2.0" in verdict["actions"]
    assert verdict["clause"].startswith("CERN-OHL-S-2.0 §")
    published = produce("social-enterprise", "ohl-s-dryer", modified=True,
                        modified_source="https://git.example.org/dryer-mod")
    assert published["status"] == "compliant"
    assert published["obligations"]  # CERN-OHL-S §4: source to every recipient, listed for information


def test_missing_attribution_needs_action(produce):
    verdict = produce("non-profit", "by-gear", attribution=False)
    assert verdict["status"] == "needs-action"
    assert "credit the authors" in verdict["actions"]


def test_modified_no_derivatives_design_is_a_violation(produce):
    assert produce("non-profit", "nd-plate", modified=True, modified_source="https://x.example")["status"] \
        == "violation"
    assert produce("non-profit", "nd-plate")["status"] == "compliant"


def test_or_expression_takes_the_most_favourable_option(produce):
    verdict = produce("for-profit", "or-hinge", price=5.0, currency="EUR")
    assert verdict["status"] == "compliant"
    assert verdict["option"] == "CERN-OHL-P-2.0"


def test_and_expression_applies_every_part(produce):
    verdict = produce("for-profit", "and-frame", price=5.0, currency="EUR")
    assert verdict["status"] == "violation"
    assert "CC-BY-NC-4.0" in verdict["clause"]


def test_audit_reports_counts_and_ok(db, produce):
    produce("worker-cooperative", "ppl-press")
    with db.session() as s:
        assert compliance.audit(s).ok
    produce("for-profit", "nc-lamp")
    with db.session() as s:
        report = compliance.audit(s)
        assert not report.ok
        assert report.counts["violation"] == 1 and report.counts["compliant"] == 1
        assert compliance.stored_counts(s) == report.counts
        assert compliance.refresh_all(s) == 0  # stored verdicts are current
