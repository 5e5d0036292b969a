"""The web app with a Redis broker: job URLs shared between apps, pages served while the broker is down.

Real Redis (a private server per test) and, where a render must finish, a real
``opendesign worker`` subprocess; two app instances stand for two web processes
(their state is only what the catalogue database and Redis hold).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from opendesign.catalogue.importer import import_designs
from opendesign.config import load_settings
from opendesign.models import RenderFailure, RenderJobRow
from tests.celery_support import RedisServer, Worker, free_port, wait_for, wait_for_workers
from tests.test_celery_workers import NAPPING_MODEL, PARAMETERS, PARTS
from web import create_app


def _app(db, settings):
    return create_app({"TESTING": True, "SETTINGS": settings, "DATABASE": db, "MIGRATE": False,
                       "SECRET_KEY": "test-secret", "SERVER_NAME": "localhost"})


@pytest.fixture
def napper(db, make_design):
    make_design("napper", model=NAPPING_MODEL, parameters=PARAMETERS, parts=PARTS)
    assert import_designs(db, [make_design.root]).ok
    return "napper"


@pytest.fixture
def apps(request):
    made = []

    def make(db, settings):
        app = _app(db, settings)
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["opendesign.search"].close()


def test_broker_unreachable_pages_serve_and_renders_answer_503(db, settings, napper, apps):
    dead = settings.model_copy(update={"broker_url": f"redis://127.0.0.1:{free_port()}/0"})
    client = apps(db, dead).test_client()
    assert client.get("/").status_code == 200
    assert client.get("/designs/napper").status_code == 200
    r = client.get("/api/v1/designs/napper/render?format=stl&width=31&wait=0")
    assert r.status_code == 503, r.get_data(as_text=True)
    assert "renders are unavailable" in r.json["error"]["message"]
    health = client.get("/healthz").json
    assert health["render"]["status"] == "broker-unreachable" and health["render"]["jobs"]["reachable"] is False


@pytest.mark.slow
def test_a_job_url_from_one_web_app_is_polled_on_another(db, env, napper, apps, tmp_path, monkeypatch):
    broker = RedisServer(tmp_path).start()
    try:
        values = {**env, "OPENDESIGN_BROKER_URL": broker.url, "OPENDESIGN_RENDER_POOL_SIZE": "1",
                  "OPENDESIGN_RENDER_PRELOAD_BUILD123D": "false"}  # CadQuery designs only: a quicker worker start
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        settings = load_settings()
        first, second = apps(db, settings).test_client(), apps(db, settings).test_client()
        worker = Worker(values, "web", tmp_path)
        try:
            from renderers.celery_dispatch import CeleryDispatcher

            wait_for_workers(CeleryDispatcher(settings), ["web@test"])
            r = first.get("/api/v1/designs/napper/render?format=stl&width=37&nap=1&wait=0")
            assert r.status_code == 202, r.get_data(as_text=True)
            path = r.json["job"].replace("http://localhost", "")
            done = wait_for(lambda: (j := second.get(path).json)["status"] != "pending" and j, 240,
                            "the job to finish, seen by the other app")
            assert done["status"] == "done", done
            assert second.get("/api/v1/jobs/" + "f" * 32).status_code == 404
            assert second.get("/api/v1/jobs/" + "f" * 32).json["error"]["status"] == 404
            # The file the worker made is served by either app.
            again = first.get("/api/v1/designs/napper/render?format=stl&width=37&nap=1")
            assert again.status_code == 200
            assert hashlib.sha256(again.data).hexdigest() == done["files"][0]["sha256"]
        finally:
            worker.stop()
    finally:
        broker.stop()


# -- a job no worker takes -------------------------------------------------------------------------------------


@pytest.fixture
def unserved(db, settings, napper, apps, tmp_path):
    """A reachable broker that no worker serves, and a web app whose jobs wait at most 1 s for one."""
    broker = RedisServer(tmp_path).start()
    served = settings.model_copy(update={"broker_url": broker.url, "render_unclaimed_timeout": 1.0})
    yield served, apps(db, served).test_client(), broker
    broker.stop()


def _poll_until_finished(client, job_id: str, timeout: float = 60) -> dict:
    return wait_for(lambda: (j := client.get(f"/api/v1/jobs/{job_id}").json)["status"] != "pending" and j,
                    timeout, f"job {job_id} to end")


def test_a_render_request_with_no_worker_answers_503(db, unserved):
    _settings, client, _broker = unserved
    r = client.get("/api/v1/designs/napper/render?format=stl&width=33&wait=0")
    assert r.status_code == 503, r.get_data(as_text=True)
    message = r.json["error"]["message"]
    assert "no render worker answers" in message and "opendesign worker" in message
    # Nothing was queued for a worker that is not there.
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(RenderJobRow)) == 0
    assert client.get("/designs/napper").status_code == 200


def test_a_job_no_worker_takes_fails_when_polled_and_is_not_remembered(db, unserved):
    from renderers import jobs
    from renderers.celery_dispatch import CeleryDispatcher

    settings, client, _broker = unserved
    # Queued while a worker seemed alive (or its message was lost since): nobody will run it.
    job = jobs.enqueue(db, CeleryDispatcher(settings, db), "napper", {"width": 34.0}, ["stl"], "draft")
    assert job["state"] == "queued"
    done = _poll_until_finished(client, job["id"])
    assert done["status"] == "failed" and done["category"] == "sandbox-failure", done
    assert "no render worker took this job" in done["error"]
    assert "opendesign worker" in done["error"] and "opendesign doctor" in done["error"]
    # The cluster's fault, not the design's: nothing is remembered, asking again queues it again.
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(RenderFailure)) == 0
    assert jobs.create_job(db, "napper", {"width": 34.0}, ["stl"], "draft") == job["id"]
    assert jobs.get_job(db, job["id"])["state"] == "queued"


def test_a_running_job_whose_worker_is_gone_fails_when_polled(db, unserved):
    from renderers import jobs

    _settings, client, _broker = unserved
    job_id = jobs.create_job(db, "napper", {"width": 35.0}, ["stl"], "draft")
    assert jobs._claim(db, job_id) == 1
    with db.session() as s:  # its worker was lost an hour ago, and no worker is left to take it over
        s.get(RenderJobRow, job_id).heartbeat_at = datetime.now(UTC) - timedelta(hours=1)
    done = _poll_until_finished(client, job_id)
    assert done["status"] == "failed" and "no render worker took this job" in done["error"], done


def test_a_worker_claiming_at_the_same_moment_wins_over_the_expiry(db, unserved):
    from renderers import job_sweeper, jobs

    settings, _client, _broker = unserved
    job_id = jobs.create_job(db, "napper", {"width": 36.0}, ["stl"], "draft")
    with db.session() as s:
        row = s.get(RenderJobRow, job_id)
        seen = job_sweeper.Seen.of(row)
    assert jobs._claim(db, job_id) == 1  # a worker took it between our read and our update
    assert job_sweeper.fail_unserved(db, seen, "no render worker took this job") is False
    assert jobs.get_job(db, job_id)["state"] == "running"


@pytest.mark.slow
def test_a_late_worker_does_not_run_an_expired_job_and_a_live_one_is_not_expired(db, env, unserved, tmp_path):
    from renderers import jobs
    from renderers.celery_dispatch import CeleryDispatcher

    settings, client, broker = unserved
    dispatcher = CeleryDispatcher(settings, db)
    expired = jobs.enqueue(db, dispatcher, "napper", {"width": 38.0}, ["stl"], "draft")["id"]
    assert _poll_until_finished(client, expired)["status"] == "failed"
    values = {**env, "OPENDESIGN_BROKER_URL": broker.url, "OPENDESIGN_RENDER_POOL_SIZE": "1",
              "OPENDESIGN_RENDER_UNCLAIMED_TIMEOUT": "1"}
    worker = Worker(values, "late", tmp_path)
    try:
        wait_for_workers(dispatcher, ["late@test"])
        # Busy with a slow render, the live worker leaves the next job queued past the 1 s deadline:
        # it is behind a render, not unserved, and is not failed.
        slow = jobs.enqueue(db, dispatcher, "napper", {"width": 39.0, "nap": 4.0}, ["stl"], "draft")["id"]
        behind = jobs.enqueue(db, dispatcher, "napper", {"width": 40.0}, ["stl"], "draft")["id"]
        assert _poll_until_finished(client, slow, 240)["status"] == "done"
        assert _poll_until_finished(client, behind, 240)["status"] == "done"
        # The expired job's message was still in the queue: the worker took it and left it failed.
        late = jobs.get_job(db, expired)
        assert late["state"] == "failed" and late["attempts"] == 0, late
        import redis

        assert redis.Redis.from_url(broker.url).llen("preview") == 0
    finally:
        worker.stop()
