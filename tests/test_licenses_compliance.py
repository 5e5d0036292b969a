"""Compliance verdicts on makers' productions (no catalogue, no database)."""

from __future__ import annotations

import pytest

from opendesign.licenses.compliance import LEGAL_FORMS, evaluate_production


def verdict(license_expression, legal_form, *, modified=False, modified_source="", attribution=True):
    return evaluate_production(license_expression, legal_form, modified, modified_source, attribution, "dryer@1.0.0")


@pytest.mark.parametrize("lic", ["CC-BY-NC-4.0", "CC-BY-NC-SA-4.0"])
def test_for_profit_selling_non_commercial_design_is_a_violation(lic):
    v = verdict(lic, "for-profit")
    assert v.status == "violation"
    assert v.reason == f"{lic} allows only non-commercial use, and a for-profit company produces for sale"
    assert "§2(a)(1)" in v.clause and v.clause.startswith(lic)
    assert v.actions == ("stop producing this design for sale, or get a separate license from the authors",)
    assert v.design == "dryer@1.0.0"
    assert v.license == lic


def test_for_profit_selling_ppl_design_is_a_violation():
    v = verdict("LicenseRef-PPL", "for-profit")
    assert v.status == "violation"
    assert "only by worker-owned businesses or collectives" in v.reason
    assert v.clause == "LicenseRef-PPL §4(b)-(d)"


def test_worker_cooperative_producing_ppl_design_is_compliant():
    v = verdict("LicenseRef-PPL", "worker-cooperative")
    assert v.status == "compliant"
    assert v.reason.startswith("LicenseRef-PPL allows commercial use by a worker cooperative")
    assert v.clause == "LicenseRef-PPL §4(b)-(d)"
    assert v.actions == ()


def test_worker_cooperative_without_credit_needs_action_on_ppl():
    v = verdict("LicenseRef-PPL", "worker-cooperative", attribution=False)
    assert v.status == "needs-action"
    assert v.actions == ("credit the authors",)


def test_individual_selling_ppl_design_needs_review():
    v = verdict("LicenseRef-PPL", "individual")
    assert v.status == "needs-review"
    assert "depends on facts the catalogue cannot know" in v.reason
    assert v.actions == (
        "confirm the maker is worker-owned and shares all gain among its worker-owners, "
        "or that the production is non-commercial",
    )


@pytest.mark.parametrize("form", ["social-enterprise", "non-profit"])
def test_social_enterprise_and_non_profit_with_nc_need_review(form):
    v = verdict("CC-BY-NC-4.0", form)
    assert v.status == "needs-review"
    assert "whether production by" in v.reason and "is primarily commercial" in v.reason


def test_worker_cooperative_selling_nc_design_is_a_violation():
    v = verdict("CC-BY-NC-4.0", "worker-cooperative")
    assert v.status == "violation"
    assert "no exception for worker ownership" in v.reason


@pytest.mark.parametrize(
    "lic", ["CERN-OHL-S-2.0", "CERN-OHL-W-2.0", "CC-BY-SA-4.0", "GPL-3.0-or-later", "TAPR-OHL-1.0"]
)
def test_reciprocal_modified_production_without_source_needs_action(lic):
    v = verdict(lic, "for-profit", modified=True)
    assert v.status == "needs-action"
    assert v.actions == (f"publish the modified source under {lic}",)
    assert "no modified source is recorded" in v.reason


def test_reciprocal_modified_production_with_source_is_compliant():
    v = verdict("CERN-OHL-S-2.0", "for-profit", modified=True, modified_source="https://example.org/src")
    assert v.status == "compliant"
    assert v.actions == ()


def test_cern_s_unmodified_is_compliant_with_product_obligations_noted():
    v = verdict("CERN-OHL-S-2.0", "for-profit")
    assert v.status == "compliant"
    assert v.actions == ()
    assert v.obligations[0] == (
        "CERN-OHL-S-2.0: Give every recipient of a product the complete source, or tell them where to get it (§4)."
    )
    assert v.clause == "CERN-OHL-S-2.0 §4, §1.8"


def test_missing_attribution_needs_action():
    v = verdict("CC-BY-4.0", "for-profit", attribution=False)
    assert v.status == "needs-action"
    assert v.actions == ("credit the authors",)
    assert v.reason == "CC-BY-4.0 requires crediting the authors, and this maker does not"
    assert v.clause == "CC-BY-4.0 §3(a)(1)"


def test_cc0_needs_no_attribution():
    assert verdict("CC0-1.0", "for-profit", attribution=False, modified=True).status == "compliant"


@pytest.mark.parametrize("form", LEGAL_FORMS)
def test_modified_production_of_nd_design_is_a_violation(form):
    v = verdict("CC-BY-ND-4.0", form, modified=True, modified_source="https://example.org/src")
    assert v.status == "violation"
    assert v.reason == "CC-BY-ND-4.0 forbids sharing modified versions, and this production is of a modified design"
    assert v.clause == "CC-BY-ND-4.0 §2(a)(1)(B)"


def test_unmodified_production_of_nd_design_is_compliant():
    assert verdict("CC-BY-ND-4.0", "for-profit").status == "compliant"


def test_or_expression_uses_the_most_favourable_option():
    v = verdict("CC-BY-NC-4.0 OR MIT", "for-profit")
    assert v.status == "compliant"
    assert v.option == "MIT"
    assert v.reason.startswith("relying on the MIT option of CC-BY-NC-4.0 OR MIT:")


def test_or_expression_with_ppl_option_serves_a_cooperative():
    v = verdict("CC-BY-NC-SA-4.0 OR LicenseRef-PPL", "worker-cooperative")
    assert v.status == "compliant"
    assert v.option == "LicenseRef-PPL"


def test_and_expression_applies_every_part():
    v = verdict("CERN-OHL-S-2.0 AND CC-BY-NC-4.0", "for-profit", modified=True, attribution=False)
    assert v.status == "violation"
    assert v.reason.startswith("CC-BY-NC-4.0 allows only non-commercial use")
    assert v.actions[0] == "stop producing this design for sale, or get a separate license from the authors"
    assert set(v.actions[1:]) == {"credit the authors", "publish the modified source under CERN-OHL-S-2.0"}


def test_and_expression_without_violation_collects_every_action():
    v = verdict("CERN-OHL-S-2.0 AND CC-BY-4.0", "individual", modified=True, attribution=False)
    assert v.status == "needs-action"
    assert set(v.actions) == {"credit the authors", "publish the modified source under CERN-OHL-S-2.0"}


def test_review_outranks_action():
    v = verdict("LicenseRef-PPL", "individual", modified=True, attribution=False)
    assert v.status == "needs-review"
    assert v.actions[1:] == ("publish the modified source under LicenseRef-PPL", "credit the authors")


def test_unregistered_license_needs_review():
    v = verdict("BSD-4-Clause", "individual")
    assert v.status == "needs-review"
    assert "no rules for BSD-4-Clause" in v.reason


def test_unknown_legal_form_is_refused():
    with pytest.raises(ValueError, match="unknown legal form 'llc'"):
        verdict("MIT", "llc")
