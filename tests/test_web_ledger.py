"""The reciprocity ledger on the web and through the API: stewards review, attestations are challenged."""

from __future__ import annotations

import html as htmllib
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from opendesign.models import Attestation, Contribution, Design, LedgerReview, User
from tests.web_support import *  # noqa: F403

RECENT = (date.today() - timedelta(days=10)).isoformat()
URL = "https://opencollective.example/widget/transactions/77"
ORG = {"slug": "acme-works", "name": "Acme Works", "legal_form": "worker-cooperative", "country": "DE"}


def _text(r) -> str:
    return htmllib.unescape(r.get_data(as_text=True))


def _csrf(client, url: str) -> str:
    m = re.search(r'name="(?:[a-z]+-)?csrf_token"(?: type="hidden")? value="([^"]+)"', client.get(url).get_data(
        as_text=True))
    assert m, f"no CSRF token on {url}"
    return m.group(1)


def _post(client, page: str, url: str, data: dict):
    return client.post(url, data={"csrf_token": _csrf(client, page), **data})


def _api(client, token: str | None, path: str, body=None, method: str = "post"):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return getattr(client, method)(f"/api/v1{path}", json=body, headers=headers)


def _make_user(db, name: str) -> User:
    from opendesign.accounts import register

    with db.session() as s:
        return register(s, name, f"{name}@example.org", PASSWORD)


@pytest.fixture
def ledger(db, make_design, user, other_user):
    """ada owns widget (and its derivative widget-fork); grace's maker acme-works claimed 120 EUR to widget-fork."""
    import_folder_paths(db, make_design("widget"), make_design("ppl-chair", license="LicenseRef-PPL"))
    import_folder_paths(db, make_design("widget-fork", derived_from=["widget@1.0.0"],
                                        reciprocity={"upstream_share": 0.25}))
    with db.session() as s:
        for design in s.scalars(select(Design)):
            design.owner_id = user.id
    return {"maker_token": make_token(db, other_user, ["makers:acme-works"])}


@pytest.fixture
def claimed(client, db, ledger):
    assert _api(client, ledger["maker_token"], "/makers", ORG).status_code == 201
    r = _api(client, ledger["maker_token"], "/makers/acme-works/productions",
             {"design": "widget-fork@1.0.0", "source_location": "widget-fork@1.0.0"})
    assert r.status_code == 201, r.json
    r = _api(client, ledger["maker_token"], "/makers/acme-works/contributions",
             {"design": "widget-fork", "kind": "money", "amount": 120, "currency": "EUR", "date": RECENT,
              "evidence": [URL], "note": "batch share"})
    assert r.status_code == 201, r.json
    return r.json["id"]


# -- reviews on the web ---------------------------------------------------------------------------

def test_a_steward_confirms_from_the_design_page(client, db, user, claimed):
    login_as(client, user)
    page = _text(client.get("/designs/widget-fork"))
    assert "Claimed, awaiting a steward" in page and f'action="/ledger/{claimed}/confirm"' in page
    r = _post(client, "/designs/widget-fork", f"/ledger/{claimed}/confirm", {"next": "/designs/widget-fork#ledger"})
    assert r.status_code == 302 and r.headers["Location"] == "/designs/widget-fork#ledger"
    page = _text(client.get("/designs/widget-fork"))
    assert f"Entry {claimed} confirmed: acme-works → widget-fork." in page
    assert "1 of 1 producing maker(s) give back" in page and "money 120 EUR" in page
    assert "widget@1.0.0</a>: 30 EUR: 25% of a 120 EUR contribution to widget-fork" in page
    # qualified: compliant and a confirmed contribution this year, listed above the other makers
    assert page.index("Qualified producers") < page.index("Acme Works") < page.index("Contributions back")
    parent = _text(client.get("/designs/widget"))
    assert "30 EUR: 25% of a 120 EUR contribution to widget-fork" in parent
    assert "Qualified producers" not in parent  # acme-works does not produce widget
    (event,) = audit_events(db, "ledger.confirm")
    assert (event.outcome, event.user_id, event.detail["from"], event.detail["to"], event.detail["via"]) == (
        "ok", user.id, "claimed", "confirmed", "web")
    # confirming twice is a clear error
    r = _post(client, f"/ledger/{claimed}", f"/ledger/{claimed}/confirm", {})
    assert r.status_code == 409 and f"entry {claimed} is already confirmed (by ada on " in _text(r)
    assert audit_events(db, "ledger.confirm")[-1].outcome == "refused"


def test_a_non_steward_is_refused_and_audited(client, db, claimed):
    lin = _make_user(db, "lin")
    login_as(client, lin)
    page = _text(client.get("/designs/widget-fork"))
    assert f'action="/ledger/{claimed}/confirm"' not in page
    r = _post(client, f"/ledger/{claimed}", f"/ledger/{claimed}/confirm", {})
    assert r.status_code == 403
    assert "only a steward of design 'widget-fork' may confirm or dispute what makers give back to it" in _text(r)
    (event,) = audit_events(db, "ledger.confirm")
    assert (event.outcome, event.user_id, event.detail["status"]) == ("refused", lin.id, 403)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(LedgerReview)) == 0


def test_a_maker_cannot_review_its_own_entry(client, db, user, other_user, claimed):
    # grace (acme-works' owner) is named a steward of widget-fork by its owner, ada
    login_as(client, user)
    assert _post(client, "/designs/widget-fork", "/designs/widget-fork/stewards", {"username": "grace"}).status_code == 302
    login_as(client, other_user)
    r = _post(client, f"/ledger/{claimed}", f"/ledger/{claimed}/confirm", {})
    assert r.status_code == 403 and "you own maker 'acme-works', which recorded entry" in _text(r)


def test_a_dispute_needs_a_reason_and_shows_it(client, db, user, claimed):
    login_as(client, user)
    r = _post(client, f"/ledger/{claimed}", f"/ledger/{claimed}/dispute", {"reason": "  "})
    assert r.status_code == 422 and "required: say why the entry is disputed" in _text(r)
    r = _post(client, f"/ledger/{claimed}", f"/ledger/{claimed}/dispute", {"reason": "refunded the same day"})
    assert r.status_code == 302
    page = _text(client.get("/makers/acme-works"))
    assert "disputed" in page and "refunded the same day" in page
    assert "Confirmed: nothing recorded." in page
    entry_page = _text(client.get(f"/ledger/{claimed}"))
    assert "Disputed because" in entry_page and "disputed on" in entry_page and "by ada" in entry_page


def test_owners_name_and_remove_stewards(client, db, user, claimed):
    lin = _make_user(db, "lin")
    login_as(client, user)
    r = _post(client, "/designs/widget-fork", "/designs/widget-fork/stewards", {"username": "nobody"})
    assert r.status_code == 422 and "no account 'nobody'" in _text(r)
    assert _post(client, "/designs/widget-fork", "/designs/widget-fork/stewards", {"username": "lin"}).status_code == 302
    r = _post(client, "/designs/widget-fork", "/designs/widget-fork/stewards", {"username": "lin"})
    assert r.status_code == 422 and "lin is already a steward of widget-fork" in _text(r)
    login_as(client, lin)
    assert "widget-fork" in _text(client.get("/account")).split("Designs you steward")[1][:800]
    assert "1 claimed contribution(s) await your review" in _text(client.get("/account"))
    r = _post(client, "/designs/widget-fork", "/designs/widget-fork/stewards", {"username": "grace"})
    assert r.status_code == 403 and "only the owner of design 'widget-fork' may name" in _text(r)
    assert _post(client, f"/ledger/{claimed}", f"/ledger/{claimed}/confirm", {}).status_code == 302
    login_as(client, user)
    assert _post(client, "/designs/widget-fork", "/designs/widget-fork/stewards/lin/remove", {}).status_code == 302
    with db.session() as s:  # what lin reviewed stays on record
        assert s.scalar(select(LedgerReview.actor)) == "lin"
    assert [e.action for e in audit_events(db) if e.action.startswith("steward.") and e.outcome == "ok"] == [
        "steward.add", "steward.remove"]


# -- bad input on the web forms -------------------------------------------------------------------

@pytest.mark.parametrize(("data", "field", "reason"), [
    ({"amount": "-3"}, "amount", "must be greater than zero (got -3)"),
    ({"amount": "NaN"}, "amount", "must be a finite number, not NaN"),
    ({"currency": "XYZ"}, "currency", "'XYZ' is not an ISO 4217 currency code"),
    ({"date": (date.today() + timedelta(days=5)).isoformat()}, "date", "is in the future"),
    ({"evidence": "my word"}, "evidence", "neither an http(s) URL"),
    ({"evidence": ""}, "evidence", "required: a URL (https://...)"),
    ({"corrects": "0123456789abcdef"}, "corrects", "'0123456789abcdef' is not an entry of maker 'acme-works'"),
])
def test_bad_contributions_on_the_form_are_named(client, db, other_user, claimed, data, field, reason):
    login_as(client, other_user)
    fields = {"design": "widget-fork", "kind": "money", "amount": "5", "currency": "EUR", "date": RECENT,
              "evidence": URL, **data}
    r = client.post("/makers/acme-works/contributions",
                    data={"csrf_token": _csrf(client, "/makers/acme-works"),
                          **{f"contribution-{k}": v for k, v in fields.items()}})
    assert r.status_code == 422
    page = _text(r)
    start = page.index('id="contribution-' + field + '-err"')
    assert reason in page[start:page.index("</small>", start)]
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Contribution)) == 1


def test_attestations_on_the_web(client, db, user, other_user, ledger):
    assert _api(client, ledger["maker_token"], "/makers", ORG).status_code == 201
    assert _api(client, ledger["maker_token"], "/makers/acme-works/productions",
                {"design": "ppl-chair@1.0.0", "price": 40, "currency": "EUR"}).json["verdict"] == "needs-review"
    login_as(client, other_user)
    form = {"attestation-evidence": "https://registry.example/acme", "attestation-registry_id": "DE-GEN-1",
            "attestation-valid_from": "2026-01-01", "attestation-valid_until": "2025-06-30"}
    r = client.post("/makers/acme-works/attestations", data={"csrf_token": _csrf(client, "/makers/acme-works"), **form})
    assert r.status_code == 422 and "2025-06-30 is before valid_from 2026-01-01" in _text(r)
    form["attestation-valid_until"] = "2099-12-31"
    r = client.post("/makers/acme-works/attestations", data={"csrf_token": _csrf(client, "/makers/acme-works"), **form})
    assert r.status_code == 302
    page = _text(client.get("/makers/acme-works"))
    assert "Attested worker-owned (registry id DE-GEN-1, valid until 2099-12-31)." in page
    assert "verdict-compliant" in page
    with db.session() as s:
        key = s.scalar(select(Attestation.key))
    # any signed-in account may challenge; the verdict needs review until a steward of ppl-chair resolves it
    lin = _make_user(db, "lin")
    login_as(client, lin)
    r = _post(client, "/makers/acme-works", f"/makers/acme-works/attestations/{key}/challenge", {"reason": ""})
    assert r.status_code == 422 and "required: say what the attestation does not show" in _text(r)
    r = _post(client, "/makers/acme-works", f"/makers/acme-works/attestations/{key}/challenge",
              {"reason": "The registry lists a private limited company"})
    assert r.status_code == 302
    page = _text(client.get("/makers/acme-works"))
    assert "The attestation is challenged: challenge" in page and "verdict-needs-review" in page
    challenge_id = int(re.search(r"Challenge (\d+) by lin", page).group(1))
    r = _post(client, "/makers/acme-works", f"/makers/acme-works/challenges/{challenge_id}/resolve",
              {"outcome": "dismissed", "reason": "wrong entry"})
    assert r.status_code == 403 and "only a steward of a design this attestation affects" in _text(r)
    login_as(client, user)  # ada owns ppl-chair: an affected design
    assert 'class="resolve-form"' in _text(client.get("/makers/acme-works"))
    r = _post(client, "/makers/acme-works", f"/makers/acme-works/challenges/{challenge_id}/resolve",
              {"outcome": "dismissed", "reason": "That entry is another company of the same name"})
    assert r.status_code == 302
    page = _text(client.get("/makers/acme-works"))
    assert "dismissed</strong> by ada" in page and "verdict-compliant" in page
    assert [e.action for e in audit_events(db) if e.action.startswith("attestation.") and e.outcome == "ok"] == [
        "attestation.record", "attestation.challenge", "attestation.resolve"]


# -- the API ---------------------------------------------------------------------------------------

def test_api_reviews_need_a_steward_token(client, db, user, claimed):
    r = _api(client, None, f"/ledger/{claimed}/confirm")
    assert r.status_code == 401
    wrong_scope = make_token(db, user, ["steward:widget"])
    r = _api(client, wrong_scope, f"/ledger/{claimed}/confirm", {})
    assert r.status_code == 403 and "not scoped for steward:widget-fork" in r.json["error"]["message"]
    refusal = audit_events(db, "ledger.confirm")[-1]
    assert (refusal.outcome, refusal.detail["status"]) == ("refused", 403) and refusal.token_id is not None
    lin = _make_user(db, "lin")
    r = _api(client, make_token(db, lin, ["steward:*"]), f"/ledger/{claimed}/confirm", {})
    assert r.status_code == 403 and "only a steward of design 'widget-fork'" in r.json["error"]["message"]

    token = make_token(db, user, ["steward:widget-fork"])
    r = _api(client, token, f"/ledger/{claimed}/dispute", {})
    assert r.status_code == 422 and r.json["error"]["fields"] == {
        "reason": ["required: say why the entry is disputed (what the evidence does not show)"]}
    r = _api(client, token, f"/ledger/{claimed[:8]}/confirm")
    assert r.status_code == 200, r.json
    assert r.json["state"] == "confirmed" and r.json["counts"] is True
    assert r.json["flows"][0]["explanation"] == "30 EUR: 25% of a 120 EUR contribution to widget-fork"
    r = _api(client, token, f"/ledger/{claimed}/confirm", {})
    assert r.status_code == 409 and "is already confirmed" in r.json["error"]["message"]
    r = _api(client, token, f"/ledger/{claimed}/dispute", {"reason": "chargeback"})
    assert r.status_code == 200 and r.json["state"] == "disputed" and r.json["reason"] == "chargeback"
    assert [h["state"] for h in client.get(f"/api/v1/ledger/{claimed}").json["history"]] == ["confirmed", "disputed"]


def test_api_reads_reciprocity_qualified_producers_and_the_export(client, db, user, claimed):
    assert _api(client, make_token(db, user, ["steward:*"]), f"/ledger/{claimed}/confirm").status_code == 200
    data = client.get("/api/v1/designs/widget/reciprocity").json
    assert data["through_derivatives"]["by_kind"]["money"]["totals"] == {"EUR": "30.00"}
    assert data["flows_in"][0]["explanation"] == "30 EUR: 25% of a 120 EUR contribution to widget-fork"
    qualified = client.get("/api/v1/designs/widget-fork/qualified-producers").json["qualified_producers"]
    assert [m["slug"] for m in qualified] == ["acme-works"]
    export = client.get("/api/v1/ledger?maker=acme-works").json
    assert export["count"] == 1 and export["entries"][0]["kept"] == {"widget-fork@1.0.0": "90.00",
                                                                   "widget@1.0.0": "30.00"}
    assert client.get("/api/v1/ledger/zzzzzz").status_code == 404


@pytest.mark.parametrize(("body", "field", "reason"), [
    ({"amount": -1}, "amount", "must be greater than zero (got -1)"),
    ({"amount": float("nan")}, "amount", "must be a finite number, not nan"),
    ({"currency": "EUROS"}, "currency", "'EUROS' is not an ISO 4217 currency code"),
    ({"date": (date.today() + timedelta(days=9)).isoformat()}, "date", "is in the future"),
    ({"evidence": ["https://ok.example/1", "sha256:xyz"]}, "evidence", "[1] 'sha256:xyz' is neither"),
    ({"amount": 1.001}, "amount", "1.001 EUR has more decimal places than EUR has (2)"),
])
def test_api_bad_contributions_are_named(client, db, ledger, claimed, body, field, reason):
    full = {"design": "widget-fork", "kind": "money", "amount": 5, "currency": "EUR", "date": RECENT,
            "evidence": URL, **body}
    r = _api(client, ledger["maker_token"], "/makers/acme-works/contributions", full)
    assert r.status_code == 422
    assert reason in r.json["error"]["fields"][field][0]


def test_api_stewards_attestations_and_challenges(client, db, user, other_user, ledger):
    owner_token = make_token(db, user, ["steward:ppl-chair"])
    r = _api(client, owner_token, "/designs/ppl-chair/stewards", {"username": "grace"})
    assert r.status_code == 201 and [s["username"] for s in r.json["stewards"]] == ["ada", "grace"]
    assert _api(client, make_token(db, other_user, ["steward:*"]), "/designs/ppl-chair/stewards",
                {"username": "ada"}).status_code == 403
    r = _api(client, owner_token, "/designs/ppl-chair/stewards/grace", method="delete")
    assert r.status_code == 200 and [s["username"] for s in r.json["stewards"]] == ["ada"]
    assert _api(client, owner_token, "/designs/ppl-chair/stewards/grace", method="delete").status_code == 404

    assert _api(client, ledger["maker_token"], "/makers", ORG).status_code == 201
    _api(client, ledger["maker_token"], "/makers/acme-works/productions", {"design": "ppl-chair@1.0.0"})
    bad = {"evidence": "registry", "registry_id": "R", "valid_from": "2026-02-01", "valid_until": "2026-01-01"}
    r = _api(client, ledger["maker_token"], "/makers/acme-works/attestations", bad)
    assert r.status_code == 422 and r.json["error"]["fields"] == {
        "evidence": ["'registry' must be an http(s) URL of at most 500 characters"]}
    r = _api(client, ledger["maker_token"], "/makers/acme-works/attestations",
             {**bad, "evidence": "https://registry.example/r"})
    assert r.status_code == 422 and r.json["error"]["fields"] == {
        "valid_until": ["2026-01-01 is before valid_from 2026-02-01"]}
    good = {**bad, "evidence": "https://registry.example/r", "valid_until": "2099-01-01"}
    r = _api(client, ledger["maker_token"], "/makers/acme-works/attestations", good)
    assert r.status_code == 201 and r.json["status"] == "valid"
    key = r.json["recorded"]
    lin = _make_user(db, "lin")
    assert _api(client, make_token(db, lin, ["makers:*"]), f"/makers/acme-works/attestations/{key}/challenges",
                {"reason": "x"}).status_code == 403  # needs a challenge: scope
    r = _api(client, make_token(db, lin, ["challenge:acme-works"]), f"/makers/acme-works/attestations/{key}/challenges",
             {"reason": "dissolved in 2025"})
    assert r.status_code == 201 and r.json["status"] == "challenged"
    assert client.get("/api/v1/makers/acme-works").json["productions"][0]["verdict"] == "needs-review"
    r = _api(client, owner_token, f"/makers/acme-works/challenges/{r.json['challenge']}/resolve",
             {"outcome": "upheld", "reason": "the registry confirms the dissolution"})
    assert r.status_code == 200 and r.json["status"] == "rejected"


def test_openapi_documents_every_api_route(app, client):
    doc = client.get("/api/v1/openapi.json").json
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule[len("/api/v1"):])
        path = path.replace("{entry_id}", "{entry}").replace("{job_id}", "{job_id}").replace(
            "{key}", "{attestation}").replace("{challenge_id}", "{challenge}").replace("{public_id}", "{id}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (path, method.lower()) not in documented:
                missing.append(f"{method} {path}")
    assert missing == []
    confirm = doc["paths"]["/ledger/{entry}/confirm"]["post"]
    assert "steward:<slug>" in confirm["description"] and "409" in confirm["responses"]
    assert "evidence" in doc["components"]["schemas"]["ContributionInput"]["properties"]


@pytest.mark.parametrize(("reciprocity", "field", "reason"), [
    ({"upstream_share": 2}, "reciprocity.upstream_share", "the share must be a number from 0 to 1 (got 2)"),
    ({"weights": {"widget": 0.5}}, "reciprocity.weights", "must add up to 1, not 0.5 (0.5)"),
])
def test_publishing_a_zip_with_bad_reciprocity_is_refused(client, db, user, make_design, reciprocity, field, reason):
    import_folder_paths(db, make_design("widget"))
    folder = make_design("widget-fork", derived_from=["widget@1.0.0"], reciprocity=reciprocity)
    r = client.post("/api/v1/designs", data=zip_folder(folder),
                    headers={"Authorization": f"Bearer {make_token(db, user, ['publish:*'])}",
                             "Content-Type": "application/zip"})
    assert r.status_code == 422
    assert any(key.endswith(field) and reason in " ".join(v) for key, v in r.json["error"]["fields"].items()), r.json
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Design)) == 1
