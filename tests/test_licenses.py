"""The license registry and SPDX expression semantics."""

from __future__ import annotations

import dataclasses

import pytest

from opendesign.licenses import expressions, registry, spdx
from opendesign.licenses.model import COMMERCIAL_RULES, FAMILIES, License

REQUIRED = [
    "CERN-OHL-S-2.0",
    "CERN-OHL-W-2.0",
    "CERN-OHL-P-2.0",
    "TAPR-OHL-1.0",
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "CC-BY-NC-4.0",
    "CC-BY-NC-SA-4.0",
    "CC-BY-ND-4.0",
    "CC0-1.0",
    "GPL-3.0-or-later",
    "MIT",
    "Apache-2.0",
    "LicenseRef-PPL",
]


@pytest.mark.parametrize("license_id", REQUIRED)
def test_registry_covers_required_license(license_id):
    lic = registry.get(license_id)
    assert lic.id == license_id
    assert lic.family in FAMILIES
    assert lic.commercial_use in COMMERCIAL_RULES
    assert lic.name and lic.url.startswith("https://")


@pytest.mark.parametrize("lic", registry.all_licenses(), ids=lambda lic: lic.id)
def test_every_registry_license_parses_as_spdx(lic):
    assert spdx.normalise_expression(lic.id) == lic.id


@pytest.mark.parametrize("lic", registry.all_licenses(), ids=lambda lic: lic.id)
def test_compatible_ids_are_valid_spdx(lic):
    for other in lic.compatible:
        assert spdx.normalise_expression(other) == other


@pytest.mark.parametrize("lic", registry.all_licenses(), ids=lambda lic: lic.id)
def test_every_rule_cites_its_clause(lic):
    if lic.share_alike:
        assert lic.clauses.get("share_alike")
    if not lic.derivatives_allowed:
        assert lic.clauses.get("derivatives")
    if lic.commercial_use != "allowed":
        assert lic.clauses.get("commercial_use")
    if lic.attribution_required:
        assert lic.clauses.get("attribution")
    if lic.compatible:
        assert lic.clauses.get("compatible")


def test_families_are_the_six_from_the_issue():
    assert set(registry.families()) == {
        "permissive",
        "weakly-reciprocal",
        "strongly-reciprocal",
        "non-commercial",
        "no-derivatives",
        "copyfair",
    }


def test_family_assignments():
    assert registry.get("CERN-OHL-W-2.0").family == "weakly-reciprocal"
    assert registry.get("CERN-OHL-S-2.0").family == "strongly-reciprocal"
    assert registry.get("CC-BY-NC-SA-4.0").family == "non-commercial"
    assert registry.get("CC-BY-ND-4.0").family == "no-derivatives"
    assert registry.get("LicenseRef-PPL").family == "copyfair"
    assert [lic.id for lic in registry.all_licenses("copyfair")] == ["LicenseRef-PPL"]


def test_ppl_terms():
    ppl = registry.get("LicenseRef-PPL")
    assert ppl.url == "https://wiki.p2pfoundation.net/Peer_Production_License"
    assert ppl.commercial_use == "worker-owned-only"
    assert ppl.share_alike and ppl.attribution_required and ppl.derivatives_allowed


def test_compatible_lists_are_one_way():
    assert "GPL-3.0-or-later" in registry.get("CC-BY-SA-4.0").compatible
    assert "CC-BY-SA-4.0" not in registry.get("GPL-3.0-or-later").compatible
    assert "CERN-OHL-S-2.0" in registry.get("CERN-OHL-W-2.0").compatible
    assert "CERN-OHL-W-2.0" not in registry.get("CERN-OHL-S-2.0").compatible


def test_cern_ohl_s_product_obligation_cites_section_4():
    obligations = registry.get("CERN-OHL-S-2.0").product_obligations
    assert any("complete source" in o and "(§4)" in o for o in obligations)


def test_get_unknown_license_raises_key_error_with_clear_message():
    with pytest.raises(KeyError) as excinfo:
        registry.get("BSD-4-Clause")
    assert isinstance(excinfo.value, registry.UnknownLicense)
    assert "no license rules for 'BSD-4-Clause'" in str(excinfo.value)
    assert "CERN-OHL-S-2.0" in str(excinfo.value)


def test_get_is_case_insensitive():
    assert registry.get("cc-by-sa-4.0").id == "CC-BY-SA-4.0"


def test_known_license_refs_come_from_the_registry():
    assert registry.known_license_refs() == {"LicenseRef-PPL"}
    assert spdx.normalise_expression("LicenseRef-PPL") == "LicenseRef-PPL"
    with pytest.raises(spdx.LicenseExpressionError):
        spdx.parse("LicenseRef-Unknown")


def test_license_is_frozen_and_hashable():
    lic = registry.get("MIT")
    with pytest.raises(dataclasses.FrozenInstanceError):
        lic.id = "X"  # type: ignore[misc]
    assert hash(lic) == hash(registry.get("MIT"))


def test_license_data_is_validated():
    with pytest.raises(ValueError, match="family"):
        License(
            id="X", name="X", url="https://x", family="viral",
            attribution_required=False, share_alike=False, derivatives_allowed=True, commercial_use="allowed",
        )


# -- expressions ---------------------------------------------------------------


def test_options_of_or_and_and():
    assert expressions.options("MIT OR (Apache-2.0 AND CC-BY-4.0)") == [
        frozenset({"MIT"}),
        frozenset({"Apache-2.0", "CC-BY-4.0"}),
    ]
    assert set(expressions.options("(MIT OR CC-BY-4.0) AND CERN-OHL-S-2.0")) == {
        frozenset({"MIT", "CERN-OHL-S-2.0"}),
        frozenset({"CC-BY-4.0", "CERN-OHL-S-2.0"}),
    }


def test_with_exception_uses_base_license_terms():
    assert expressions.options("GPL-3.0-or-later WITH Classpath-exception-2.0") == [frozenset({"GPL-3.0-or-later"})]
    terms = expressions.effective_terms("GPL-3.0-or-later WITH Classpath-exception-2.0")
    assert terms.share_alike == ("GPL-3.0-or-later",)


def test_and_takes_every_obligation_and_the_strictest_commercial_rule():
    terms = expressions.effective_terms("CERN-OHL-S-2.0 AND CC-BY-NC-4.0")
    assert terms.commercial_use == "non-commercial"
    assert terms.share_alike == ("CERN-OHL-S-2.0",)
    assert terms.attribution_required
    assert terms.product_obligations == registry.get("CERN-OHL-S-2.0").product_obligations


def test_and_with_nd_forbids_derivatives():
    assert not expressions.effective_terms("MIT AND CC-BY-ND-4.0").derivatives_allowed


def test_or_takes_the_most_favourable_choice():
    terms = expressions.effective_terms("CC-BY-NC-4.0 OR LicenseRef-PPL OR MIT")
    assert terms.commercial_use == "allowed"
    assert terms.share_alike == ()
    assert expressions.effective_terms("CC-BY-ND-4.0 OR CC-BY-SA-4.0").derivatives_allowed
    assert not expressions.effective_terms("MIT OR CC0-1.0").attribution_required


def test_or_of_share_alike_options_keeps_both_choices():
    terms = expressions.effective_terms("CERN-OHL-S-2.0 OR CC-BY-SA-4.0")
    assert set(terms.share_alike) == {"CERN-OHL-S-2.0", "CC-BY-SA-4.0"}


def test_terms_report_unregistered_licenses():
    terms = expressions.effective_terms("MIT AND BSD-4-Clause")
    assert terms.unknown == ("BSD-4-Clause",)


def test_invalid_expression_raises():
    with pytest.raises(spdx.LicenseExpressionError):
        expressions.options("MIT AND")
