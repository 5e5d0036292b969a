"""Worker-ownership attestations: validity, challenges and their resolution, the operator's decisions file."""

from __future__ import annotations

import json
from datetime import date

import pytest
import tomli_w
from sqlalchemy import func, select

from opendesign.accounts import PermissionDenied
from opendesign.catalogue.importer import import_designs
from opendesign.cli import main
from opendesign.commons import compliance
from opendesign.commons.ledger import attestations, entries
from opendesign.commons.ledger.decisions import apply_decisions
from opendesign.commons.makers import import_makers
from opendesign.commons.reciprocity import get_maker
from opendesign.models import AttestationChallenge, AuditEvent, Contribution, LedgerReview, User

VALID = {"evidence": "https://registry.example/coops/KE-1", "registry_id": "KE-1", "valid_from": "2026-01-01",
         "valid_until": "2030-12-31"}


@pytest.fixture
def coop(db, make_design):
    make_design("ppl-press", license="LicenseRef-PPL")
    assert import_designs(db, [make_design.root]).ok
    folder = make_design.root / "makers"
    folder.mkdir()

    def write(attestations_: list, contributions: list | None = None):
        (folder / "press-coop.toml").write_text(tomli_w.dumps({
            "slug": "press-coop", "name": "Press Coop", "legal_form": "worker-cooperative", "country": "KE",
            "productions": [{"design": "ppl-press@1.0.0", "price": 100.0, "currency": "KES"}],
            "attestations": attestations_, "contributions": contributions or []}))
        report = import_makers(db, [folder])
        return report

    write.folder = folder
    return write


def verdict(db, on: date | None = None) -> dict:
    with db.session() as s:
        (row,) = compliance.audit(s, on=on).productions
        return row


def test_validity_follows_the_dates(db, coop):
    assert coop([VALID]).ok
    assert verdict(db, date(2027, 6, 1))["verdict"] == "compliant"
    assert verdict(db, date(2031, 1, 1))["verdict"] == "needs-action"  # expired
    assert "expired on 2030-12-31" in verdict(db, date(2031, 1, 1))["reason"]
    assert verdict(db, date(2025, 6, 1))["verdict"] == "needs-review"  # not begun yet
    assert "not valid yet" in verdict(db, date(2025, 6, 1))["reason"]
    with db.session() as s:  # the stored verdict says until when it holds
        detail = s.scalar(select(get_maker(s, "press-coop").__class__)).productions[0].verdict_detail
        assert detail["holds_until"] == "2030-12-31"


def test_a_renewal_is_a_new_attestation_and_removing_one_is_refused(db, coop):
    expired = {**VALID, "valid_from": "2024-01-01", "valid_until": "2025-12-31"}
    assert coop([expired]).ok
    assert verdict(db)["verdict"] == "needs-action"
    assert coop([expired, VALID]).ok
    assert verdict(db)["verdict"] == "compliant"
    report = coop([VALID])
    assert "attestations: attestation" in report.results[0].errors[0]
    assert "stay on record (with their challenges)" in report.results[0].errors[0]


def test_a_challenge_needs_review_until_a_steward_resolves_it(db, coop):
    assert coop([VALID]).ok
    with db.session() as s:
        owner = User(username="designer", email="d@example.org", password_hash="x")
        critic = User(username="critic", email="c@example.org", password_hash="x")
        s.add_all([owner, critic])
        s.flush()
        maker = get_maker(s, "press-coop")
        maker.productions[0].design_version.design.owner_id = owner.id
        (attestation,) = maker.attestations
        with pytest.raises(PermissionDenied, match="sign in"):
            attestations.challenge(s, attestation, "dissolved", user=None)
        found = attestations.challenge(s, attestation, "The registry lists it as dissolved", user=critic)
        compliance.refresh_maker(maker)
        assert maker.productions[0].verdict == "needs-review"
        assert "challenged (challenge" in maker.productions[0].verdict_detail["reason"]
        with pytest.raises(PermissionDenied, match="only a steward of a design this attestation affects"):
            attestations.resolve(s, found, "dismissed", "fine", user=critic)
        with pytest.raises(Exception, match="'maybe' is not allowed"):
            attestations.resolve(s, found, "maybe", "fine", user=owner)
        attestations.resolve(s, found, "upheld", "The registry confirms it", user=owner)
        compliance.refresh_maker(maker)
        assert maker.productions[0].verdict == "needs-review"
        assert "a steward upheld a challenge" in maker.productions[0].verdict_detail["reason"]
        with pytest.raises(entries.LedgerConflict, match="already resolved"):
            attestations.resolve(s, found, "dismissed", "second thoughts", user=owner)
        actions = list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-2:] == ["attestation.challenge", "attestation.resolve"]
    # the maker renews: the new attestation starts clean
    assert coop([VALID, {**VALID, "registry_id": "KE-2"}]).ok
    assert verdict(db)["verdict"] == "compliant"


def test_operator_challenge_and_resolution_from_the_cli(db, coop, runner):
    assert coop([VALID]).ok
    key = json.loads(runner.invoke(main, ["makers", "show", "press-coop", "--json"]).output)["attestations"]["current"]
    result = runner.invoke(main, ["ledger", "challenge", "press-coop", key, "--reason", "no members listed"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(main, ["makers", "check", "--json"]).exit_code == 0
    assert json.loads(runner.invoke(main, ["makers", "check", "--json"]).output)["counts"]["needs-review"] == 1
    with db.session() as s:
        challenge_id = s.scalar(select(AttestationChallenge.id))
    assert runner.invoke(main, ["ledger", "resolve", "press-coop", str(challenge_id), "--reason", "x"]).exit_code == 2
    result = runner.invoke(main, ["ledger", "resolve", "press-coop", str(challenge_id), "--dismissed",
                                  "--reason", "members are listed on page 2"])
    assert result.exit_code == 0 and "dismissed" in result.output
    shown = runner.invoke(main, ["makers", "show", "press-coop"]).output
    assert "worker-ownership attestation: valid (registry id KE-1, valid until 2030-12-31)" in shown


def test_the_decisions_file_applies_each_decision_once(db, coop):
    assert coop([VALID], [{"design": "ppl-press", "kind": "money", "amount": 500, "currency": "KES",
                           "date": "2026-03-01", "evidence": "https://x.example/r/1"},
                          {"design": "ppl-press", "kind": "hours", "amount": 2, "date": "2026-03-02",
                           "evidence": "https://x.example/r/2"}]).ok
    with db.session() as s:
        money, hours = (c.entry_id for c in s.scalars(select(Contribution).order_by(Contribution.id)))
        key = get_maker(s, "press-coop").attestations[0].key
    path = coop.folder / "_stewardship.toml"
    path.write_text(tomli_w.dumps({
        "reviews": [{"entry": money, "action": "confirm"},
                    {"entry": hours, "action": "dispute", "reason": "no such pull request"}],
        "challenges": [{"maker": "press-coop", "attestation": key, "reason": "registry offline",
                        "resolution": {"outcome": "dismissed", "reason": "back online"}}]}))
    first = apply_decisions(db, path)
    assert first.ok and (first.applied, first.unchanged) == (3, 0)
    again = apply_decisions(db, path)
    assert (again.applied, again.unchanged) == (0, 3)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(LedgerReview)) == 2
        states = {c.entry_id: entries.state(c) for c in s.scalars(select(Contribution))}
    assert states == {money: "confirmed", hours: "disputed"}
    # a bad decision names the file and field, and nothing of the file is applied
    path.write_text(tomli_w.dumps({"reviews": [{"entry": "0" * 16, "action": "confirm"},
                                               {"entry": money, "action": "approve"}]}))
    bad = apply_decisions(db, path)
    assert bad.errors == [f"{path}: reviews[1].action: Input should be 'confirm' or 'dispute'"]
    path.write_text(tomli_w.dumps({"reviews": [{"entry": money, "action": "dispute"}]}))
    bad = apply_decisions(db, path)
    assert bad.errors == [f"{path}: reviews[0].reason: required: say why the entry is disputed (what the evidence "
                          "does not show)"]
    # a decision the entry already matches (a steward got there first) is skipped, never applied twice
    path.write_text(tomli_w.dumps({"reviews": [{"entry": hours, "action": "dispute", "reason": "other words"}]}))
    assert (apply_decisions(db, path).applied, apply_decisions(db, path).unchanged) == (0, 1)
