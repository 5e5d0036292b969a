"""License compatibility along derivation edges (no catalogue, no database)."""

from __future__ import annotations

import pytest

from opendesign.errors import LicenseConflict
from opendesign.licenses.compatibility import (
    ParentRef,
    allowance,
    allowed_licenses,
    check_derivative,
    default_license,
    require_derivative,
)


def parent(license_expression, slug="base", version="1.0.0"):
    return ParentRef(slug, version, license_expression)


def test_share_alike_parent_refuses_permissive_child_with_full_explanation():
    problems = check_derivative("MIT", [parent("CC-BY-SA-4.0", "solar-dryer", "1.2.0")])
    assert len(problems) == 1
    problem = problems[0]
    assert problem.parent == "solar-dryer@1.2.0"
    assert problem.parent_license == "CC-BY-SA-4.0"
    assert problem.child_license == "MIT"
    assert problem.kind == "share-alike"
    assert "derivatives must keep CC-BY-SA-4.0" in problem.rule
    assert "§3(b)(1)" in problem.clause
    assert problem.allowed == ("CC-BY-SA-4.0", "GPL-3.0-or-later", "GPL-3.0-only")
    message = str(problem)
    assert message.startswith("solar-dryer@1.2.0 is licensed CC-BY-SA-4.0: derivatives must keep CC-BY-SA-4.0")
    assert "Allowed for this derivative: CC-BY-SA-4.0, GPL-3.0-or-later, GPL-3.0-only." in message


def test_same_license_is_allowed():
    for lic in ("CERN-OHL-S-2.0", "CC-BY-SA-4.0", "TAPR-OHL-1.0", "LicenseRef-PPL", "CC-BY-NC-SA-4.0"):
        assert check_derivative(lic, [parent(lic)]) == []


def test_by_sa_to_gpl_is_one_way():
    assert check_derivative("GPL-3.0-or-later", [parent("CC-BY-SA-4.0")]) == []
    problems = check_derivative("CC-BY-SA-4.0", [parent("GPL-3.0-or-later", "firmware", "2.0.0")])
    assert [p.kind for p in problems] == ["share-alike"]
    assert problems[0].parent == "firmware@2.0.0"
    assert "GPL-3.0-or-later §5(c)" in problems[0].clause
    assert problems[0].allowed == ("GPL-3.0-or-later", "GPL-3.0-only")


def test_cern_weak_parent_allows_strong_child_but_not_the_reverse():
    assert check_derivative("CERN-OHL-S-2.0", [parent("CERN-OHL-W-2.0")]) == []
    problems = check_derivative("CERN-OHL-W-2.0", [parent("CERN-OHL-S-2.0")])
    assert len(problems) == 1
    assert problems[0].allowed == ("CERN-OHL-S-2.0",)
    assert problems[0].detail == "CERN-OHL-W-2.0 is a different license"


def test_no_derivatives_parent_refuses_every_fork():
    nd = parent("CC-BY-ND-4.0", "poster", "1.0.0")
    for child in ("CC-BY-ND-4.0", "CC-BY-4.0", "CC0-1.0"):
        problems = check_derivative(child, [nd])
        assert [p.kind for p in problems] == ["no-derivatives"]
        assert problems[0].rule == "CC-BY-ND-4.0 forbids sharing derivatives at all"
        assert problems[0].clause == "CC-BY-ND-4.0 §2(a)(1)(B)"
        assert problems[0].allowed == ()
    assert allowed_licenses([nd]) == []
    assert "poster@1.0.0 is licensed CC-BY-ND-4.0" in allowance([nd]).reason
    with pytest.raises(LicenseConflict, match="forbids sharing derivatives"):
        default_license([nd])


def test_non_commercial_stays_non_commercial():
    nc = parent("CC-BY-NC-4.0")
    assert allowed_licenses([nc]) == ["CC-BY-NC-4.0", "CC-BY-NC-SA-4.0"]
    for child in ("CC-BY-4.0", "MIT", "LicenseRef-PPL"):
        problems = check_derivative(child, [nc])
        assert [p.kind for p in problems] == ["non-commercial"]
        assert "derivatives must stay non-commercial" in problems[0].rule
        assert problems[0].detail == f"{child} allows commercial use that CC-BY-NC-4.0 forbids"


def test_nc_sa_parent_requires_nc_sa_child():
    nc_sa = parent("CC-BY-NC-SA-4.0")
    assert allowed_licenses([nc_sa]) == ["CC-BY-NC-SA-4.0"]
    problems = check_derivative("CC-BY-NC-4.0", [nc_sa])
    assert [p.kind for p in problems] == ["non-commercial"]
    assert problems[0].rule == "derivatives must stay non-commercial and keep CC-BY-NC-SA-4.0"


def test_ppl_child_must_be_ppl():
    ppl = parent("LicenseRef-PPL", "coop-oven", "3.0.0")
    assert allowed_licenses([ppl]) == ["LicenseRef-PPL"]
    for child in ("CC-BY-NC-SA-4.0", "CC-BY-SA-4.0", "MIT"):
        problems = check_derivative(child, [ppl])
        assert [p.kind for p in problems] == ["copyfair"]
        assert "derivatives must keep LicenseRef-PPL" in problems[0].rule
        assert problems[0].allowed == ("LicenseRef-PPL",)


def test_permissive_parents_allow_anything():
    for lic in ("MIT", "CC0-1.0", "CC-BY-4.0", "CERN-OHL-P-2.0", "Apache-2.0"):
        assert check_derivative("CC-BY-NC-ND-4.0", [parent(lic)]) == []
        assert check_derivative("CERN-OHL-S-2.0", [parent(lic)]) == []


def test_multi_parent_impossible_is_said_explicitly():
    parents = [parent("CERN-OHL-S-2.0", "frame", "1.0.0"), parent("CC-BY-SA-4.0", "panel", "2.0.0")]
    assert allowed_licenses(parents) == []
    reason = allowance(parents).reason
    assert reason.startswith("no license satisfies every parent together")
    assert "frame@1.0.0 (CERN-OHL-S-2.0) accepts only CERN-OHL-S-2.0" in reason

    for child in ("CERN-OHL-S-2.0", "CC-BY-SA-4.0", "CERN-OHL-S-2.0 AND CC-BY-SA-4.0"):
        problems = check_derivative(child, parents)
        assert problems[0].kind == "incompatible-parents"
        assert problems[0].parent == "frame@1.0.0 + panel@2.0.0"
        assert problems[0].parent_license == "CERN-OHL-S-2.0 + CC-BY-SA-4.0"
        assert "no license satisfies every parent together" in problems[0].message
    # Each failing parent still gets its own problem naming what it alone accepts.
    problems = check_derivative("CERN-OHL-S-2.0", parents)
    assert [p.parent for p in problems[1:]] == ["panel@2.0.0"]
    assert problems[1].allowed == ()
    assert problems[1].allowed_by_parent == ("CC-BY-SA-4.0", "GPL-3.0-or-later", "GPL-3.0-only")
    assert "but no license satisfies every parent" in problems[1].message


def test_multi_parent_possible_needs_every_parent():
    parents = [parent("MIT", "a"), parent("CERN-OHL-W-2.0", "b"), parent("CERN-OHL-S-2.0", "c")]
    assert allowed_licenses(parents) == ["CERN-OHL-S-2.0"]
    problems = check_derivative("CERN-OHL-W-2.0", parents)
    assert [(p.parent, p.kind) for p in problems] == [("c@1.0.0", "share-alike")]
    assert problems[0].allowed == ("CERN-OHL-S-2.0",)


def test_or_parent_lets_the_deriver_choose():
    assert check_derivative("MIT", [parent("MIT OR CC-BY-SA-4.0")]) == []
    problems = check_derivative("MIT", [parent("CERN-OHL-S-2.0 OR CC-BY-SA-4.0")])
    assert len(problems) == 1
    assert problems[0].rule.startswith("each option binds derivatives")
    assert "CERN-OHL-S-2.0" in problems[0].allowed and "CC-BY-SA-4.0" in problems[0].allowed


def test_or_child_must_satisfy_parent_under_every_option():
    problems = check_derivative("CC-BY-SA-4.0 OR MIT", [parent("CC-BY-SA-4.0")])
    assert [p.kind for p in problems] == ["share-alike"]
    assert problems[0].child_license == "CC-BY-SA-4.0 OR MIT"
    assert check_derivative("CC-BY-SA-4.0 OR GPL-3.0-or-later", [parent("CC-BY-SA-4.0")]) == []


def test_and_parent_binds_every_part():
    parents = [parent("CERN-OHL-S-2.0 AND CC-BY-4.0")]
    assert check_derivative("CERN-OHL-S-2.0", parents) == []
    assert [p.kind for p in check_derivative("CC-BY-4.0", parents)] == ["share-alike"]


def test_and_child_may_add_only_permissive_terms_to_share_alike():
    assert check_derivative("CC-BY-SA-4.0 AND MIT", [parent("CC-BY-SA-4.0")]) == []
    problems = check_derivative("CC-BY-SA-4.0 AND CC-BY-NC-4.0", [parent("CC-BY-SA-4.0")])
    assert problems[0].detail == "CC-BY-NC-4.0 would add terms that CC-BY-SA-4.0 does not allow"


def test_with_exception_child_counts_as_its_base_license():
    assert check_derivative("GPL-3.0-or-later WITH Classpath-exception-2.0", [parent("CC-BY-SA-4.0")]) == []


def test_unregistered_parent_license_blocks_with_reason():
    problems = check_derivative("MIT", [parent("BSD-4-Clause")])
    assert [p.kind for p in problems] == ["unknown-license"]
    assert "no rules for BSD-4-Clause" in problems[0].rule


def test_default_license_keeps_the_parents_own():
    assert default_license([parent("CERN-OHL-S-2.0")]) == "CERN-OHL-S-2.0"
    assert default_license([parent("MIT OR CC-BY-SA-4.0")]) == "MIT OR CC-BY-SA-4.0"
    # The first parent's own is not allowed by the second; the second's is by both.
    assert default_license([parent("CERN-OHL-W-2.0", "a"), parent("CERN-OHL-S-2.0", "b")]) == "CERN-OHL-S-2.0"
    assert default_license([parent("CC-BY-SA-4.0", "a"), parent("GPL-3.0-or-later", "b")]) == "GPL-3.0-or-later"


def test_default_license_for_impossible_parents_raises():
    with pytest.raises(LicenseConflict, match="no license satisfies every parent together"):
        default_license([parent("CERN-OHL-S-2.0", "a"), parent("CC-BY-SA-4.0", "b")])


def test_require_derivative_raises_license_conflict_with_problems():
    with pytest.raises(LicenseConflict) as excinfo:
        require_derivative("MIT", [parent("CC-BY-SA-4.0", "solar-dryer", "1.2.0")])
    assert str(excinfo.value).startswith("license MIT is not allowed:\n- solar-dryer@1.2.0 is licensed CC-BY-SA-4.0")
    assert [p.kind for p in excinfo.value.problems] == ["share-alike"]
    require_derivative("CC-BY-SA-4.0", [parent("CC-BY-SA-4.0")])


def test_no_parents_means_no_constraint():
    assert check_derivative("MIT", []) == []
    assert "MIT" in allowed_licenses([])
