"""Speculative draft renders (``...&quality=draft&speculative=1``): offered, never forced.

What each test checks is what a visitor can cause: nothing is made for a design
they cannot see or for bad values; nothing starts when no sandbox slot is idle
beyond the reserve, or when the visitor's or the design's budget is spent; an
accepted render lands in the cache, where the next request finds it.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from opendesign.catalogue import removal
from opendesign.config import load_settings
from opendesign.models import Artifact
from tests.web_support import *  # noqa: F403
from web import create_app

AHEAD = "format=glb&quality=draft&speculative=1"


@pytest.fixture
def widget(db, make_design):
    import_folder_paths(db, make_design("widget"))
    return "widget"


def _app(db, settings, **config):
    return create_app({"TESTING": True, "SETTINGS": settings, "DATABASE": db, "MIGRATE": False,
                       "SECRET_KEY": "test-secret", "SERVER_NAME": "localhost", **config})


def _artifacts(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count(Artifact.id)))


def _wait_done(client, job_url: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(job_url).get_json()
        if state["status"] != "pending":
            return state
        time.sleep(0.1)
    raise AssertionError(f"{job_url} still pending after {timeout} s")


def test_speculative_render_of_a_design_the_visitor_cannot_see_makes_nothing(client, db, widget):
    r = client.get(f"/api/v1/designs/no-such-design/render?width=21&{AHEAD}")
    assert r.status_code == 404
    assert "no-such-design" in r.get_json()["error"]["message"]
    r = client.get(f"/api/v1/designs/widget/render?width=21&version=9.9.9&{AHEAD}")
    assert r.status_code == 404
    with db.session() as s:
        removal.remove(s, "widget")
    r = client.get(f"/api/v1/designs/widget/render?width=21&{AHEAD}")
    assert r.status_code == 404
    renderer = client.application.extensions["opendesign.render"]
    assert renderer.running() == 0 and renderer.job("anything") is None
    assert _artifacts(db) == 0


@pytest.mark.parametrize("query, field, reason", [
    (f"width=9999&{AHEAD}", "width", "between 5 and 100"),
    (f"width=20.25&{AHEAD}", "width", "multiple of 0.5"),
    (f"colour=red&{AHEAD}", "colour", "unknown parameter"),
    ("format=glb&quality=draft&speculative=yes", "speculative", "must be 1"),
    ("format=glb&quality=normal&speculative=1", "speculative", "draft GLBs"),
    ("format=stl&quality=draft&speculative=1", "speculative", "draft GLBs"),
])
def test_speculative_render_with_bad_values_is_refused_naming_the_field(client, db, widget, query, field, reason):
    r = client.get(f"/api/v1/designs/widget/render?{query}")
    assert r.status_code == 422
    fields = r.get_json()["error"]["fields"]
    assert reason in " ".join(fields[field])
    assert client.application.extensions["opendesign.render"].running() == 0
    assert _artifacts(db) == 0


def test_speculative_render_is_declined_when_no_slot_is_idle_beyond_the_reserve(db, widget, env):
    # One sandbox slot, one kept for real requests: there is never room to render ahead.
    app = _app(db, load_settings(render_pool_size=1))
    try:
        r = app.test_client().get(f"/api/v1/designs/widget/render?width=21&{AHEAD}")
        assert r.status_code == 204 and r.data == b""
        assert r.headers["X-Speculative-Reason"] == "busy"
        assert app.extensions["opendesign.render"].running() == 0
        assert _artifacts(db) == 0
    finally:
        app.extensions["opendesign.search"].close()


def test_speculative_budgets_per_visitor_and_per_design_then_the_cache_answers(db, widget, env):
    app = _app(db, load_settings(render_pool_size=6), SPECULATIVE_PER_VISITOR=10, SPECULATIVE_VISITOR_PER_MINUTE=2,
               SPECULATIVE_PER_DESIGN=10, SPECULATIVE_DESIGN_PER_MINUTE=3)
    try:
        ada = app.test_client()
        grace = app.test_client()
        grace.environ_base["REMOTE_ADDR"] = "192.0.2.7"
        accepted = []
        for width in ("21", "21.5"):
            r = ada.get(f"/api/v1/designs/widget/render?width={width}&{AHEAD}")
            assert r.status_code == 202, r.data
            accepted.append(r.get_json()["job"])
        r = ada.get(f"/api/v1/designs/widget/render?width=22&{AHEAD}")
        assert r.status_code == 204 and r.headers["X-Speculative-Reason"] == "visitor-budget"
        r = grace.get(f"/api/v1/designs/widget/render?width=22.5&{AHEAD}")
        assert r.status_code == 202, r.data  # another visitor has a budget of their own...
        accepted.append(r.get_json()["job"])
        r = grace.get(f"/api/v1/designs/widget/render?width=23&{AHEAD}")
        assert r.status_code == 204 and r.headers["X-Speculative-Reason"] == "design-budget"  # ...the design not
        for job in accepted:
            assert _wait_done(ada, job)["status"] == "done"
        assert _artifacts(db) == 3  # one draft GLB per accepted value, none for the declined ones
        # Rendered ahead: asking again costs no budget and names the file; the real request is a hit.
        r = ada.get(f"/api/v1/designs/widget/render?width=21&{AHEAD}")
        assert r.status_code == 200 and r.get_json()["url"].endswith(".glb")
        r = ada.get("/api/v1/designs/widget/render?width=21&format=glb&quality=draft")
        assert r.status_code == 200
        assert r.headers["Content-Location"] == ada.get(
            f"/api/v1/designs/widget/render?width=21&{AHEAD}").get_json()["url"]
        assert _artifacts(db) == 3
    finally:
        app.extensions["opendesign.search"].close()
