"""Presets and saved parameter sets on the web: the customiser's choices, saving, permalinks, the account
page, the bundle link's name, and the presets API with its token scopes."""

from __future__ import annotations

import html as htmllib
import json
import re

import pytest
from sqlalchemy import func, select

from opendesign.models import ParameterSet
from opendesign.parameters import params_hash
from tests.web_support import *  # noqa: F403
from web.adapters.render import NullRenderer

PRESETS = [
    {"name": "Wide", "description": "For the long shelf.", "values": {"width": 60.0, "holes": 4}},
    {"name": "Glossy", "values": {"finish": "gloss", "rounded": False}},
]
WIDE = {"width": 60.0, "holes": 4, "rounded": True, "finish": "matte"}


@pytest.fixture
def app_no_render(app):
    # These tests look at pages and data, not meshes: the null renderer (what a server without the
    # render pipeline uses) keeps custom parameter pages from rendering.
    app.extensions["opendesign.render"] = NullRenderer()
    return app


@pytest.fixture
def widget(db, make_design, app_no_render):
    import_folder_paths(db, make_design("widget", presets=PRESETS))  # noqa: F405
    return "widget"


def _text(r) -> str:
    return htmllib.unescape(r.get_data(as_text=True))


def _save(client, values: dict, name="Wide shelf", public=False, description="", page="/designs/widget/1.0.0"):
    token = csrf_token(client, page)  # noqa: F405
    data = {"csrf_token": token, "name": name, "description": description,
            **{f"p.{k}": v for k, v in values.items()}}
    if public:
        data["public"] = "y"
    return client.post("/designs/widget/1.0.0/presets", data=data)


def _sets(db) -> list[ParameterSet]:
    with db.session() as s:
        return list(s.scalars(select(ParameterSet).order_by(ParameterSet.id)))


# -- design.toml presets in the customiser ----------------------------------------------------------------

def test_presets_are_one_click_links_with_their_values(client, widget):
    page = client.get("/designs/widget/1.0.0").get_data(as_text=True)
    links = [tuple(htmllib.unescape(x) for x in link) for link in
             re.findall(r'<a href="([^"]+)" class="preset( active)?" role="button" data-values="([^"]+)"', page)]
    assert [(url, active) for url, active, _ in links] == [
        ("/designs/widget/1.0.0?width=60&holes=4", ""), ("/designs/widget/1.0.0?rounded=false&finish=gloss", "")]
    assert json.loads(links[0][2]) == {"width": "60", "holes": "4", "rounded": "true", "finish": "matte"}
    assert 'title="For the long shelf."' in page


def test_the_preset_matching_the_values_is_marked(client, widget):
    page = client.get("/designs/widget/1.0.0?width=60&holes=4").get_data(as_text=True)
    assert re.search(r'class="preset active" role="button" data-values="[^"]+"\s+aria-current="true"', page)
    assert "For the long shelf." in page.split('id="preset-help"')[1][:200]
    assert "preset active" not in _text(client.get("/designs/widget/1.0.0?width=60"))


def test_design_without_presets_shows_no_preset_bar(client, db, make_design, app_no_render):
    import_folder_paths(db, make_design("plain"))  # noqa: F405
    assert 'id="presets"' not in client.get("/designs/plain").get_data(as_text=True)


def test_api_design_detail_lists_presets(client, widget):
    presets = client.get("/api/v1/designs/widget").json["presets"]
    assert presets[0] == {"name": "Wide", "description": "For the long shelf.",
                          "changes": {"width": 60.0, "holes": 4}, "values": WIDE}


# -- saving from the design page ----------------------------------------------------------------------------

def test_anonymous_visitors_are_asked_to_log_in_to_save(client, widget):
    page = _text(client.get("/designs/widget/1.0.0?width=30"))
    assert 'id="save-set-form"' not in page
    assert 'href="/account/login?next=/designs/widget/1.0.0?width%3D30">Log in</a> to save' in page
    r = client.post("/designs/widget/1.0.0/presets", data={"name": "x"})
    assert r.status_code in (302, 400)  # to the login page, or refused for its missing CSRF token
    assert _sets(client.application.extensions["opendesign.db"]) == []


def test_save_form_carries_the_current_values(logged_in, widget):
    page = _text(logged_in.get("/designs/widget/1.0.0?width=30&rounded=false"))
    hidden = dict(re.findall(r'<input type="hidden" name="p\.(\w+)" value="([^"]*)" data-param', page))
    assert hidden == {"width": "30", "holes": "2", "rounded": "false", "finish": "matte"}


def test_saving_a_set_redirects_to_its_permalink(logged_in, db, widget):
    r = _save(logged_in, {"width": "30", "rounded": "false", "holes": "2", "finish": "matte"},
              description="Fits the drawer")
    assert r.status_code == 303
    (saved,) = _sets(db)
    assert r.headers["Location"] == f"/designs/widget/1.0.0/presets/{saved.public_id}"
    assert saved.values == {"width": 30.0, "holes": 2, "rounded": False, "finish": "matte"}
    assert not saved.is_public and saved.description == "Fits the drawer"
    page = _text(logged_in.get(r.headers["Location"]))
    assert "Saved “Wide shelf” (private). This page is its permalink." in page
    current = page.split('id="current-set"')[1].split("</article>")[0]
    assert "“Wide shelf”" in current and "by ada" in current and "private: only you can open this page" in current
    assert 'name="width" value="30"' in page  # the customiser holds the set's values
    assert audit_events(db, "preset.save")[-1].outcome == "ok"  # noqa: F405


def test_saving_invalid_values_is_422_naming_the_field(logged_in, db, widget):
    r = _save(logged_in, {"width": "5000", "holes": "2"})
    assert r.status_code == 422
    page = _text(r)
    errors = page.split('id="save-set-errors"')[1].split("</p>")[0]
    assert "values.width: must be at most 100 (got 5000)" in errors
    assert 'id="p-width-err">Width: must be between 5 and 100 mm, got 5000' in page  # and at the field itself
    assert "<details id=\"save-set\" open>" in page
    assert _sets(db) == []
    assert audit_events(db, "preset.save")[-1].outcome == "refused"  # noqa: F405


def test_saving_without_a_name_or_twice_under_one_name(logged_in, db, widget):
    r = _save(logged_in, {"width": "30"}, name="   ")
    assert r.status_code == 422
    assert 'id="name-err">give the parameter set a name' in _text(r)
    assert _save(logged_in, {"width": "30"}).status_code == 303
    r = _save(logged_in, {"width": "40"})
    assert r.status_code == 409
    assert "you already have a parameter set called 'Wide shelf' for widget@1.0.0" in _text(r)
    assert len(_sets(db)) == 1


def test_private_sets_are_the_owners_only(logged_in, client, db, widget, other_user):
    _save(logged_in, {"width": "30"}, name="Secret")
    (saved,) = _sets(db)
    url = f"/designs/widget/1.0.0/presets/{saved.public_id}"
    design_page = _text(logged_in.get("/designs/widget/1.0.0"))
    assert "Secret</a>\n          <small>by ada · private</small>" in design_page
    login_as(client, other_user)  # noqa: F405
    assert client.get(url).status_code == 404
    assert "Secret" not in _text(client.get("/designs/widget/1.0.0"))
    with client.session_transaction() as session:
        session.clear()
    assert client.get(url).status_code == 404
    assert client.get(f"/designs/widget/9.9.9/presets/{saved.public_id}").status_code == 404


def test_public_sets_are_listed_with_their_author(logged_in, client, db, widget, other_user):
    _save(logged_in, {"width": "30"}, name="Shared shelf", public=True, description="Tested on a Prusa")
    (saved,) = _sets(db)
    login_as(client, other_user)  # noqa: F405
    page = _text(client.get("/designs/widget"))
    listed = page.split('id="saved-sets"')[1].split("</ul>")[0]
    assert f'<a href="/designs/widget/1.0.0/presets/{saved.public_id}">Shared shelf</a>' in listed
    assert "by ada" in listed and "Tested on a Prusa" in listed
    shown = _text(client.get(f"/designs/widget/1.0.0/presets/{saved.public_id}"))
    assert "by ada" in shown and "Make private" not in shown  # only the author may change it
    r = client.post(f"/designs/widget/1.0.0/presets/{saved.public_id}/delete",
                    data={"csrf_token": csrf_token(client, "/account")})  # noqa: F405
    assert r.status_code == 403
    assert len(_sets(db)) == 1


def test_account_page_lists_changes_and_deletes_sets(logged_in, db, widget):
    _save(logged_in, {"width": "30"}, name="Drawer")
    (saved,) = _sets(db)
    page = _text(logged_in.get("/account"))
    table = page.split('id="parameter-set-table"')[1].split("</table>")[0]
    assert f'<a href="/designs/widget/1.0.0/presets/{saved.public_id}">Drawer</a>' in table
    assert f'href="/designs/widget/1.0.0/bundle.zip?width=30" class="small" title="widget-1.0.0-p{saved.params_hash}.zip"' in table
    token = csrf_token(logged_in, "/account")  # noqa: F405
    base = f"/designs/widget/1.0.0/presets/{saved.public_id}"
    r = logged_in.post(f"{base}/visibility", data={"csrf_token": token, "public": "true"})
    assert r.status_code == 303 and r.headers["Location"] == "/account#presets"
    assert _sets(db)[0].is_public
    r = logged_in.post(f"{base}/delete", data={"csrf_token": token})
    assert r.status_code == 303
    assert _sets(db) == []
    assert "Deleted the parameter set “Drawer”." in _text(logged_in.get("/account"))


# -- the bundle for the current parameters -----------------------------------------------------------------

def test_bundle_link_is_named_by_the_parameter_hash(client, widget):
    page = _text(client.get("/designs/widget/1.0.0?width=30&holes=2"))
    canonical = {"width": 30.0, "holes": 2, "rounded": True, "finish": "matte"}
    assert 'href="/designs/widget/1.0.0/bundle.zip?width=30" id="bundle-download"' in page
    assert f'<code id="bundle-file">widget-1.0.0-p{params_hash(canonical)}.zip</code>' in page
    assert '<code id="bundle-file">widget-1.0.0.zip</code>' in _text(client.get("/designs/widget/1.0.0"))


def test_bundle_link_takes_a_checkbox_last_value(client, widget):
    # The customiser sends a checkbox as its hidden "false" then "true": the last value counts.
    page = _text(client.get("/designs/widget/1.0.0?rounded=false&rounded=true"))
    assert 'href="/designs/widget/1.0.0/bundle.zip" id="bundle-download"' in page
    page = _text(client.get("/designs/widget/1.0.0?rounded=false"))
    assert 'href="/designs/widget/1.0.0/bundle.zip?rounded=false" id="bundle-download"' in page


def test_parameters_endpoint_names_the_bundle_without_rendering(client, widget):
    body = client.get("/api/v1/designs/widget/parameters?width=30.0&rounded=off").json
    canonical = {"width": 30.0, "holes": 2, "rounded": False, "finish": "matte"}
    assert body["values"] == canonical and body["query"] == {"width": "30", "rounded": "false"}
    assert body["hash"] == params_hash(canonical) and body["custom"] is True
    assert body["bundle"]["file"] == f"widget-1.0.0-p{params_hash(canonical)}.zip"
    assert body["bundle"]["url"] == "http://localhost/designs/widget/1.0.0/bundle.zip?width=30&rounded=false"
    assert body["page"] == "http://localhost/designs/widget/1.0.0?width=30&rounded=false"
    defaults = client.get("/api/v1/designs/widget/parameters").json
    assert defaults["custom"] is False and defaults["bundle"]["file"] == "widget-1.0.0.zip"
    r = client.get("/api/v1/designs/widget/parameters?width=500&colour=red")
    assert r.status_code == 422
    assert r.json["error"]["fields"] == {"width": ["must be between 5 and 100 mm, got 500"],
                                         "colour": ["unknown parameter"]}


# -- the API ------------------------------------------------------------------------------------------------

def _api(client, method: str, path: str, token: str | None = None, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.open(f"/api/v1{path}", method=method, headers=headers, **kw)


def test_api_create_list_get_delete(client, db, widget, user):
    token = make_token(db, user, ["presets:widget"])  # noqa: F405
    r = _api(client, "POST", "/designs/widget/presets", token,
             json={"name": "Wide", "values": {"width": 60, "holes": 4}, "public": True, "description": "big"})
    assert r.status_code == 201, r.json
    body = r.json
    assert r.headers["Location"] == body["url"] == f"http://localhost/api/v1/designs/widget/presets/{body['id']}"
    assert body["page"] == f"http://localhost/designs/widget/1.0.0/presets/{body['id']}"
    assert body["bundle"] == "http://localhost/designs/widget/1.0.0/bundle.zip?width=60&holes=4"
    assert (body["values"], body["changed"], body["hash"]) == (WIDE, {"width": 60.0, "holes": 4}, params_hash(WIDE))
    assert (body["author"], body["public"], body["version"]) == ("ada", True, "1.0.0")
    r = _api(client, "POST", "/designs/widget/presets", token, json={"name": "Mine", "values": {"width": 30}})
    assert r.status_code == 201 and r.json["public"] is False

    anonymous = _api(client, "GET", "/designs/widget/presets").json
    assert [p["name"] for p in anonymous["presets"]] == ["Wide", "Glossy"]
    assert [s["name"] for s in anonymous["parameter_sets"]] == ["Wide"]
    mine = _api(client, "GET", "/designs/widget/presets?version=1.0.0", token).json
    assert [s["name"] for s in mine["parameter_sets"]] == ["Mine", "Wide"]
    assert _api(client, "GET", f"/designs/widget/presets/{body['id']}").json["name"] == "Wide"

    r = _api(client, "DELETE", f"/designs/widget/presets/{body['id']}", token)
    assert r.status_code == 204
    assert _api(client, "GET", f"/designs/widget/presets/{body['id']}").status_code == 404
    assert [s.name for s in _sets(db)] == ["Mine"]


def test_api_invalid_values_are_422_with_fields_named(client, db, widget, user):
    token = make_token(db, user, ["presets:*"])  # noqa: F405
    r = _api(client, "POST", "/designs/widget/presets", token,
             json={"name": "Bad", "values": {"width": 5000, "finish": "satin", "colour": "red"}})
    assert r.status_code == 422
    assert r.json["error"]["fields"] == {
        "values.colour": ["unknown parameter (this design has: finish, holes, rounded, width)"],
        "values.width": ["must be at most 100 (got 5000)"],
        "values.finish": ["must be one of matte, gloss (got 'satin')"]}
    for body, field in (({"values": {}}, "name"), ({"name": "x", "colour": 1}, "colour"),
                        ({"name": "x", "version": "9.9.9"}, "version"), ({"name": "x", "public": "yes"}, "public"),
                        ([1, 2], "body")):
        r = _api(client, "POST", "/designs/widget/presets", token, json=body)
        assert r.status_code == 422 and field in r.json["error"]["fields"], (body, r.json)
    r = _api(client, "POST", "/designs/widget/presets", token, json={"name": "x", "version": "9.9.9"})
    assert "has no version '9.9.9'" in r.json["error"]["fields"]["version"][0]
    assert _sets(db) == []
    assert {e.outcome for e in audit_events(db, "preset.save")} == {"refused"}  # noqa: F405


def test_api_tokens_and_scopes(client, db, widget, user, other_user, make_design):
    import_folder_paths(db, make_design("gadget"))  # noqa: F405
    widget_token = make_token(db, user, ["presets:widget"], name="w")  # noqa: F405
    publish_token = make_token(db, user, ["publish:*"], name="p")  # noqa: F405
    grace_token = make_token(db, other_user, ["presets:*"], name="g")  # noqa: F405
    new = {"name": "Wide", "values": {"width": 60}}
    assert _api(client, "POST", "/designs/widget/presets", json=new).status_code == 401
    assert _api(client, "POST", "/designs/widget/presets", "od_not-a-token", json=new).status_code == 401
    r = _api(client, "POST", "/designs/gadget/presets", widget_token, json=new)
    assert r.status_code == 403 and "presets:gadget" in r.json["error"]["message"]
    assert _api(client, "POST", "/designs/widget/presets", publish_token, json=new).status_code == 403
    assert _api(client, "GET", "/designs/widget/presets", publish_token).status_code == 403
    assert _api(client, "GET", "/designs/widget/presets", "od_not-a-token").status_code == 401
    assert _api(client, "POST", "/designs/ghost/presets", widget_token, json=new).status_code == 403
    assert _api(client, "GET", "/designs/ghost/presets").status_code == 404

    created = _api(client, "POST", "/designs/widget/presets", widget_token, json=new).json
    private = _api(client, "POST", "/designs/widget/presets", widget_token,
                   json={"name": "Hidden", "values": {}}).json
    assert _api(client, "POST", "/designs/widget/presets", widget_token, json=new).status_code == 409
    # Another user: a private set does not exist for them, a public one is not theirs to delete.
    assert _api(client, "GET", f"/designs/widget/presets/{private['id']}", grace_token).status_code == 404
    assert _api(client, "DELETE", f"/designs/widget/presets/{private['id']}", grace_token).status_code == 404
    _api(client, "POST", "/designs/widget/presets", widget_token, json={"name": "Open", "values": {},
                                                                         "public": True})
    open_id = _api(client, "GET", "/designs/widget/presets").json["parameter_sets"][0]["id"]
    assert _api(client, "DELETE", f"/designs/widget/presets/{open_id}", grace_token).status_code == 403
    assert _api(client, "DELETE", f"/designs/widget/presets/{created['id']}", publish_token).status_code == 403
    assert _api(client, "DELETE", f"/designs/gadget/presets/{created['id']}", widget_token).status_code == 404
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ParameterSet)) == 3


def test_openapi_document_is_valid_and_describes_presets(client):
    from openapi_spec_validator import validate

    doc = client.get("/api/v1/openapi.json").json
    validate(doc)
    ops = doc["paths"]["/designs/{slug}/presets"]
    assert ops["post"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ParameterSetInput"}
    assert "presets:<slug>" in ops["post"]["description"] and ops["post"]["security"] == [{"token": []}]
    assert set(doc["paths"]["/designs/{slug}/presets/{id}"]) == {"get", "delete"}
    assert "/designs/{slug}/parameters" in doc["paths"]
    assert "presets:<slug>" in doc["components"]["securitySchemes"]["token"]["description"]


def test_token_form_accepts_presets_scopes(logged_in, db, widget):
    token = csrf_token(logged_in, "/account")  # noqa: F405
    r = logged_in.post("/account/tokens", data={"csrf_token": token, "name": "sets", "scopes": "presets:widget"})
    assert r.status_code == 201
