"""Accounts and pages under attack: brute force, stale cookies, weak passwords, enumeration, headers."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import uuid
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from opendesign.models import UserSession
from tests.web_support import *  # noqa: F403
from web import create_app

TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates"


def _login(client, login: str, password: str):
    return client.post("/account/login", data={"login": login, "password": password,
                                               "csrf_token": csrf_token(client, "/account/login")})


def _register(client, username: str, email: str, password: str = "kiln otter basalt"):
    return client.post("/account/register", data={
        "username": username, "email": email, "password": password, "confirm": password,
        "csrf_token": csrf_token(client, "/account/register")})


# -- brute force --------------------------------------------------------------------------------

def test_the_eleventh_wrong_password_in_a_minute_is_429_even_with_the_right_one(client, user):
    for _ in range(10):
        assert _login(client, "ada", "not the password").status_code == 422
    r = _login(client, "ada", PASSWORD)
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    assert "Too many attempts" in r.get_data(as_text=True)
    assert client.get("/account").status_code == 302  # not logged in


def test_the_limit_counts_failures_only_and_is_per_account(client, user, other_user):
    for _ in range(15):  # right passwords never use the limit up
        assert _login(client, "ada", PASSWORD).status_code == 302
    for _ in range(10):
        assert _login(client, "ada@example.org", "wrong").status_code == 422
    assert _login(client, "ADA@example.org ", PASSWORD).status_code == 429  # however the account is spelt
    assert _login(client, "grace", PASSWORD).status_code == 302  # another account is not locked out


def test_one_address_trying_many_accounts_is_limited(client, user):
    for i in range(20):
        assert _login(client, f"someone{i}", "wrong").status_code == 422
    assert _login(client, "ada", PASSWORD).status_code == 429


@pytest.fixture
def redis_prefix():
    """A key prefix of this test run's own; its keys are removed afterwards (and only they)."""
    prefix = f"opendesign-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    yield prefix
    r = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    for key in r.scan_iter(match=f"*{prefix}*"):
        r.delete(key)


_OTHER_PROCESS = """
import sys
from tests.web_support import csrf_token
from opendesign.config import load_settings
from opendesign.db import Database
from web import create_app
settings = load_settings(broker_url="redis://127.0.0.1:6379/0")
app = create_app({"TESTING": True, "SETTINGS": settings, "MIGRATE": False, "SECRET_KEY": "k",
                  "SERVER_NAME": "localhost", "RATELIMIT_KEY_PREFIX": sys.argv[1]})
client = app.test_client()
codes = [client.post("/account/login", data={"login": "ada", "password": "wrong",
                                             "csrf_token": csrf_token(client, "/account/login")}).status_code
         for _ in range(int(sys.argv[2]))]
print(" ".join(map(str, codes)))
"""


def test_limits_are_shared_through_redis_by_every_process(db, settings, env, user, redis_prefix):
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", _OTHER_PROCESS, redis_prefix, "6"], cwd=repo, env={
        **os.environ, **env, "PYTHONPATH": str(repo)}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["422"] * 6
    shared = settings.model_copy(update={"broker_url": "redis://127.0.0.1:6379/0"})
    app = create_app({"TESTING": True, "SETTINGS": shared, "DATABASE": db, "MIGRATE": False, "SECRET_KEY": "k",
                      "SERVER_NAME": "localhost", "RATELIMIT_KEY_PREFIX": redis_prefix})
    try:
        client = app.test_client()
        for _ in range(4):  # with the other process's six: ten failures for this account
            assert _login(client, "ada", "wrong").status_code == 422
        assert _login(client, "ada", PASSWORD).status_code == 429
        keys = list(redis.Redis.from_url("redis://127.0.0.1:6379/0").scan_iter(match=f"*{redis_prefix}*"))
        assert keys, "the limiter kept nothing in Redis"
    finally:
        app.extensions["opendesign.search"].close()


# -- sessions -----------------------------------------------------------------------------------

def _cookie(client) -> str:
    return client.get_cookie("session").value


def test_a_cookie_saved_before_logout_is_refused_after_it(app, client, db, user):
    assert _login(client, "ada", PASSWORD).status_code == 302
    saved = _cookie(client)
    assert client.get("/account").status_code == 200
    r = client.post("/account/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert r.status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", saved, domain="localhost")
    r = replay.get("/account")
    assert r.status_code == 302 and "/account/login" in r.headers["Location"]
    with db.session() as s:
        assert [row.revoked_at is not None for row in s.scalars(select(UserSession))] == [True]


def test_sessions_are_stored_hashed_and_logout_ends_only_that_one(app, db, user):
    first, second = app.test_client(), app.test_client()
    for c in (first, second):
        assert _login(c, "ada", PASSWORD).status_code == 302
    first.post("/account/logout", data={"csrf_token": csrf_token(first, "/account")})
    assert first.get("/account").status_code == 302
    assert second.get("/account").status_code == 200  # another device stays logged in
    with db.session() as s:
        hashes = [row.token_hash for row in s.scalars(select(UserSession))]
    assert len(hashes) == 2 and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)


def test_a_cookie_of_before_server_side_sessions_is_not_a_login(app, client, user):
    with client.session_transaction() as session:
        session["user_id"] = user.id  # what a cookie held before sessions were recorded
    assert client.get("/account").status_code == 302


# -- passwords and enumeration ------------------------------------------------------------------

@pytest.mark.parametrize("password", ["12345678", "password", "newbie@example.org", "newbie2024"])
def test_common_passwords_are_refused_with_the_reason(client, password):
    r = _register(client, "newbie", "newbie@example.org", password)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Try a few unrelated words" in html


def test_registration_says_the_same_for_a_known_and_an_unknown_email(client, user):
    known = _register(client, "fresh-name", "ada@example.org")
    taken_name = _register(client, "ada", "unknown@example.org")
    assert known.status_code == taken_name.status_code == 422

    def messages(r):
        return re.findall(r'class="error"[^>]*>([^<]+)<', r.get_data(as_text=True))
    assert messages(known) == messages(taken_name) != []
    text = known.get_data(as_text=True)
    assert "e-mail address exists" not in text and "ada@example.org" not in text.split("<form", 1)[0]


def test_login_says_the_same_for_a_wrong_password_and_an_unknown_account(client, user):
    wrong = _login(client, "ada", "not the password").get_data(as_text=True)
    unknown = _login(client, "nobody@example.org", "not the password").get_data(as_text=True)
    assert "wrong username/e-mail or password" in wrong and "wrong username/e-mail or password" in unknown


# -- headers ------------------------------------------------------------------------------------

def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
            for part in (p.strip() for p in policy.split(";")) if part}


@pytest.mark.parametrize("url", ["/", "/account/login", "/account/register", "/licenses", "/makers",
                                 "/designs/no-such-design", "/search?q=solar", "/healthz", "/api/v1/designs"])
def test_every_response_carries_the_security_headers(client, url):
    r = client.get(url)
    csp = _csp(r)
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert "'unsafe-inline'" not in r.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in r.headers["Content-Security-Policy"]
    assert csp["script-src"].startswith("'self'") and csp["style-src"] == "'self'"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_the_only_inline_script_is_the_import_map_allowed_by_its_hash(client, db, make_design):
    import_folder_paths(db, make_design("widget"))
    r = client.get("/designs/widget")
    html = r.get_data(as_text=True)
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, re.S)
    assert len(inline) == 1 and '"three"' in inline[0]
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in _csp(r)["script-src"]
    assert not re.search(r"\sstyle=|\son[a-z]+=", html)


def test_templates_hold_no_inline_script_style_or_handlers():
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", text)
        assert not scripts, f"{path}: inline <script> (move it to web/static)"
        assert not re.search(r"\sstyle=|\son[a-z]+=|javascript:", text), f"{path}: inline style or handler"
