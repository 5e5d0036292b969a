"""Accounts: register, log in, log out, API tokens (shown once, hashed, scoped, revocable)."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import select

from opendesign.models import ApiToken, User
from tests.web_support import *  # noqa: F403


def _post(client, url, form_url, data):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, form_url)})


def test_register_logs_in_and_hashes_the_password(client, db):
    r = _post(client, "/account/register", "/account/register",
              {"username": "Lin", "email": "lin@example.org", "password": "kiln otter basalt", "confirm": "kiln otter basalt"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/account")
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == "lin"))
        assert user.password_hash != "kiln otter basalt" and user.password_hash.startswith(("scrypt:", "pbkdf2:"))
    page = client.get("/account").get_data(as_text=True)
    assert "lin@example.org" in page


def test_register_refuses_taken_username_with_the_field_named(client, user):
    r = _post(client, "/account/register", "/account/register",
              {"username": "ada", "email": "new@example.org", "password": "kiln otter basalt", "confirm": "kiln otter basalt"})
    assert r.status_code == 422
    assert "this username or e-mail address cannot be used for a new account" in r.get_data(as_text=True)


def test_register_refuses_bad_email_and_short_password(client):
    r = _post(client, "/account/register", "/account/register",
              {"username": "bob", "email": "not-an-email", "password": "short", "confirm": "short"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Field must be between 8 and 1024 characters long." in html


def test_login_wrong_password_then_right_then_logout(client, user):
    r = _post(client, "/account/login", "/account/login", {"login": "ada", "password": "wrong-password"})
    assert r.status_code == 422
    assert "wrong username/e-mail or password" in r.get_data(as_text=True)
    r = _post(client, "/account/login", "/account/login", {"login": "ada@example.org", "password": PASSWORD})
    assert r.status_code == 302
    assert client.get("/account").status_code == 200
    r = _post(client, "/account/logout", "/account", {})
    assert r.status_code == 302
    assert client.get("/account").status_code == 302  # back to the login page


def test_login_next_cannot_redirect_off_site(client, user):
    token = csrf_token(client, "/account/login")
    r = client.post("/account/login?next=//evil.example/x", data={"login": "ada", "password": PASSWORD,
                                                                   "csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"] == "/account"


def test_account_page_requires_login(client):
    r = client.get("/account")
    assert r.status_code == 302 and "/account/login" in r.headers["Location"]


def test_token_is_shown_once_stored_hashed_and_revocable(logged_in, db, user):
    r = _post(logged_in, "/account/tokens", "/account", {"name": "ci", "scopes": "publish:widget, makers:acme"})
    assert r.status_code == 201
    assert r.headers["Cache-Control"] == "no-store"
    plain = re.search(r'<pre id="new-token"><code>(od_[^<]+)</code>', r.get_data(as_text=True)).group(1)
    with db.session() as s:
        token = s.scalar(select(ApiToken))
        assert token.token_hash == hashlib.sha256(plain.encode()).hexdigest()
        assert plain not in (token.token_hash, token.prefix)
        assert token.scopes == ["makers:acme", "publish:widget"]
        token_id = token.id
    assert plain not in logged_in.get("/account").get_data(as_text=True)  # never shown again
    assert [e.action for e in audit_events(db)] == ["token.create"]

    r = _post(logged_in, f"/account/tokens/{token_id}/revoke", "/account", {})
    assert r.status_code == 302
    r = logged_in.post("/api/v1/designs", data=b"PK", headers={"Authorization": f"Bearer {plain}"})
    assert r.status_code == 401
    assert r.json["error"]["message"] == "a valid API token is required (Authorization: Bearer od_...)"


def test_token_with_unknown_scope_is_refused(logged_in):
    r = _post(logged_in, "/account/tokens", "/account", {"name": "ci", "scopes": "admin:*"})
    assert r.status_code == 422
    assert "unknown scope &#39;admin:*&#39;" in r.get_data(as_text=True)


def test_cannot_revoke_someone_elses_token(logged_in, db, other_user):
    make_token(db, other_user, ["publish:*"])
    with db.session() as s:
        token_id = s.scalar(select(ApiToken.id))
    r = _post(logged_in, f"/account/tokens/{token_id}/revoke", "/account", {})
    assert r.status_code == 404
    with db.session() as s:
        assert s.get(ApiToken, token_id).revoked_at is None
