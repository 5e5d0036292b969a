"""Renders handed off to jobs: pages never wait on them, failures are remembered, new renders are limited.

A gated fake pool stands in for a model that sleeps: its renders do not
finish until the test says so, which makes "the home page answered while
eight renders were still running" a fact to assert, not a timing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from tests.test_render_jobs import GatedPool
from tests.web_support import *  # noqa: F403
from tests.web_support import import_folder_paths
from web import create_app

from .test_render_cache import FakePool

REDIS_DB14 = "redis://127.0.0.1:6379/14"


@pytest.fixture
def widget(db, make_design):
    import_folder_paths(db, make_design("widget"))
    return "widget"


def _renderer(app):
    return app.extensions["opendesign.render"]


def _use_pool(app, pool):
    _renderer(app).dispatcher.pool = pool
    return pool


def _get(url: str, timeout: float = 120) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_a_burst_of_slow_renders_leaves_the_pages_answering(db, settings, widget):
    """Eight renders of a model that does not finish: the home page still answers on an 8-thread server."""
    from waitress.server import create_server

    app = create_app({"TESTING": True, "SETTINGS": settings, "DATABASE": db, "MIGRATE": False,
                      "SECRET_KEY": "k"})
    pool = _use_pool(app, GatedPool())
    # poll(), not select(): closing the server under its loop thread then ends quietly (POLLNVAL),
    # where select() raised EBADF in that thread.
    server = create_server(app, host="127.0.0.1", port=0, threads=8, asyncore_use_poll=True)
    base = f"http://127.0.0.1:{server.effective_port}"
    threading.Thread(target=server.run, daemon=True).start()
    try:
        with ThreadPoolExecutor(8) as burst:
            renders = [burst.submit(_get, f"{base}/api/v1/designs/widget/render?format=stl&width={20 + i}&wait=20")
                       for i in range(8)]
            assert pool.started.wait(60)
            status, _, body = _get(f"{base}/")
            assert status == 200 and b"<html" in body.lower()
            assert _get(f"{base}/designs/widget")[0] == 200
            # the home page answered while every render was still held by the pool
            assert not pool.gate.is_set() and not any(r.done() and r.result()[0] == 200 for r in renders)
            # all but the RENDER_WAITERS requests that may wait were handed a job at once
            handed_off = [r.result(timeout=60) for r in renders if r.done()]
            assert len(handed_off) >= 8 - app.config["RENDER_WAITERS"]
            assert all(s == 202 and json.loads(b)["job"].startswith(base) for s, _, b in handed_off)
            pool.gate.set()
            answers = [r.result(timeout=120) for r in renders]
        jobs_ = [json.loads(b)["job"] for s, _, b in answers if s == 202]
        assert _renderer(app).dispatcher.idle(60)
        for url in jobs_:
            status, headers, body = _get(url)
            job = json.loads(body)
            assert status == 200 and job["status"] == "done" and job["files"][0]["url"].startswith("/files/")
            assert "key" not in job["files"][0] and headers["Cache-Control"] == "no-store"
        assert pool.calls == 8
    finally:
        server.close()
        _renderer(app).close()
        app.extensions["opendesign.search"].close()


def test_a_render_request_gets_a_job_and_the_file_once_done(app, client, widget):
    pool = _use_pool(app, GatedPool())
    r = client.get("/api/v1/designs/widget/render?format=stl&width=33&wait=0")
    assert r.status_code == 202 and r.headers["Retry-After"] == "1"
    job_url = r.json["job"]
    assert r.headers["Location"] == job_url
    assert client.get(job_url).json["status"] == "pending"
    # asking again while it runs gives the same job, and nothing more to render
    assert client.get("/api/v1/designs/widget/render?format=stl&width=33&wait=0").json["job"] == job_url
    pool.gate.set()
    assert _renderer(app).dispatcher.idle(60)
    assert client.get(job_url).json["status"] == "done"
    r = client.get("/api/v1/designs/widget/render?format=stl&width=33")
    assert r.status_code == 200 and r.headers["X-Content-SHA256"] and pool.calls == 1


def _server_timing(header: str) -> dict[str, float]:
    out = {}
    for entry in header.split(","):
        name, _, dur = entry.strip().partition(";dur=")
        out[name] = float(dur)
    return out


def test_a_render_answer_says_how_long_the_server_took_and_the_render_inside_it(app, client, widget):
    """Server-Timing: "render" spans the wait for the job (here, while the test holds the gate), "app" all of it."""
    pool = _use_pool(app, GatedPool())
    answers = []
    waiting = threading.Thread(target=lambda: answers.append(
        client.get("/api/v1/designs/widget/render?format=glb&quality=draft&width=37&wait=60")))
    waiting.start()
    assert pool.started.wait(30)
    held = time.monotonic()
    time.sleep(0.3)  # the render cannot end before the gate opens: the answer's render metric covers this
    held = time.monotonic() - held
    pool.gate.set()
    waiting.join(60)
    r = answers[0]
    assert r.status_code == 200
    timing = _server_timing(r.headers["Server-Timing"])
    assert set(timing) == {"render", "app"}
    assert held * 1000 <= timing["render"] <= timing["app"]
    cached = _server_timing(client.get("/api/v1/designs/widget/render?format=glb&quality=draft&width=37")
                            .headers["Server-Timing"])
    assert 0 <= cached["render"] <= cached["app"] and pool.calls == 1
    # Pages that time nothing carry no header.
    assert "Server-Timing" not in client.get("/").headers


def test_unknown_jobs_are_404_json(client, db):
    for job_id in ("0" * 32, "not-a-job", "../../etc"):
        r = client.get(f"/api/v1/jobs/{job_id}")
        assert r.status_code == 404 and r.json["error"]["status"] == 404


def test_a_failed_render_is_answered_from_memory(app, client, widget):
    pool = _use_pool(app, FakePool(fail=True))
    first = client.get("/api/v1/designs/widget/render?format=stl&width=44&wait=20")
    assert first.status_code == 422 and "boom" in first.json["error"]["message"]
    again = client.get("/api/v1/designs/widget/render?format=glb&width=44&wait=20")
    assert again.status_code == 422 and "remembered until" in again.json["error"]["message"]
    page = client.get("/designs/widget?width=44").get_data(as_text=True)
    assert "boom" in page
    assert pool.calls == 1


def test_new_renders_are_limited_per_client_and_cached_ones_are_not(app, client, widget):
    app.config["RENDER_LIMIT_PER_CLIENT"] = "2 per minute"
    pool = _use_pool(app, FakePool())
    for width in (50, 51):
        assert client.get(f"/api/v1/designs/widget/render?format=stl&width={width}&wait=20").status_code == 200
    refused = client.get("/api/v1/designs/widget/render?format=stl&width=52&wait=20")
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "too many renders" in refused.json["error"]["message"]
    # what the cache holds is served whatever the count; the download page too
    assert client.get("/api/v1/designs/widget/render?format=stl&width=50").status_code == 200
    assert client.get("/designs/widget/1.0.0/download/model.stl?width=51").status_code == 303
    assert client.get("/designs/widget/1.0.0/download/model.stl?width=53").status_code == 429
    # another client is not affected
    other = client.get("/api/v1/designs/widget/render?format=stl&width=54&wait=20",
                       environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200 and pool.calls == 3


def test_new_renders_are_limited_per_design_across_processes_on_redis(db, settings, widget):
    """Two app instances sharing one Redis share the per-design count (as two web processes would)."""
    config = {"TESTING": True, "SETTINGS": settings, "DATABASE": db, "MIGRATE": False, "SECRET_KEY": "k",
              "SERVER_NAME": "localhost", "RATELIMIT_STORAGE_URI": REDIS_DB14,
              "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}", "RENDER_LIMIT_PER_DESIGN": "2 per minute"}
    apps = [create_app(dict(config)) for _ in range(2)]
    try:
        for app in apps:
            _use_pool(app, FakePool())
        a, b = (app.test_client() for app in apps)
        assert a.get("/api/v1/designs/widget/render?format=stl&width=60&wait=20").status_code == 200
        assert b.get("/api/v1/designs/widget/render?format=stl&width=61&wait=20",
                     environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 200
        refused = a.get("/api/v1/designs/widget/render?format=stl&width=62&wait=20",
                        environ_base={"REMOTE_ADDR": "10.0.0.3"})
        assert refused.status_code == 429 and "widget has had too many renders" in refused.json["error"]["message"]
        assert int(refused.headers["Retry-After"]) >= 1
    finally:
        for app in apps:
            app.extensions["opendesign.search"].close()


POLL = """
import json, sys
from web import create_app
app = create_app({"TESTING": True, "SECRET_KEY": "k", "SERVER_NAME": "localhost"})
client = app.test_client()
for line in sys.stdin:  # one path a line; answer each on a line of its own
    r = client.get(line.strip())
    print(json.dumps({"status": r.status_code, "body": r.get_json()}), flush=True)
app.extensions["opendesign.search"].close()
"""


def test_a_job_url_can_be_polled_from_another_process(app, client, widget, env):
    pool = _use_pool(app, GatedPool())
    r = client.get("/api/v1/designs/widget/render?format=stl&width=70&wait=0")
    assert r.status_code == 202
    path = r.json["job"].removeprefix("http://localhost")
    other = subprocess.Popen([sys.executable, "-c", POLL], env={**os.environ, **env}, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)

    def poll(p: str) -> dict:
        other.stdin.write(p + "\n")
        other.stdin.flush()
        return json.loads(other.stdout.readline())

    try:
        seen = poll(path)
        assert seen["status"] == 200 and seen["body"]["status"] == "pending"
        pool.gate.set()
        assert _renderer(app).dispatcher.idle(60)
        seen = poll(path)
        assert seen["status"] == 200 and seen["body"]["status"] == "done"
        assert seen["body"]["files"][0]["sha256"] == client.get(path).json["files"][0]["sha256"]
        assert poll("/api/v1/jobs/" + "f" * 32)["status"] == 404
    finally:
        other.stdin.close()
        other.wait(60)


def test_a_job_left_by_a_process_that_died_is_taken_over_by_the_one_polling_it(app, client, widget, db):
    from sqlalchemy import update

    from opendesign.models import RenderJobRow, utcnow
    from renderers import jobs

    pool = _use_pool(app, FakePool())
    # Queued by a web process that died before its threads ran it: a row that no dispatcher holds.
    job_id = jobs.create_job(db, widget, {"width": 71}, ["stl"])
    url = f"/api/v1/jobs/{job_id}"
    assert client.get(url).json["status"] == "pending"
    assert _renderer(app).dispatcher.describe()["running"] == 0 and pool.calls == 0  # just queued: left alone
    with db.session() as session, session.begin():
        session.execute(update(RenderJobRow).where(RenderJobRow.id == job_id)
                        .values(updated_at=utcnow() - timedelta(seconds=jobs.ORPHAN_SECONDS + 1)))
    client.get(url)
    assert _renderer(app).dispatcher.idle(60)
    done = client.get(url).json
    assert done["status"] == "done" and done["attempts"] == 1 and pool.calls == 1
    assert client.get(f"/api/v1/designs/{widget}/render?format=stl&width=71").status_code == 200
