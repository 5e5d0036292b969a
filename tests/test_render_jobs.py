"""Render jobs in the database (renderers.jobs) and the local dispatcher (renderers.dispatch).

A fake pool stands in for the sandbox: what is under test is the job table —
one id per render, one claim per job, failures remembered — not CadQuery.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from opendesign.catalogue.importer import import_designs
from opendesign.config import load_settings
from opendesign.models import RenderFailure, RenderJobRow, utcnow
from renderers import jobs
from renderers.dispatch import LocalDispatcher, get_dispatcher
from renderers.errors import RenderError

from .test_render_cache import FakePool


@pytest.fixture
def widget(db, make_design):
    assert import_designs(db, [make_design("test-widget")]).ok
    return "test-widget"


class GatedPool(FakePool):
    """A fake pool whose renders wait until the test opens the gate."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.gate = threading.Event()
        self.started = threading.Event()

    def render(self, job):
        self.started.set()
        assert self.gate.wait(30), "the test never opened the gate"
        return super().render(job)


def test_the_same_request_gives_the_same_job(db, widget):
    a = jobs.create_job(db, widget, {"width": 30}, ["stl"], "normal", None, "preview")
    b = jobs.create_job(db, widget, {"width": "30.0", "holes": 2}, ("stl",), "normal", None, "preview")
    c = jobs.create_job(db, widget, {"width": 31}, ["stl"], "normal", None, "preview")
    d = jobs.create_job(db, widget, {"width": 30}, ["stl"], "draft", None, "preview")
    assert a == b and len({a, c, d}) == 3
    job = jobs.get_job(db, a)
    assert job["status"] == "pending" and job["state"] == "queued" and job["formats"] == ["stl"]
    assert job["parameters"]["width"] == 30.0 and job["queue"] == "preview" and job["attempts"] == 0
    with db.session() as s:
        assert len(s.scalars(select(RenderJobRow)).all()) == 3


def test_bad_input_is_refused_naming_the_field(db, widget):
    with pytest.raises(RenderError) as info:
        jobs.create_job(db, widget, {"width": 1000}, ["stl"], "normal", None, "preview")
    assert info.value.category == "invalid-params" and "width" in str(info.value)
    with pytest.raises(RenderError, match="no part 'lid'"):
        jobs.create_job(db, widget, {}, ["stl"], "normal", "lid", "preview")
    with pytest.raises(ValueError, match="queue"):
        jobs.create_job(db, widget, {}, ["stl"], "normal", None, "urgent")
    assert jobs.get_job(db, "0" * 32) is None


def test_run_job_renders_and_records_the_files(db, settings, widget):
    pool = FakePool()
    job_id = jobs.create_job(db, widget, {"width": 25}, ["stl", "step"], "normal", "body", "batch")
    done = jobs.run_job(settings, db, job_id, pool=pool)
    assert done["status"] == "done" and done["attempts"] == 1 and pool.calls == 1
    assert [(f["format"], f["part"]) for f in done["files"]] == [("stl", None), ("step", None)]
    assert done["files"][0]["url"] == f"/files/{done['files'][0]['sha256']}.stl"
    # a done job is not run again, and asking again gives the same, done job
    assert jobs.run_job(settings, db, job_id, pool=pool)["attempts"] == 1 and pool.calls == 1
    assert jobs.create_job(db, widget, {"width": 25}, ["stl", "step"], "normal", "body", "batch") == job_id
    assert jobs.get_job(db, job_id)["status"] == "done"


class NicePool(FakePool):
    """A fake pool that notes the niceness each job was asked to build at."""

    def __init__(self):
        super().__init__()
        self.nices: list[int] = []

    def render(self, job):
        self.nices.append(job.nice)
        return super().render(job)


def test_batch_jobs_build_niced_and_previews_do_not(db, settings, widget):
    pool = NicePool()
    batch = jobs.create_job(db, widget, {"width": 21}, ["stl"], "normal", None, "batch")
    preview = jobs.create_job(db, widget, {"width": 22}, ["stl"], "normal", None, "preview")
    waited_for = jobs.create_job(db, widget, {"width": 23}, ["stl"], "normal", None, "batch")
    # Somebody now waits for it at a page: it moves to the preview queue and builds at full priority.
    assert jobs.create_job(db, widget, {"width": 23}, ["stl"], "normal", None, "preview") == waited_for
    speculative = jobs.create_job(db, widget, {"width": 24}, ["stl"], "normal", None, "batch")
    for job_id in (batch, preview, waited_for):
        assert jobs.run_job(settings, db, job_id, pool=pool)["status"] == "done"
    assert jobs.run_job(settings, db, speculative, pool=pool, nice=15)["status"] == "done"
    assert pool.nices == [jobs.BATCH_NICE, 0, 0, 15]


def test_states_reads_many_jobs_at_once(db, settings, widget):
    a = jobs.create_job(db, widget, {"width": 26}, ["stl"], "normal", None, "preview")
    b = jobs.create_job(db, widget, {"width": 27}, ["stl"], "normal", None, "preview")
    jobs.run_job(settings, db, a, pool=FakePool())
    assert jobs.states(db, [a, b, a, "0" * 32]) == {a: "done", b: "queued"}
    assert jobs.states(db, []) == {}


def test_a_message_for_no_job_is_dropped_and_one_for_a_job_runs_it(db, settings, widget):
    from renderers.job_delivery import deliver

    pool = FakePool()
    assert deliver(settings, db, "0" * 32, pool=pool) is None and pool.calls == 0
    job_id = jobs.create_job(db, widget, {"width": 28}, ["stl"], "normal", None, "preview")
    done = deliver(settings, db, job_id, pool=pool)
    assert done["state"] == "done" and done["attempts"] == 1 and pool.calls == 1
    assert deliver(settings, db, job_id, pool=pool)["attempts"] == 1 and pool.calls == 1  # a redelivery


def test_a_done_job_whose_files_left_the_cache_is_queued_again(db, settings, widget):
    job_id = jobs.create_job(db, widget, {"width": 26}, ["stl"], "normal", None, "preview")
    jobs.run_job(settings, db, job_id, pool=FakePool())
    from renderers.cache import FileArtifactStore

    FileArtifactStore(db, settings).discard(jobs.get_job(db, job_id)["files"][0]["key"])
    assert jobs.create_job(db, widget, {"width": 26}, ["stl"], "normal", None, "preview") == job_id
    assert jobs.get_job(db, job_id)["state"] == "queued"


def test_two_workers_claim_the_same_job_once(db, settings, widget):
    pool = GatedPool()
    job_id = jobs.create_job(db, widget, {"width": 27}, ["stl"], "normal", None, "preview")
    results = []
    first = threading.Thread(target=lambda: results.append(jobs.run_job(settings, db, job_id, pool=pool)))
    first.start()
    assert pool.started.wait(30)
    # the second worker finds the job running with a fresh heartbeat: it leaves it alone
    second = jobs.run_job(settings, db, job_id, pool=pool)
    assert second["state"] == "running"
    pool.gate.set()
    first.join(30)
    assert results[0]["status"] == "done" and pool.calls == 1 and results[0]["attempts"] == 1


def test_a_running_job_whose_worker_died_is_claimed_again(db, settings, widget):
    job_id = jobs.create_job(db, widget, {"width": 28}, ["stl"], "normal", None, "preview")
    stale = utcnow() - timedelta(seconds=jobs.STALE_SECONDS + 5)
    with db.session() as s:  # as a worker killed mid-render leaves it
        s.execute(update(RenderJobRow).where(RenderJobRow.id == job_id)
                  .values(state="running", attempts=1, heartbeat_at=stale))
    assert jobs.needs_dispatch(db, job_id)
    done = jobs.run_job(settings, db, job_id, pool=FakePool())
    assert done["status"] == "done" and done["attempts"] == 2


def test_a_job_that_keeps_killing_its_worker_is_given_up(db, settings, widget):
    job_id = jobs.create_job(db, widget, {"width": 28}, ["stl"], "normal", None, "preview")
    stale = utcnow() - timedelta(seconds=jobs.STALE_SECONDS + 5)
    with db.session() as s:
        s.execute(update(RenderJobRow).where(RenderJobRow.id == job_id)
                  .values(state="running", attempts=jobs.MAX_ATTEMPTS, heartbeat_at=stale))
    pool = FakePool()
    failed = jobs.run_job(settings, db, job_id, pool=pool)
    assert failed["status"] == "failed" and failed["category"] == "sandbox-failure" and pool.calls == 0
    assert "stopped its worker 3 times" in failed["error"]


def test_a_failure_is_remembered_and_not_run_again(db, settings, widget):
    pool = FakePool(fail=True)
    job_id = jobs.create_job(db, widget, {"width": 29}, ["stl"], "normal", None, "preview")
    failed = jobs.run_job(settings, db, job_id, pool=pool)
    assert failed["status"] == "failed" and failed["category"] == "script-error" and "boom" in failed["error"]
    assert pool.calls == 1
    # asking again (another format too) is answered from memory: nothing queued, nothing run
    again = jobs.create_job(db, widget, {"width": 29}, ["stl"], "normal", None, "preview")
    other = jobs.create_job(db, widget, {"width": 29}, ["glb"], "normal", None, "preview")
    for jid in (again, other):
        job = jobs.get_job(db, jid)
        assert job["status"] == "failed" and "remembered until" in job["error"] and "boom" in job["error"]
        assert not jobs.needs_dispatch(db, jid)
    assert jobs.run_job(settings, db, other, pool=pool)["status"] == "failed" and pool.calls == 1
    # other parameters are not affected; once the memory expires the job runs again
    assert jobs.get_job(db, jobs.create_job(db, widget, {"width": 30}, ["stl"], "normal", None,
                                            "preview"))["state"] == "queued"
    with db.session() as s:
        s.execute(update(RenderFailure).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert jobs.create_job(db, widget, {"width": 29}, ["stl"], "normal", None, "preview") == job_id
    assert jobs.get_job(db, job_id)["state"] == "queued"
    assert jobs.run_job(settings, db, job_id, pool=FakePool())["status"] == "done"


def test_failure_memory_can_be_turned_off(db, widget, env):
    settings = load_settings(render_failure_ttl=0)
    job_id = jobs.create_job(db, widget, {"width": 29}, ["stl"], "normal", None, "preview")
    jobs.run_job(settings, db, job_id, pool=FakePool(fail=True))
    assert jobs.create_job(db, widget, {"width": 29}, ["stl"], "normal", None, "preview") == job_id
    assert jobs.get_job(db, job_id)["state"] == "queued"


def test_old_finished_jobs_and_expired_failures_are_pruned(db, settings, widget):
    done = jobs.create_job(db, widget, {"width": 40}, ["stl"], "normal", None, "preview")
    jobs.run_job(settings, db, done, pool=FakePool())
    failed = jobs.create_job(db, widget, {"width": 41}, ["stl"], "normal", None, "preview")
    jobs.run_job(settings, db, failed, pool=FakePool(fail=True))
    queued = jobs.create_job(db, widget, {"width": 42}, ["stl"], "normal", None, "preview")
    assert jobs.prune(db) == 0  # nothing is old yet
    old = utcnow() - timedelta(seconds=jobs.KEEP_FINISHED_SECONDS + 1)
    with db.session() as s:
        s.execute(update(RenderJobRow).values(updated_at=old))
        s.execute(update(RenderFailure).values(expires_at=old))
    assert jobs.prune(db) == 2
    assert jobs.get_job(db, done) is None and jobs.get_job(db, failed) is None
    assert jobs.get_job(db, queued)["state"] == "queued"  # a job still waiting is never dropped
    with db.session() as s:
        assert s.scalars(select(RenderFailure)).all() == []


def test_local_dispatcher_runs_jobs_previews_first(db, settings, widget):
    pool = GatedPool()
    dispatcher = LocalDispatcher(settings, db, workers=1, pool=pool)
    try:
        blocker = jobs.enqueue(db, dispatcher, widget, {"width": 10}, ["stl"], queue="batch")
        assert pool.started.wait(30)
        batch = jobs.enqueue(db, dispatcher, widget, {"width": 11}, ["stl"], queue="batch")
        speculative = jobs.enqueue(db, dispatcher, widget, {"width": 12}, ["stl"], queue="preview",
                                   low_priority=True)
        preview = jobs.enqueue(db, dispatcher, widget, {"width": 13}, ["stl"], queue="preview")
        # a burst of the same request queues it once
        for _ in range(5):
            jobs.enqueue(db, dispatcher, widget, {"width": 13}, ["stl"], queue="preview")
        assert dispatcher.describe()["queued"] == {"preview": 1, "speculative": 1, "batch": 1}
        pool.gate.set()
        assert dispatcher.idle(30)
    finally:
        dispatcher.close()
    order = sorted((blocker, batch, speculative, preview),
                   key=lambda j: jobs.get_job(db, j["id"])["updated_at"])
    assert [o["id"] for o in order] == [blocker["id"], preview["id"], speculative["id"], batch["id"]]
    assert all(jobs.get_job(db, j["id"])["status"] == "done" for j in order) and pool.calls == 4


def test_closing_the_local_dispatcher_waits_for_the_running_job_and_leaves_the_queued_one(db, settings, widget):
    pool = GatedPool()
    dispatcher = LocalDispatcher(settings, db, workers=1, pool=pool)
    running = jobs.enqueue(db, dispatcher, widget, {"width": 15}, ["stl"], queue="preview")
    assert pool.started.wait(30)
    queued = jobs.enqueue(db, dispatcher, widget, {"width": 16}, ["stl"], queue="preview")
    assert dispatcher.close(wait=0.05) is False  # the running job is still rendering
    with pytest.raises(RuntimeError, match="closed"):
        dispatcher.submit(queued["id"], "preview")
    closed: list[bool] = []
    closer = threading.Thread(target=lambda: closed.append(dispatcher.close(wait=30)))
    closer.start()
    pool.gate.set()
    closer.join(30)
    assert closed == [True]
    assert jobs.get_job(db, running["id"])["status"] == "done"
    assert jobs.get_job(db, queued["id"])["state"] == "queued"  # never started here: another process may take it
    assert pool.calls == 1


def test_get_dispatcher_is_local_without_a_broker(db, settings):
    dispatcher = get_dispatcher(settings, db)
    assert isinstance(dispatcher, LocalDispatcher) and dispatcher.describe()["kind"] == "local"


def test_a_local_job_wakes_its_waiter_when_it_is_stored(db, settings, widget):
    """wait_finished blocks while the job runs here and returns once its state is final (no polling)."""
    pool = GatedPool()
    dispatcher = LocalDispatcher(settings, db, workers=1, pool=pool)
    try:
        assert dispatcher.wait_finished("no-such-job", 5) is False  # not held here: the caller polls
        job = jobs.enqueue(db, dispatcher, widget, {"width": 14}, ["stl"], queue="preview")
        assert pool.started.wait(30)
        assert dispatcher.wait_finished(job["id"], 0.05) is False  # still rendering: timed out
        woke = []
        waiter = threading.Thread(target=lambda: woke.append(dispatcher.wait_finished(job["id"], 30)))
        waiter.start()
        pool.gate.set()
        waiter.join(30)
        assert woke == [True]
        assert jobs.get_job(db, job["id"])["status"] == "done"  # stored before the waiter woke
    finally:
        dispatcher.close()
