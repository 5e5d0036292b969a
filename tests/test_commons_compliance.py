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

    def produce(legal_form: str, design: str, attestations: list | None = None, **production) -> dict:
        """Import one maker producing *design*; return the stored verdict detail."""
        slug = f"maker-{len(list(folder.iterdir()))}"
        (folder / f"{slug}.toml").write_text(tomli_w.dumps({
            "slug": slug, "name": slug.title(), "legal_form": legal_form, "country": "FR",
            "productions": [{"design": f"{design}@1.0.0", **production}], "attestations": attestations or [],
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


ATTESTED = {"evidence": "https://registry.example.org/coops/FR-42", "registry_id": "FR-42",
            "valid_from": "2026-01-01", "valid_until": "2099-12-31"}


def test_ppl_design_made_by_an_attested_worker_cooperative_is_compliant(produce):
    verdict = produce("worker-cooperative", "ppl-press", attestations=[ATTESTED], price=400.0, currency="EUR")
    assert verdict["status"] == "compliant"
    assert verdict["actions"] == []
    assert "attested worker-owned (registry id FR-42, valid until 2099-12-31)" in verdict["reason"]


def test_ppl_commercial_production_without_an_attestation_needs_review(produce):
    verdict = produce("worker-cooperative", "ppl-press", price=400.0, currency="EUR")
    assert verdict["status"] == "needs-review"
    assert "no worker-ownership attestation" in verdict["reason"]
    assert verdict["clause"] == "LicenseRef-PPL §4(b)-(d)"
    assert verdict["actions"][0].startswith("record a worker-ownership attestation")


def test_ppl_production_with_an_expired_attestation_needs_action(produce):
    expired = {**ATTESTED, "valid_from": "2020-01-01", "valid_until": "2024-12-31"}
    verdict = produce("worker-cooperative", "ppl-press", attestations=[expired], price=400.0, currency="EUR")
    assert verdict["status"] == "needs-action"
    assert "attestation has expired (registry id FR-42, expired on 2024-12-31)" in verdict["reason"]
    assert verdict["actions"] == ["renew the worker-ownership attestation (new evidence and valid_until)"]


def test_ppl_an_attestation_does_not_make_a_for_profit_eligible(produce):
    verdict = produce("for-profit", "ppl-press", attestations=[ATTESTED], price=400.0, currency="EUR")
    assert verdict["status"] == "violation"


def test_cern_ohl_s_production_without_source_location_needs_action(produce):
    verdict = produce("for-profit", "ohl-s-dryer", price=90.0, currency="EUR")
    assert verdict["status"] == "needs-action"
    assert "no source location is recorded" in verdict["reason"]
    assert verdict["clause"] == "CERN-OHL-S-2.0 §4"
    with_source = produce("for-profit", "ohl-s-dryer", source_location="https://git.example.org/dryer",
                          notice=True)
    assert with_source["status"] == "compliant"
    no_notice = produce("for-profit", "ohl-s-dryer", source_location="ohl-s-dryer@1.0.0", notice=False)
    assert no_notice["status"] == "needs-action" and no_notice["clause"] == "CERN-OHL-S-2.0 §3.1, §4"
    assert "notice" in no_notice["actions"][0]


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
    produce("worker-cooperative", "ppl-press", attestations=[ATTESTED])
    with db.session() as s:
        assert compliance.audit(s).ok
    produce("for-profit", "nc-lamp")
    with db.session() as s:
        report = compliance.audit(s)
        assert not report.ok
        assert report.counts["violation"] == 1 and report.counts["compliant"] == 1
        assert compliance.stored_counts(s) == report.counts
        assert compliance.refresh_all(s) == 0  # stored verdicts are current
