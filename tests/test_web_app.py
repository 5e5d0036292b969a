"""The app factory, configuration precedence, error pages, CSRF, health and OpenAPI."""

from __future__ import annotations

import pytest

from tests.web_support import *  # noqa: F403
from web import create_app


def test_config_precedence_defaults_instance_env(tmp_path, env, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text("MAX_CONTENT_LENGTH = 1234\nSEARCH_PAGE_SIZE = 7\nBASE_URL = 'http://instance'\n")
    monkeypatch.setenv("OPENDESIGN_SEARCH_PAGE_SIZE", "9")
    monkeypatch.setenv("OPENDESIGN_BASE_URL", "http://env")
    import web

    monkeypatch.setattr(web, "Flask", lambda name, **kw: _flask_with_instance(name, instance, **kw))
    app = create_app({"TESTING": True, "MIGRATE": True})
    try:
        assert app.config["MAX_CONTENT_LENGTH"] == 1234  # instance config beats the default
        assert app.config["SEARCH_PAGE_SIZE"] == 9  # environment beats the instance config
        assert app.config["SETTINGS"].base_url == "http://env"  # shared Settings: env beats instance config
        assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    finally:
        app.extensions["opendesign.search"].close()


def _flask_with_instance(name, instance, **kw):
    from flask import Flask

    return Flask(name, instance_path=str(instance), **kw)


def test_instance_config_sets_core_settings_below_env(tmp_path, env, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text("BASE_URL = 'http://instance.example'\n")
    monkeypatch.delenv("OPENDESIGN_BASE_URL", raising=False)
    import web

    monkeypatch.setattr(web, "Flask", lambda name, **kw: _flask_with_instance(name, instance, **kw))
    app = create_app({"TESTING": True})
    try:
        assert app.config["SETTINGS"].base_url == "http://instance.example"
    finally:
        app.extensions["opendesign.search"].close()


def test_healthz(app, client, db):
    app.extensions["opendesign.search"].ensure(db.sessionmaker)  # an index that exists
    r = client.get("/healthz")
    assert r.json["database"]["status"] == "ok" and r.json["search_index"]["status"] == "ok"
    assert r.json["disk"]["free_bytes"] > 0 and r.headers["Cache-Control"] == "no-store"
    degraded = [name for name in ("disk", "render") if r.json[name]["status"] != "ok"]
    assert r.json["degraded"] == degraded
    assert r.status_code == (200 if not degraded else 503) and r.json["status"] == ("degraded" if degraded else "ok")


def test_openapi_document(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json
    assert doc["openapi"].startswith("3.")
    for path in ("/designs", "/designs/{slug}", "/designs/{slug}/versions", "/designs/{slug}/lineage",
                 "/designs/{slug}/render", "/search", "/makers", "/makers/{slug}", "/licenses"):
        assert path in doc["paths"], path
    assert "post" in doc["paths"]["/designs"]
    assert doc["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


def test_unknown_slug_is_a_404_page(client):
    r = client.get("/designs/no-such-design")
    assert r.status_code == 404
    assert r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert "404 · Not found" in html
    assert "no design &#39;no-such-design&#39; in the catalogue" in html


def test_unknown_version_is_a_404_page(client, db, make_design):
    import_folder_paths(db, make_design("widget"))
    r = client.get("/designs/widget/9.9.9")
    assert r.status_code == 404
    assert "design &#39;widget&#39; has no version &#39;9.9.9&#39; (published: 1.0.0)" in r.get_data(as_text=True)
    assert client.get("/designs/widget/not-a-version").status_code == 404


def test_api_errors_are_json(client):
    r = client.get("/api/v1/designs/no-such-design")
    assert r.status_code == 404
    assert r.json == {"error": {"status": 404, "message": "no design 'no-such-design' in the catalogue"}}
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json["error"]["status"] == 404


@pytest.mark.parametrize("url, data", [
    ("/account/login", {"login": "ada", "password": "x" * 10}),
    ("/account/register", {"username": "eve", "email": "eve@example.org", "password": "x" * 10, "confirm": "x" * 10}),
    ("/account/logout", {}),
])
def test_form_without_csrf_token_is_400(client, url, data):
    r = client.post(url, data=data)
    assert r.status_code == 400
    assert "The CSRF token is missing." in r.get_data(as_text=True)


def test_logged_in_forms_without_csrf_token_are_400(logged_in, db, make_design):
    import_folder_paths(db, make_design("widget"))
    for url, data in [("/account/tokens", {"name": "t", "scopes": "publish:*"}),
                      ("/account/tokens/1/revoke", {}),
                      ("/publish", {}),
                      ("/designs/widget/1.0.0/fork", {"slug": "widget-fork"})]:
        r = logged_in.post(url, data=data)
        assert r.status_code == 400, url
        assert "The CSRF token is missing." in r.get_data(as_text=True)


def test_wrong_csrf_token_is_400(client):
    csrf_token(client, "/account/login")  # the session now holds a real token
    r = client.post("/account/login", data={"login": "ada", "password": "x" * 10, "csrf_token": "forged"})
    assert r.status_code == 400
    assert "The CSRF token is invalid." in r.get_data(as_text=True)


def test_session_cookie_is_samesite_lax_and_httponly(client, user):
    token = csrf_token(client, "/account/login")
    r = client.post("/account/login", data={"login": "ada", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302
    cookie = next(v for k, v in r.headers.items() if k == "Set-Cookie" and v.startswith("session="))
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie


def test_pages_render(client, db, make_design):
    import_folder_paths(db, make_design("widget"))
    for url in ("/", "/search", "/search?q=widget", "/makers", "/licenses", "/licenses/CERN-OHL-S-2.0",
                "/account/login", "/account/register", "/designs/widget", "/designs/widget/1.0.0"):
        assert client.get(url).status_code == 200, url


def test_vendor_assets_are_served_from_node_modules_only(client, app):
    from pathlib import Path

    if not (Path(app.config["NODE_MODULES"]) / "@picocss/pico/css/pico.min.css").exists():
        pytest.skip("npm packages not installed (make serve runs npm ci)")
    r = client.get("/vendor/pico/pico.min.css")
    assert r.status_code == 200 and r.mimetype == "text/css"
    assert client.get("/vendor/pico/../../three/package.json").status_code == 404
    assert client.get("/vendor/pico/%2e%2e/%2e%2e/three/package.json").status_code == 404
    assert client.get("/vendor/other/x.js").status_code == 404
