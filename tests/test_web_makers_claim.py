"""Maker accounts: register an organisation, claim productions, record contributions (forms and API)."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from sqlalchemy import func, select

from opendesign.models import Contribution, Maker, Production
from tests.web_support import *  # noqa: F403

ORG = {"slug": "acme-works", "name": "Acme Works", "legal_form": "for-profit", "country": "DE",
       "website": "https://acme.example", "description": "Sells what it makes."}


@pytest.fixture
def designs(db, make_design):
    import_folder_paths(db, make_design("widget"),
                        make_design("nc-lamp", license="CC-BY-NC-4.0"),
                        make_design("ppl-chair", license="LicenseRef-PPL"))


def _text(r) -> str:
    return htmllib.unescape(r.get_data(as_text=True))


def _post_form(client, page: str, url: str, data: dict, prefix: str = ""):
    token = _csrf_token_any(client, page)
    return client.post(url, data={f"{prefix}csrf_token": token, **{f"{prefix}{k}": v for k, v in data.items()}})


def _csrf_token_any(client, url: str) -> str:
    """The page's CSRF token, whatever the form's prefix (one token serves every form of a session)."""
    html = client.get(url).get_data(as_text=True)
    m = re.search(r'name="(?:[a-z]+-)?csrf_token"(?: type="hidden")? value="([^"]+)"', html)
    assert m, f"no CSRF token on {url}"
    return m.group(1)


def _register(client, **overrides):
    return _post_form(client, "/account/makers/new", "/account/makers/new", {**ORG, **overrides})


def _claim(client, slug="acme-works", **data):
    fields = {"design": "widget@1.0.0", "attribution": "y", **data}
    return _post_form(client, f"/makers/{slug}", f"/makers/{slug}/productions", fields, "production-")


def _contribute(client, slug="acme-works", **data):
    fields = {"design": "widget", "kind": "money", "amount": "250", "currency": "EUR", "date": "2026-05-01",
              "evidence": "https://opencollective.example/widget/transactions/9", "note": "for the next batch", **data}
    return _post_form(client, f"/makers/{slug}", f"/makers/{slug}/contributions", fields, "contribution-")


def _field_error(page: str, field_id: str) -> str:
    """The error shown next to field *field_id* (the field macro's ``<small id="...-err">``)."""
    start = page.index(f'id="{field_id}-err"')
    return page[page.index(">", start) + 1:page.index("</small>", start)]


def _count(db, model) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.fixture
def acme(logged_in, designs):
    assert _register(logged_in).status_code == 302
    return logged_in


def _api(client, token: str, path: str, body):
    return client.post(f"/api/v1{path}", json=body, headers={"Authorization": f"Bearer {token}"})


# -- registering -------------------------------------------------------------------------------

def test_register_an_organisation(logged_in, db, user):
    r = _register(logged_in)
    assert r.status_code == 302 and r.headers["Location"] == "/makers/acme-works"
    page = _text(logged_in.get("/makers/acme-works"))
    assert "Registered Acme Works." in page and "Registered by ada (you)." in page
    assert 'id="production-form"' in page and 'id="contribution-form"' in page
    with db.session() as s:
        maker = s.scalar(select(Maker).where(Maker.slug == "acme-works"))
        assert (maker.owner_id, maker.country, maker.website, maker.source_hash) == (
            user.id, "DE", "https://acme.example", None)
    assert "Acme Works" in _text(logged_in.get("/makers"))
    assert "Acme Works" in _text(logged_in.get("/account"))
    events = audit_events(db, "maker.register")
    assert [(e.outcome, e.target, e.user_id) for e in events] == [("ok", "acme-works", user.id)]


def test_register_needs_login(client):
    r = client.get("/account/makers/new")
    assert r.status_code == 302 and "/account/login" in r.headers["Location"]


def test_duplicate_slug_is_an_error_next_to_the_field(client, db, user, other_user):
    login_as(client, user)
    assert _register(client).status_code == 302
    login_as(client, other_user)
    r = _register(client, name="Another Acme")
    assert r.status_code == 409
    assert _field_error(_text(r), "slug") == "'acme-works' is taken by another maker; choose another slug"
    assert _count(db, Maker) == 1
    refusal = audit_events(db, "maker.register")[-1]
    assert (refusal.outcome, refusal.user_id, refusal.detail["status"]) == ("refused", other_user.id, 409)


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("country", "XX", "'XX' is not an ISO 3166-1 alpha-2 country code, e.g. 'DE', 'KE', 'BR'"),
    ("country", "de", "'de' is not an ISO 3166-1 alpha-2 country code (did you mean 'DE'?), e.g. 'DE', 'KE', 'BR'"),
    ("legal_form", "llc", "'llc' is not allowed; "),
    ("slug", "Acme Works", "String should match pattern"),
    ("name", " ", "String should have at least 1 character"),
])
def test_invalid_organisation_fields_are_named(logged_in, db, field, value, reason):
    r = _register(logged_in, **{field: value})
    assert r.status_code == 422
    assert reason in _field_error(_text(r), field)
    assert _count(db, Maker) == 0
    assert audit_events(db, "maker.register")[-1].outcome == "refused"


def test_form_without_csrf_token_is_400(logged_in, db, designs):
    r = logged_in.post("/account/makers/new", data=ORG)
    assert r.status_code == 400 and "Form expired or forged" in r.get_data(as_text=True)
    assert _count(db, Maker) == 0
    assert _register(logged_in).status_code == 302
    for path, field in (("productions", "production-design"), ("contributions", "contribution-design")):
        r = logged_in.post(f"/makers/acme-works/{path}", data={field: "widget@1.0.0"})
        assert r.status_code == 400
    assert _count(db, Production) == _count(db, Contribution) == 0


# -- claiming productions ---------------------------------------------------------------------

@pytest.mark.parametrize(("design", "legal_form", "extra", "verdict"), [
    ("nc-lamp@1.0.0", "for-profit", {}, "violation"),
    ("ppl-chair@1.0.0", "for-profit", {}, "violation"),
    # The PPL lets worker-owned businesses sell, but the legal form alone is a self-declaration.
    ("ppl-chair@1.0.0", "worker-cooperative", {}, "needs-review"),
    ("widget@1.0.0", "for-profit", {"source_location": "https://acme.example/widget-src"}, "compliant"),
    # CERN-OHL-S §4: every product comes with its source location.
    ("widget@1.0.0", "for-profit", {}, "needs-action"),
])
def test_claim_shows_the_verdict_at_once(logged_in, db, user, designs, design, legal_form, extra, verdict):
    assert _register(logged_in, legal_form=legal_form).status_code == 302
    r = _claim(logged_in, design=design, price="120", currency="EUR", regions="EU, CH", **extra)
    assert r.status_code == 302 and r.headers["Location"] == "/makers/acme-works"
    page = _text(logged_in.get("/makers/acme-works"))
    assert f"Claimed the production of {design}. Compliance verdict: {verdict}" in page
    assert f'<span class="verdict verdict-{verdict}">{verdict}</span>' in page
    with db.session() as s:
        p = s.scalar(select(Production))
        assert (p.verdict, p.price, p.currency, p.regions) == (verdict, 120.0, "EUR", ["EU", "CH"])
        assert p.verdict_detail["reason"] and p.verdict_detail["clause"]
    event = audit_events(db, "maker.production")[-1]
    assert (event.outcome, event.target, event.user_id) == ("ok", f"acme-works: {design}", user.id)
    assert event.detail["verdict"] == verdict


@pytest.mark.parametrize(("data", "field", "reason"), [
    ({"currency": "EUROS", "price": "10"}, "currency", "'EUROS' is not an ISO 4217 currency code"),
    ({"currency": "eur", "price": "10"}, "currency", "(did you mean 'EUR'?)"),
    ({"price": "-5", "currency": "EUR"}, "price", "must not be negative (got -5)"),
    ({"price": "cheap", "currency": "EUR"}, "price", "must be a number, not str 'cheap'"),
    ({"price": "10"}, "currency", "required when a price is given"),
    ({"regions": "EU, Mars"}, "regions", "'Mars' is neither an ISO 3166-1 alpha-2 country code"),
    ({"design": "widget"}, "design", "must name a version ('widget@1.0.0')"),
    ({"design": "widget@9.9.9"}, "design", "design 'widget' has no version 9.9.9 (published: 1.0.0)"),
    ({"design": "no-such@1.0.0"}, "design", "no design 'no-such' in the catalogue"),
    ({"modified_source": "https://example.org/src"}, "modified_source", "given, but modified = false"),
])
def test_invalid_claims_are_named_next_to_the_field(acme, db, data, field, reason):
    r = _claim(acme, **data)
    assert r.status_code == 422
    page = _text(r)
    assert reason in _field_error(page, f"production-{field}")
    assert "<details id=\"claim-production\" open>" in page
    assert _count(db, Production) == 0
    assert audit_events(db, "maker.production")[-1].outcome == "refused"


def test_non_owner_is_refused(acme, client, db, other_user):
    login_as(acme, other_user)
    page = _text(acme.get("/makers/acme-works"))
    assert 'id="production-form"' not in page and "Registered by ada." in page
    r = _post_form(acme, "/makers", "/makers/acme-works/productions", {"design": "widget@1.0.0"}, "production-")
    assert r.status_code == 403
    assert "only the owner of maker 'acme-works' may record" in _text(r)
    r = _post_form(acme, "/makers", "/makers/acme-works/contributions",
                   {"design": "widget", "kind": "hours", "amount": "3", "date": "2026-05-01"}, "contribution-")
    assert r.status_code == 403
    assert _count(db, Production) == _count(db, Contribution) == 0
    refusals = audit_events(db, "maker.production") + audit_events(db, "maker.contribution")
    assert [(e.outcome, e.user_id, e.detail["status"]) for e in refusals] == [("refused", other_user.id, 403)] * 2


def test_imported_maker_has_no_owner_and_cannot_be_written(logged_in, db, designs, tmp_path):
    from opendesign.commons.makers.importer import import_makers

    (tmp_path / "file-coop.toml").write_text('slug = "file-coop"\nname = "File Coop"\n'
                                             'legal_form = "worker-cooperative"\ncountry = "PT"\n')
    assert import_makers(db, [tmp_path / "file-coop.toml"]).ok
    assert "no account owns it" in _text(logged_in.get("/makers/file-coop"))
    r = _claim(logged_in, slug="file-coop")
    assert r.status_code == 403 and "has no owner account" in _text(r)


# -- contributions and reciprocity ------------------------------------------------------------

def test_contribution_is_claimed_until_confirmed(acme, db):
    from opendesign.commons.ledger import review

    assert _claim(acme).status_code == 302
    page = _text(acme.get("/makers/acme-works"))
    assert "Produces without giving back: widget." in page
    r = _contribute(acme)
    assert r.status_code == 302
    page = _text(acme.get("/makers/acme-works"))
    assert "Recorded a contribution (money) to widget as entry" in page and "claimed, until a steward" in page
    # claimed: shown apart, not counted
    assert "Confirmed: nothing recorded." in page and "Claimed, awaiting a steward of the design: money 250 EUR." in page
    assert "Produces without giving back: widget." in page
    data = acme.get("/api/v1/makers/acme-works").json
    (entry,) = data["contributions"]
    assert (entry["state"], entry["amount"], entry["unit"], entry["evidence"]) == (
        "claimed", "250.00", "EUR", ["https://opencollective.example/widget/transactions/9"])
    assert data["reciprocity"]["gives_back"] is False
    assert data["reciprocity"]["claimed"]["by_kind"]["money"]["totals"] == {"EUR": "250.00"}
    assert entry["note"] == "for the next batch" and data["owner"] == "ada"
    assert audit_events(db, "maker.contribution")[-1].outcome == "ok"
    # the operator confirms it: now it counts
    with db.session() as s:
        review.confirm(s, s.scalar(select(Contribution)), operator=True, via="cli")
    page = _text(acme.get("/makers/acme-works"))
    assert "Confirmed: money 250 EUR." in page and "Gives back to every design it produces." in page
    data = acme.get("/api/v1/makers/acme-works").json
    assert data["reciprocity"]["contributions"]["by_kind"]["money"]["totals"] == {"EUR": "250.00"}


@pytest.mark.parametrize(("data", "field", "reason"), [
    ({"amount": "-3"}, "amount", "must be greater than zero (got -3)"),
    ({"amount": ""}, "amount", "required for kind 'money'"),
    ({"currency": "XYZ"}, "currency", "'XYZ' is not an ISO 4217 currency code"),
    ({"kind": "hours", "currency": "EUR"}, "currency", "not allowed for kind 'hours'"),
    ({"kind": "gift"}, "kind", "'gift' is not allowed;"),
    ({"date": "yesterday"}, "date", "'yesterday' is not a date; write YYYY-MM-DD"),
    ({"date": "2026-02-30"}, "date", "'2026-02-30' is not a calendar date"),
    ({"design": "nothing-here"}, "design", "no design 'nothing-here' in the catalogue"),
])
def test_invalid_contributions_are_named_next_to_the_field(acme, db, data, field, reason):
    r = _contribute(acme, **data)
    assert r.status_code == 422
    assert reason in _field_error(_text(r), f"contribution-{field}")
    assert _count(db, Contribution) == 0


def test_an_improvement_counts_one_without_an_amount(acme, db):
    assert _contribute(acme, kind="improvement", amount="", currency="").status_code == 302
    with db.session() as s:
        assert s.scalar(select(Contribution.amount_minor)) == 1


# -- caches ---------------------------------------------------------------------------------

def test_pages_reflect_claims_immediately(acme):
    # Fill the page caches first: the design page, the home page figures, the maker page.
    assert "No maker has registered a production" in _text(acme.get("/designs/widget"))
    assert "Acme Works" not in _text(acme.get("/"))
    acme.get("/makers/acme-works")
    assert _claim(acme).status_code == 302
    page = _text(acme.get("/designs/widget"))
    assert "Acme Works" in page and "0 of 1 producing maker(s) give back" in page
    assert "widget" in _text(acme.get("/")).split("Most produced")[1][:3000]
    assert _contribute(acme).status_code == 302
    page = _text(acme.get("/designs/widget"))
    assert "0 of 1 producing maker(s) give back" in page and "Claimed, awaiting a steward" in page
    assert "money 250 EUR" in _text(acme.get("/makers/acme-works"))


# -- the API --------------------------------------------------------------------------------

def test_api_register_claim_and_contribute(client, db, user, designs):
    token = make_token(db, user, ["makers:acme-works"])
    r = _api(client, token, "/makers", ORG)
    assert r.status_code == 201, r.json
    assert r.headers["Location"].endswith("/api/v1/makers/acme-works")
    assert r.json["owner"] == "ada" and r.json["productions"] == []
    r = _api(client, token, "/makers/acme-works/productions",
             {"design": "nc-lamp@1.0.0", "price": 40, "currency": "EUR", "regions": ["EU"]})
    assert r.status_code == 201, r.json
    assert r.json["verdict"] == "violation" and "non-commercial" in r.json["reason"] and r.json["clause"]
    r = _api(client, token, "/makers/acme-works/contributions",
             {"design": "nc-lamp", "kind": "hours", "amount": 12, "date": "2026-05-02",
              "evidence": ["https://git.example/nc-lamp/pulls/3"]})
    assert r.status_code == 201, r.json
    assert r.json["state"] == "claimed" and len(r.json["id"]) == 16
    assert r.json["reciprocity"]["gives_back"] is False  # claimed, not confirmed
    assert r.json["reciprocity"]["claimed"]["by_kind"]["hours"]["totals"] == {"hours": "12.00"}
    ok = [(e.action, e.target) for e in audit_events(db) if e.action.startswith("maker.") and e.outcome == "ok"]
    assert ok == [("maker.register", "acme-works"), ("maker.production", "acme-works: nc-lamp@1.0.0"),
                  ("maker.contribution", "acme-works: nc-lamp")]
    assert all(e.token_id is not None for e in audit_events(db) if e.action.startswith("maker."))
    assert "Acme Works" in _text(client.get("/designs/nc-lamp"))


def test_api_wildcard_scope(client, db, user, designs):
    token = make_token(db, user, ["makers:*"])
    assert _api(client, token, "/makers", ORG).status_code == 201
    assert _api(client, token, "/makers/acme-works/productions", {"design": "widget@1.0.0"}).status_code == 201


@pytest.mark.parametrize("path", ["/makers", "/makers/acme-works/productions", "/makers/acme-works/contributions"])
def test_api_token_scoped_to_another_maker_is_403_and_audited(client, db, user, designs, path):
    with db.session() as s:
        s.add(Maker(slug="acme-works", name="Acme Works", legal_form="for-profit", country="DE", owner_id=user.id))
    token = make_token(db, user, ["makers:other-org", "publish:*"])
    body = {"/makers": {**ORG, "slug": "acme-works"},
            "/makers/acme-works/productions": {"design": "widget@1.0.0"},
            "/makers/acme-works/contributions": {"design": "widget", "kind": "hours", "amount": 1,
                                                 "date": "2026-05-01"}}[path]
    r = _api(client, token, path, body)
    assert r.status_code == 403
    assert r.json["error"]["message"].endswith(
        "is not scoped for makers:acme-works (its scopes: makers:other-org, publish:*)")
    refusal = [e for e in audit_events(db) if e.action.startswith("maker.")][-1]
    assert (refusal.outcome, refusal.user_id, refusal.detail["status"]) == ("refused", user.id, 403)
    assert refusal.token_id is not None
    assert _count(db, Production) == _count(db, Contribution) == 0


def test_api_non_owner_is_403(client, db, user, other_user, designs):
    assert _api(client, make_token(db, user, ["makers:*"]), "/makers", ORG).status_code == 201
    r = _api(client, make_token(db, other_user, ["makers:*"]), "/makers/acme-works/productions",
             {"design": "widget@1.0.0"})
    assert r.status_code == 403 and "only the owner" in r.json["error"]["message"]
    assert audit_events(db, "maker.production")[-1].user_id == other_user.id


def test_api_errors_name_the_fields(client, db, user, designs):
    token = make_token(db, user, ["makers:*"])
    r = _api(client, token, "/makers", {**ORG, "country": "XX", "founded": 1999,
                                        "productions": [{"design": "widget@1.0.0"}]})
    assert r.status_code == 422
    fields = r.json["error"]["fields"]
    assert "not an ISO 3166-1 alpha-2 country code" in fields["country"][0]
    assert fields["founded"][0].startswith("unknown field")
    assert fields["productions"][0].startswith("not taken when registering")
    assert _api(client, token, "/makers", ORG).status_code == 201
    r = _api(client, token, "/makers", {**ORG, "name": "Again"})
    assert r.status_code == 409 and "is taken" in r.json["error"]["fields"]["slug"][0]
    r = _api(client, token, "/makers/acme-works/productions", {"design": "widget@1.0.0", "price": "12",
                                                              "currency": "EUROS"})
    assert r.status_code == 422
    assert set(r.json["error"]["fields"]) == {"price", "currency"}
    r = _api(client, token, "/makers/acme-works/contributions", {"design": "widget", "kind": "money",
                                                                "amount": -1, "currency": "EUR",
                                                                "date": "2026-05-01",
                                                                "evidence": "https://x.example/receipt"})
    assert r.status_code == 422 and r.json["error"]["fields"] == {"amount": ["must be greater than zero (got -1)"]}
    r = client.post("/api/v1/makers/acme-works/productions", data="design=widget",
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422 and "JSON object" in r.json["error"]["fields"]["body"][0]
    r = _api(client, token, "/makers/nobody/productions", {"design": "widget@1.0.0"})
    assert r.status_code == 404


def test_api_needs_a_token(client, db, user, designs):
    login_as(client, user)  # a browser session does not authorise the API
    r = client.post("/api/v1/makers", json=ORG)
    assert r.status_code == 401
    assert _count(db, Maker) == 0


def test_openapi_documents_the_maker_endpoints(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["paths"]["/makers"]["post"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/MakerInput"}
    for path in ("/makers", "/makers/{slug}/productions", "/makers/{slug}/contributions"):
        op = doc["paths"][path]["post"]
        assert "makers:<slug>" in op["description"] and op["security"] == [{"token": []}]
        assert "403" in op["responses"]
    assert doc["components"]["schemas"]["ContributionInput"]["properties"]["kind"]["enum"] == [
        "money", "improvement", "hours", "hardware"]
