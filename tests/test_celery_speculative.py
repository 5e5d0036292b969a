"""Speculative draft renders on a Celery cluster: idle workers only, budgets shared through Redis.

Real Redis (a private ``redis-server`` per test, as in :mod:`tests.celery_support`)
and, where something must render, real ``opendesign worker`` subprocesses; two app
instances stand for two web processes. What is checked is what the database,
the broker's queues and the workers hold, never how long anything took.
"""

from __future__ import annotations

import pytest
import redis
from sqlalchemy import func, select

from opendesign.catalogue import removal
from opendesign.config import load_settings
from opendesign.models import Artifact, RenderJobRow
from renderers.capacity import Capacity
from tests.celery_support import Worker, wait_for, wait_for_workers
from tests.test_celery_web import napper  # noqa: F401 - a fixture
from tests.test_celery_workers import broker  # noqa: F401 - a fixture
from web import create_app
from web.speculative_budgets import Guard, RedisBudget

AHEAD = "format=glb&quality=draft&speculative=1"


def _app(db, settings, **config):
    return create_app({"TESTING": True, "SETTINGS": settings, "DATABASE": db, "MIGRATE": False,
                       "SECRET_KEY": "test-secret", "SERVER_NAME": "localhost", **config})


@pytest.fixture
def apps():
    made = []

    def make(db, settings, **config):
        app = _app(db, settings, **config)
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["opendesign.search"].close()


@pytest.fixture
def cluster_env(env, broker, monkeypatch):
    """The test's catalogue on the private broker, with settings a worker starts quickly with."""
    values = {**env, "OPENDESIGN_BROKER_URL": broker.url, "OPENDESIGN_RENDER_POOL_SIZE": "1",
              "OPENDESIGN_RENDER_TIMEOUT": "20", "OPENDESIGN_BROKER_VISIBILITY_TIMEOUT": "50",
              "OPENDESIGN_RENDER_PRELOAD_BUILD123D": "false"}  # CadQuery designs only
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture
def workers(cluster_env, tmp_path):
    started: list[Worker] = []

    def start(name: str, **kwargs) -> Worker:
        worker = Worker(cluster_env, name, tmp_path, **kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def _jobs(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(RenderJobRow))


def _artifacts(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count(Artifact.id)))


def _queued_messages(broker) -> int:
    client = redis.Redis.from_url(broker.url)
    return client.llen("preview") + client.llen("batch")


def _done(client, job_url: str, timeout: float = 240) -> dict:
    path = job_url.replace("http://localhost", "")
    return wait_for(lambda: (j := client.get(path).get_json())["status"] != "pending" and j, timeout,
                    f"{path} to finish")


# -- without a worker ------------------------------------------------------------------------------------------


def test_speculative_render_of_a_design_the_visitor_cannot_see_makes_nothing_on_celery(db, cluster_env, napper,
                                                                                       broker, apps):
    client = apps(db, load_settings()).test_client()
    assert client.get(f"/api/v1/designs/no-such-design/render?width=21&{AHEAD}").status_code == 404
    assert client.get(f"/api/v1/designs/napper/render?width=21&version=9.9.9&{AHEAD}").status_code == 404
    # Visible, but no worker answers the ping: no slot anywhere, declined before anything is queued.
    r = client.get(f"/api/v1/designs/napper/render?width=21&{AHEAD}")
    assert r.status_code == 204 and r.headers["X-Speculative-Reason"] == "busy"
    with db.session() as s:
        removal.remove(s, "napper")
    r = client.get(f"/api/v1/designs/napper/render?width=21&{AHEAD}")
    assert r.status_code == 404 and "napper" in r.get_json()["error"]["message"]
    assert _jobs(db) == 0 and _artifacts(db) == 0 and _queued_messages(broker) == 0


def test_speculative_render_with_the_shared_redis_gone_is_declined_not_an_error(db, settings, napper, apps):
    from tests.celery_support import free_port

    gone = settings.model_copy(update={"broker_url": f"redis://127.0.0.1:{free_port()}/0"})
    r = apps(db, gone).test_client().get(f"/api/v1/designs/napper/render?width=21&{AHEAD}")
    assert r.status_code == 204 and r.headers["X-Speculative-Reason"] == "unavailable"
    assert _jobs(db) == 0


def test_idle_slots_count_only_live_workers_and_none_when_no_worker_serves_batch():
    def report(*workers):
        return {"kind": "celery", "reachable": True,
                "workers": {f"w{i}@h": {"slots": slots, "queues": queues} for i, (slots, queues) in enumerate(workers)}}

    cluster = Capacity.of(report((1, ["preview", "batch"]), (1, ["preview"])))  # the `make cluster` layout
    assert (cluster.slots, cluster.batch_slots) == (2, 1)
    assert [cluster.idle(n) for n in (0, 1, 2, 3)] == [2, 1, 0, 0]
    # Only preview-only workers (or ones that did not say): a render ahead would never be taken.
    assert Capacity.of(report((4, ["preview"]), (2, None))).idle(0) == 0
    # An answer without slots counts for nothing; an unreachable broker means no worker at all.
    assert Capacity.of(report((2, ["batch"]), ("?", ["batch"]))).slots == 2
    assert Capacity.of({**report((2, ["batch"])), "reachable": False}).idle(0) == 0


def test_redis_budgets_and_guard_are_one_for_every_web_process(broker):
    # Two clients stand for two web processes: what one takes, the other sees.
    first, second = (redis.Redis.from_url(broker.url) for _ in range(2))
    a, b = (RedisBudget(c, "t:visitor", in_flight=1, per_minute=2) for c in (first, second))
    running = {"job1"}

    def pending(job):
        return job in running

    assert not b.refuses("ada", pending)
    a.take("ada", "job1")
    assert b.refuses("ada", pending)  # one in flight, seen by the other process
    assert not b.refuses("grace", pending)  # somebody else's budget is their own
    running.clear()
    assert not b.refuses("ada", pending)  # done: the slot of the budget is free again
    b.take("ada", "job2")
    # Nothing stays in Redis for a visitor who has gone: both keys expire on their own.
    assert first.ttl("t:visitor:accepted:ada") > 0 and first.ttl("t:visitor:jobs:ada") > 0
    assert a.refuses("ada", pending)  # two accepted this minute, one through each process (none in flight)
    # The guard: while one process holds it, the other is refused rather than kept waiting long.
    one, other = Guard(first, "t:lock"), Guard(second, "t:lock", wait=0.2)
    with one.held() as held:
        assert held
        with other.held() as also:
            assert not also
    with other.held() as held:
        assert held


# -- on real workers -------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_an_idle_cluster_renders_ahead_on_a_batch_worker_and_a_busy_one_declines(db, cluster_env, napper, broker,
                                                                                 workers, apps):
    from renderers import jobs
    from renderers.celery_dispatch import CeleryDispatcher

    settings = load_settings()
    # The `make cluster` layout: one worker on both queues, one serving previews only; one slot each.
    ahead, previews = workers("ahead"), workers("previews", queues="preview")
    dispatcher = CeleryDispatcher(settings, db)
    wait_for_workers(dispatcher, ["ahead@test", "previews@test"])
    client = apps(db, settings).test_client()

    r = client.get(f"/api/v1/designs/napper/render?width=21&{AHEAD}")
    assert r.status_code == 202, r.get_data(as_text=True)
    job = _done(client, r.get_json()["job"])
    assert job["status"] == "done", job
    with db.session() as s:
        assert s.get(RenderJobRow, job["id"]).queue == "batch"
    # Run by the worker that serves batch; the previews-only worker never saw it.
    assert job["id"] in ahead.output() and job["id"] not in previews.output()
    # Rendered ahead: the real request is a cache hit on that file.
    r = client.get("/api/v1/designs/napper/render?width=21&format=glb&quality=draft")
    assert r.status_code == 200 and r.headers["X-Content-SHA256"] == job["files"][0]["sha256"]

    # Every slot busy with a render somebody waits for: the offer is declined, nothing is queued.
    busy = [jobs.enqueue(db, dispatcher, "napper", {"width": w, "nap": 5.0}, ["stl"], "draft")["id"]
            for w in (30.0, 31.0)]
    wait_for(lambda: all(jobs.get_job(db, j)["state"] == "running" for j in busy), 120, "both slots to be busy")
    before = _jobs(db)
    r = client.get(f"/api/v1/designs/napper/render?width=22&{AHEAD}")
    assert r.status_code == 204 and r.headers["X-Speculative-Reason"] == "busy"
    assert _jobs(db) == before and _queued_messages(broker) == 0


@pytest.mark.slow
def test_speculative_budgets_are_shared_by_two_web_apps(db, cluster_env, napper, workers, apps):
    settings = load_settings()
    workers("shared", concurrency=2)
    from renderers.celery_dispatch import CeleryDispatcher

    wait_for_workers(CeleryDispatcher(settings, db), ["shared@test"])
    config = {"SPECULATIVE_RESERVED_SLOTS": 0, "SPECULATIVE_PER_VISITOR": 1, "SPECULATIVE_VISITOR_PER_MINUTE": 100,
              "SPECULATIVE_PER_DESIGN": 100, "SPECULATIVE_DESIGN_PER_MINUTE": 2}
    first, second = apps(db, settings, **config), apps(db, settings, **config)

    def visitor(app, address):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        return client

    ada_1, ada_2 = visitor(first, "192.0.2.1"), visitor(second, "192.0.2.1")
    grace_2, carol_1 = visitor(second, "192.0.2.2"), visitor(first, "192.0.2.3")

    r = ada_1.get(f"/api/v1/designs/napper/render?width=21&nap=3&{AHEAD}")
    assert r.status_code == 202, r.get_data(as_text=True)
    napping = r.get_json()["job"]
    # Ada's render is in flight (it naps): the other web process knows, and refuses her a second.
    r = ada_2.get(f"/api/v1/designs/napper/render?width=22&{AHEAD}")
    assert r.status_code == 204 and r.headers["X-Speculative-Reason"] == "visitor-budget"
    r = grace_2.get(f"/api/v1/designs/napper/render?width=23&{AHEAD}")
    assert r.status_code == 202, r.get_data(as_text=True)  # another visitor, a slot still idle
    accepted = [napping, r.get_json()["job"]]
    for job in accepted:
        assert _done(ada_2, job)["status"] == "done"
    # Two renders of the design this minute, one through each process: the design's budget is spent.
    r = carol_1.get(f"/api/v1/designs/napper/render?width=24&{AHEAD}")
    assert r.status_code == 204 and r.headers["X-Speculative-Reason"] == "design-budget"
    assert _jobs(db) == 2  # nothing was queued for the declined offers
