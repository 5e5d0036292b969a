"""Render jobs through a real Redis broker and real ``opendesign worker`` subprocesses.

No eager mode and no mocks: every test starts its own ``redis-server`` and
worker processes (each with its own warm pool and bubblewrap zygote) on the
test's catalogue. What is checked is state in the catalogue database (jobs,
artifacts), never how long something took.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from opendesign.catalogue.importer import import_designs
from opendesign.config import ConfigError, load_settings
from opendesign.models import Artifact, RenderJobRow
from renderers import celery_app, jobs
from renderers.celery_dispatch import BrokerUnavailable, CeleryDispatcher
from renderers.errors import SANDBOX_FAILURE, SCRIPT_ERROR
from tests.celery_support import RedisServer, Worker, free_port, wait_for, wait_for_workers

NAPPING_MODEL = '''import time

import cadquery as cq


def build(params):
    time.sleep(params["nap"])
    return cq.Workplane("XY").box(params["width"], 10, 5)
'''

#: Kills its own sandbox worker every time: the job can never succeed.
POISONED_MODEL = '''import os
import signal


def build(params):
    os.kill(os.getppid(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
'''

PARAMETERS = [
    {"name": "width", "type": "float", "default": 20.0, "min": 5.0, "max": 100.0, "label": "Width"},
    {"name": "nap", "type": "float", "default": 0.0, "min": 0.0, "max": 30.0, "label": "Nap"},
]
PARTS = [{"name": "body", "material": "PETG", "process": "fdm", "quantity": 1}]


@pytest.fixture
def broker(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def cluster(env, broker, db, make_design, monkeypatch, tmp_path):
    """The test's catalogue with a napping design, a broker and a way to start workers."""
    values = {**env, "OPENDESIGN_BROKER_URL": broker.url, "OPENDESIGN_RENDER_TIMEOUT": "20",
              "OPENDESIGN_BROKER_VISIBILITY_TIMEOUT": "50", "OPENDESIGN_RENDER_POOL_SIZE": "1",
              # Its designs are CadQuery: without build123d each worker's sandbox starts ~12 s sooner.
              "OPENDESIGN_RENDER_PRELOAD_BUILD123D": "false"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    make_design("napper", model=NAPPING_MODEL, parameters=PARAMETERS, parts=PARTS)
    make_design("poisoned", model=POISONED_MODEL, parameters=PARAMETERS, parts=PARTS)
    assert import_designs(db, [make_design.root]).ok
    settings = load_settings()
    started: list[Worker] = []

    class Cluster:
        def __init__(self):
            self.settings, self.db, self.env, self.broker = settings, db, values, broker
            self.dispatcher = CeleryDispatcher(settings, db)

        def worker(self, name: str, **kwargs) -> Worker:
            w = Worker(values, name, tmp_path, **kwargs)
            started.append(w)
            return w

        def job(self, slug: str = "napper", queue: str = "preview", **params) -> str:
            return jobs.create_job(db, slug, params, ["stl"], "draft", None, queue)

        def state(self, job_id: str) -> dict:
            return jobs.get_job(db, job_id)

        def finished(self, job_id: str, timeout: float = 240) -> dict:
            return wait_for(lambda: (j := self.state(job_id))["state"] in ("done", "failed") and j, timeout,
                            f"job {job_id} to finish")

    yield Cluster()
    for w in started:
        w.stop()


def test_visibility_timeout_must_exceed_the_longest_render():
    settings = load_settings(environ={}, render_timeout=60, broker_url="redis://127.0.0.1:1/0")
    assert celery_app.visibility_timeout(settings) > celery_app.longest_render(settings)
    too_short = settings.model_copy(update={"broker_visibility_timeout": 30.0})
    with pytest.raises(ConfigError, match="broker_visibility_timeout = 30 s must be above"):
        celery_app.make_celery(too_short)


def test_worker_refuses_without_an_isolating_sandbox(cluster, tmp_path):
    refused = Worker({**cluster.env, "OPENDESIGN_RENDER_USE_BWRAP": "false"}, "refused", tmp_path)
    assert refused.proc.wait(timeout=120) == 2
    out = refused.output()
    assert "refusing to start a render worker: the render sandbox is not isolated" in out
    assert "render_use_bwrap = false" in out and "--allow-unsandboxed" in out
    refused.stop()


def test_unreachable_broker_is_a_clear_error(settings):
    dead = settings.model_copy(update={"broker_url": f"redis://127.0.0.1:{free_port()}/0"})
    dispatcher = CeleryDispatcher(dead)
    with pytest.raises(BrokerUnavailable, match="renders are unavailable: the broker redis://127.0.0.1:"):
        dispatcher.submit("nojob", "preview")
    report = dispatcher.describe()
    assert report["reachable"] is False and report["workers"] == {} and report["error"]


def test_closing_a_celery_dispatcher_releases_its_broker_connections_and_refuses_jobs(settings, tmp_path):
    import redis

    broker = RedisServer(tmp_path).start()
    try:
        client = redis.Redis(port=broker.port)

        def connections() -> set[str]:
            return {c["id"] for c in client.client_list()}

        before = connections()
        dispatcher = CeleryDispatcher(settings.model_copy(update={"broker_url": broker.url}))
        dispatcher.submit("job-a", "preview")
        assert client.llen("preview") == 1
        opened = connections() - before  # the producer's pooled connection(s)
        assert opened
        assert dispatcher.close(wait=5) is True
        wait_for(lambda: not (connections() & opened), 10, "the dispatcher's broker connections closed")
        with pytest.raises(RuntimeError, match="dispatcher is closed"):
            dispatcher.submit("job-b", "preview")
        assert client.llen("preview") == 1  # the queued message stays for a worker; nothing new was sent
    finally:
        broker.stop()


def test_worker_renders_a_job_and_reports_its_sandbox(cluster):
    w = cluster.worker("one")
    replies = wait_for_workers(cluster.dispatcher, ["one@test"])
    assert replies["one@test"]["isolated"] is True and replies["one@test"]["slots"] == 1
    assert replies["one@test"]["queues"] == ["preview", "batch"]  # what the web app counts as room to render ahead
    job_id = cluster.job(width=21.0)
    cluster.dispatcher.submit(job_id, "preview")
    done = cluster.finished(job_id)
    assert done["state"] == "done", done
    assert [f["format"] for f in done["files"]] == ["stl"]
    described = cluster.dispatcher.describe()
    assert described["reachable"] and "one@test" in described["workers"]
    # A second message for the same job (a redelivery) finds it done and changes nothing.
    cluster.dispatcher.submit(job_id, "preview")
    again = cluster.job(width=21.0)
    assert again == job_id
    wait_for(lambda: w.output().count("succeeded") >= 2, 120,
             "the worker to take the second message")
    assert cluster.state(job_id)["attempts"] == 1


@pytest.mark.slow
def test_previews_are_served_before_a_batch_flood(cluster):
    batch = [cluster.job(queue="batch", width=30.0 + i, nap=0.5) for i in range(4)]
    for job_id in batch:
        cluster.dispatcher.submit(job_id, "batch")
    preview = cluster.job(width=60.0)
    cluster.dispatcher.submit(preview, "preview")
    cluster.worker("order")  # starts after everything is queued: the order it serves is the queues' order
    for job_id in [*batch, preview]:
        assert cluster.finished(job_id)["state"] == "done"
    with cluster.db.session() as s:
        order = [r.id for r in s.scalars(select(RenderJobRow).order_by(RenderJobRow.updated_at))]
    assert order.index(preview) == 0, order


@pytest.mark.slow
def test_a_worker_killed_mid_render_hands_the_job_to_another(cluster):
    first = cluster.worker("doomed")
    wait_for_workers(cluster.dispatcher, ["doomed@test"])
    job_id = cluster.job(width=42.0, nap=6.0)
    cluster.dispatcher.submit(job_id, "preview")
    wait_for(lambda: cluster.state(job_id)["state"] == "running", 120, "the job to start")
    first.kill9()
    cluster.worker("rescuer")
    done = cluster.finished(job_id, timeout=400)
    assert done["state"] == "done", done
    assert done["attempts"] == 2  # one lost, one finished
    with cluster.db.session() as s:
        assert s.scalar(select(func.count()).select_from(RenderJobRow)) == 1
        keys = [f["key"] for f in done["files"]]
        assert s.scalar(select(func.count()).select_from(Artifact).where(Artifact.cache_key.in_(keys))) == len(keys)


@pytest.mark.slow
def test_the_same_key_on_two_workers_renders_once(cluster):
    a, b = cluster.worker("left"), cluster.worker("right")
    wait_for_workers(cluster.dispatcher, ["left@test", "right@test"])
    job_id = cluster.job(width=33.0, nap=4.0)
    cluster.dispatcher.submit(job_id, "preview")
    cluster.dispatcher.submit(job_id, "preview")  # the same key asked for twice, taken by both workers
    done = cluster.finished(job_id)
    assert done["state"] == "done" and done["attempts"] == 1
    wait_for(lambda: "another worker holds the job" in a.output() + b.output(), 60,
             "the second worker to find the job claimed")


@pytest.mark.slow
def test_a_design_that_kills_its_sandbox_worker_fails_once_and_the_worker_survives(cluster):
    cluster.worker("sturdy")
    wait_for_workers(cluster.dispatcher, ["sturdy@test"])
    job_id = cluster.job("poisoned")
    cluster.dispatcher.submit(job_id, "preview")
    failed = cluster.finished(job_id)
    # The crash is the design's own (its confined child died), not the worker's: no retry.
    assert failed["state"] == "failed" and failed["category"] == SCRIPT_ERROR and failed["attempts"] == 1
    assert "sturdy@test" in wait_for_workers(cluster.dispatcher, ["sturdy@test"])
    healthy = cluster.job(width=55.0)
    cluster.dispatcher.submit(healthy, "preview")
    assert cluster.finished(healthy)["state"] == "done"


@pytest.mark.slow
def test_a_crashed_sandbox_is_retried_on_the_same_worker(cluster):
    import os
    import signal

    cluster.worker("phoenix")
    wait_for_workers(cluster.dispatcher, ["phoenix@test"])
    job_id = cluster.job(width=61.0, nap=6.0)
    cluster.dispatcher.submit(job_id, "preview")
    wait_for(lambda: cluster.state(job_id)["state"] == "running", 120, "the job to start")
    zygote = wait_for_workers(cluster.dispatcher, ["phoenix@test"])["phoenix@test"]["zygote_pid"]
    os.killpg(zygote, signal.SIGKILL)  # the sandbox dies under the render (not the design's fault)
    done = cluster.finished(job_id)
    assert done["state"] == "done" and done["attempts"] == 2, done
    replies = wait_for_workers(cluster.dispatcher, ["phoenix@test"])
    assert replies["phoenix@test"]["zygote_pid"] != zygote  # a fresh sandbox took over


@pytest.mark.slow
def test_a_job_that_kills_its_worker_every_time_fails_after_its_attempts(cluster):
    job_id = cluster.job(width=44.0, nap=20.0)
    cluster.dispatcher.submit(job_id, "preview")
    for attempt in range(1, jobs.MAX_ATTEMPTS + 1):
        victim = cluster.worker(f"victim{attempt}")
        wait_for(lambda: (j := cluster.state(job_id))["state"] == "running" and j["attempts"] == attempt, 300,
                 f"claim {attempt} of the job")
        victim.kill9()  # as the OOM killer would, each time this job runs
    survivor = cluster.worker("survivor")
    failed = cluster.finished(job_id, timeout=400)
    assert failed["state"] == "failed" and failed["category"] == SANDBOX_FAILURE, failed
    assert str(jobs.MAX_ATTEMPTS) in failed["error"]
    assert survivor.alive()
    healthy = cluster.job(width=56.0)
    cluster.dispatcher.submit(healthy, "preview")
    assert cluster.finished(healthy)["state"] == "done"


def test_a_sweep_puts_back_jobs_the_broker_lost_and_fails_them_when_it_is_gone(cluster, monkeypatch):
    from renderers import job_sweeper

    lost = cluster.job(width=71.0)  # never published: as if Redis had forgotten it
    fresh = cluster.job(width=72.0)
    monkeypatch.setattr(job_sweeper, "visibility_timeout", lambda settings: 0.0)  # everything has waited long
    with cluster.db.session() as s:  # only the first has waited; the other was just asked for
        s.get(RenderJobRow, fresh).updated_at = datetime(9999, 1, 1, tzinfo=UTC)
    counts = job_sweeper.sweep(cluster.db, cluster.settings, cluster.dispatcher)
    assert counts == {"republished": 1, "failed": 0}
    import redis

    queued = redis.Redis.from_url(cluster.broker.url).lrange("preview", 0, -1)
    assert len(queued) == 1 and lost.encode() in queued[0]
    # The broker gone too: the job fails, saying why, instead of waiting for ever.
    cluster.broker.stop()
    counts = job_sweeper.sweep(cluster.db, cluster.settings, cluster.dispatcher)
    assert counts == {"republished": 0, "failed": 1}
    failed = cluster.state(lost)
    assert failed["state"] == "failed" and "the broker lost this render" in failed["error"]
    assert cluster.state(fresh)["state"] == "queued"


@pytest.mark.slow
def test_queued_renders_resume_after_the_broker_restarts(cluster):
    cluster.worker("steady")
    wait_for_workers(cluster.dispatcher, ["steady@test"])
    running = cluster.job(width=81.0, nap=5.0)
    cluster.dispatcher.submit(running, "preview")
    waiting = [cluster.job(queue="batch", width=82.0 + i) for i in range(2)]
    for job_id in waiting:
        cluster.dispatcher.submit(job_id, "batch")
    wait_for(lambda: cluster.state(running)["state"] == "running", 120, "the first job to start")
    cluster.broker.stop()  # no persistence: the queued messages are gone
    cluster.broker.start()
    for job_id in [running, *waiting]:
        assert cluster.finished(job_id, timeout=400)["state"] == "done"


def test_each_queue_gets_only_its_own_messages(cluster):
    import redis

    cluster.dispatcher.submit(cluster.job(width=91.0), "batch")
    cluster.dispatcher.submit(cluster.job(width=92.0), "preview")
    cluster.dispatcher.submit(cluster.job(width=93.0), "preview", low_priority=True)  # speculative: behind previews
    client = redis.Redis.from_url(cluster.broker.url)
    assert (client.llen("preview"), client.llen("batch")) == (1, 2)


def test_cli_render_with_a_broker_and_no_worker_says_so(cluster):
    from click.testing import CliRunner

    from opendesign.cli import main

    result = CliRunner(env=cluster.env).invoke(main, ["render", "napper", "-p", "width=74"])
    assert result.exit_code == 3, result.output
    assert "no render worker answers" in result.output and "opendesign worker" in result.output


def test_the_cli_wait_for_a_job_no_worker_takes_ends_failed(cluster):
    from renderers.job_client import JobRenderer

    settings = cluster.settings.model_copy(update={"render_unclaimed_timeout": 1.0})
    job_id = cluster.job(width=75.0)
    cluster.dispatcher.submit(job_id, "preview")  # its worker is gone before taking it
    done = JobRenderer(settings, cluster.db, dispatcher=CeleryDispatcher(settings, cluster.db)).wait(job_id)
    assert done["state"] == "failed" and done["category"] == SANDBOX_FAILURE, done
    assert "no render worker took this job within 1 s" in done["error"] and "opendesign worker" in done["error"]


@pytest.mark.slow
def test_cli_render_and_bundles_go_to_the_workers(cluster, tmp_path):
    import json

    from click.testing import CliRunner

    from opendesign.cli import main

    cluster.worker("cli")
    wait_for_workers(cluster.dispatcher, ["cli@test"])
    runner = CliRunner(env=cluster.env)
    result = runner.invoke(main, ["render", "napper", "-p", "width=75", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["artifacts"][0]["cache"] == "hit"  # the worker made it; this process read it
    result = runner.invoke(main, ["bundle", "build", "napper", "-p", "width=76", "-o", str(tmp_path / "dist"), "--json"])
    assert result.exit_code == 0, result.output
    with cluster.db.session() as s:
        rows = {r.queue: r for r in s.scalars(select(RenderJobRow))}
    assert rows["preview"].state == "done" and rows["batch"].state == "done"
    assert set(rows["batch"].formats.split(",")) == {"stl", "3mf", "step", "glb", "svg"}
