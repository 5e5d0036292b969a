"""Putting back render jobs whose broker message was lost, and failing those that cannot be.

The catalogue database is the record of what was asked for; the broker only
carries reminders. A Redis that restarts without persistence (or is flushed, or
fails over) forgets its queued messages, and those jobs would stay ``queued``
for ever. Every worker runs a :class:`Sweeper`: a job that has waited longer
than the broker's visibility timeout (by then any message of it would have been
delivered, or redelivered) is published again. Duplicates are harmless, since
:func:`renderers.jobs.run_job` claims a job once, and each row is re-published
by one sweeper per period (a conditional ``UPDATE`` decides which). When the
broker cannot take the message either, the job fails with a message that says
so, rather than leaving its poller waiting.

A sweeper only runs where a worker runs. A job queued while no worker is alive
(or whose worker and message were both lost) is failed when it is read instead
(:func:`expire_if_unserved`, called by the web app's job URL and the CLI's
wait): once it has waited :func:`unclaimed_timeout` seconds unclaimed (or
running with a silent heartbeat) and no worker answers the broker's ping, it
fails as ``sandbox-failure`` saying how to start one. A worker that answers
means the job is behind other renders, not unserved, and it is left alone. The
failure is the cluster's, not the design's: it is never remembered
(:data:`renderers.jobs.REMEMBERED`), so asking again queues the render again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from opendesign.models import RenderJobRow, as_utc, utcnow

from . import jobs
from .celery_app import longest_render, visibility_timeout
from .errors import SANDBOX_FAILURE, RendersUnavailable

log = logging.getLogger(__name__)


def sweep_interval(settings) -> float:
    return max(1.0, min(30.0, visibility_timeout(settings) / 4))


def lost_jobs(db, settings) -> list[tuple[str, str, object]]:
    """(id, queue, updated_at) of jobs no live message stands for: long queued, or running without a heartbeat."""
    now = utcnow()
    waited = now - timedelta(seconds=visibility_timeout(settings))
    silent = now - timedelta(seconds=jobs.STALE_SECONDS)
    with db.session() as session:
        rows = session.execute(select(RenderJobRow.id, RenderJobRow.queue, RenderJobRow.updated_at).where(or_(
            and_(RenderJobRow.state == "queued", RenderJobRow.updated_at < waited),
            and_(RenderJobRow.state == "running", RenderJobRow.updated_at < waited,
                 or_(RenderJobRow.heartbeat_at.is_(None), RenderJobRow.heartbeat_at < silent)))))
        return [tuple(r) for r in rows]


def _take(db, job_id: str, seen) -> bool:
    """Whether this sweeper won the row for this period (its updated_at is bumped)."""
    with db.session() as session:
        won = session.execute(update(RenderJobRow)
                              .where(RenderJobRow.id == job_id, RenderJobRow.updated_at == seen)
                              .values(updated_at=utcnow())
                              .execution_options(synchronize_session=False))
        return won.rowcount == 1


def _fail(db, job_id: str, message: str) -> None:
    with db.session() as session:
        session.execute(update(RenderJobRow)
                        .where(RenderJobRow.id == job_id, RenderJobRow.state.in_(("queued", "running")))
                        .values(state="failed", category=SANDBOX_FAILURE, message=message, updated_at=utcnow())
                        .execution_options(synchronize_session=False))


def sweep(db, settings, dispatcher) -> dict[str, int]:
    """One pass: re-publish lost jobs; fail them when the broker refuses. Returns the counts."""
    counts = {"republished": 0, "failed": 0}
    for job_id, queue, seen in lost_jobs(db, settings):
        if not _take(db, job_id, seen):
            continue  # another worker's sweeper has it
        try:
            dispatcher.submit(job_id, queue)
            counts["republished"] += 1
        except RendersUnavailable as exc:
            _fail(db, job_id, f"the broker lost this render and cannot take it again ({exc}); ask again once "
                              "it is back")
            counts["failed"] += 1
    if any(counts.values()):
        log.warning("render jobs swept: %(republished)d published again, %(failed)d failed", counts)
    return counts


# -- jobs no worker will take --------------------------------------------------------------


def unclaimed_timeout(settings) -> float:
    """Seconds a job may wait for a worker while none answers: ``render_unclaimed_timeout``, or the longest render."""
    return float(settings.render_unclaimed_timeout or longest_render(settings))


@dataclass(frozen=True)
class Seen:
    """A job row as it was when judged unserved: it is failed only if it is still exactly so."""

    id: str
    state: str
    attempts: int
    updated_at: datetime
    heartbeat_at: datetime | None

    @classmethod
    def of(cls, row: RenderJobRow) -> Seen:
        return cls(row.id, row.state, row.attempts, row.updated_at, row.heartbeat_at)

    def overdue(self, settings, now: datetime) -> bool:
        """Queued and unclaimed for the timeout, or running without a heartbeat for as long (and stale)."""
        limit = timedelta(seconds=unclaimed_timeout(settings))
        if self.state == "queued":
            return as_utc(self.updated_at) < now - limit
        if self.state == "running":
            silent = max(limit, timedelta(seconds=jobs.STALE_SECONDS))
            return (as_utc(self.heartbeat_at) or as_utc(self.updated_at)) < now - silent
        return False


def why_unserved(report: dict) -> str | None:
    """Why no worker will take a job, from a dispatcher's ``describe()``; None when a worker answers."""
    if report.get("kind") != "celery":
        return None  # a local dispatcher runs its jobs in the process that queued them
    if not report.get("reachable"):
        return f"the broker {report.get('broker')} cannot be reached ({report.get('error')})"
    if not report.get("workers"):
        return f"no render worker answers on {report.get('broker')}"
    return None


def require_workers(dispatcher) -> None:
    """Refuse a render no worker would take (its dispatcher's cached report, so cheap per request).

    :raises RendersUnavailable: the broker cannot be reached, or no worker answers its ping.
    """
    why = why_unserved(dispatcher.describe())
    if why is not None:
        raise RendersUnavailable(f"renders are unavailable: {why}. Start one with `opendesign worker` "
                                 "(`opendesign doctor` shows the broker and its workers), or unset broker_url "
                                 "to render in this process")


def unserved_message(settings, why: str) -> str:
    return (f"no render worker took this job within {unclaimed_timeout(settings):g} s: {why}. Start one with "
            "`opendesign worker` (`opendesign doctor` shows the broker and its workers), then ask again")


def fail_unserved(db, seen: Seen, message: str) -> bool:
    """Fail the job if its row is still as *seen*; False when a worker claimed it or beat meanwhile (it wins)."""
    heartbeat = (RenderJobRow.heartbeat_at.is_(None) if seen.heartbeat_at is None
                 else RenderJobRow.heartbeat_at == seen.heartbeat_at)
    with db.session() as session:
        changed = session.execute(update(RenderJobRow)
                                  .where(RenderJobRow.id == seen.id, RenderJobRow.state == seen.state,
                                         RenderJobRow.attempts == seen.attempts,
                                         RenderJobRow.updated_at == seen.updated_at, heartbeat)
                                  .values(state="failed", category=SANDBOX_FAILURE, message=message,
                                          updated_at=utcnow())
                                  .execution_options(synchronize_session=False))
        return changed.rowcount == 1


def expire_if_unserved(db, settings, dispatcher, job_id: str) -> bool:
    """Fail *job_id* if it waited :func:`unclaimed_timeout` for a worker and none answers; True if it did.

    Cheap on every poll: the row is read first, and the broker is asked only about an
    overdue job. The dispatcher's cached report is trusted when it shows a worker; a
    "none" is confirmed with a fresh ping before a job is failed.
    """
    with db.session() as session:
        row = session.get(RenderJobRow, job_id)
        seen = Seen.of(row) if row is not None else None
    if seen is None or not seen.overdue(settings, utcnow()):
        return False
    if why_unserved(dispatcher.describe()) is None:
        return False
    why = why_unserved(dispatcher.describe(max_age=0))
    if why is None:
        return False
    failed = fail_unserved(db, seen, unserved_message(settings, why))
    if failed:
        log.warning("render job %s failed: %s for %g s (%s)", job_id, seen.state, unclaimed_timeout(settings), why)
    return failed


class Sweeper:
    """A daemon thread running :func:`sweep` every :func:`sweep_interval` seconds."""

    def __init__(self, db, settings, dispatcher):
        self.db, self.settings, self.dispatcher = db, settings, dispatcher
        self.interval = sweep_interval(settings)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="render-job-sweeper", daemon=True)

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                sweep(self.db, self.settings, self.dispatcher)
            except Exception:  # noqa: BLE001 — a lost database must not end the sweeps
                log.exception("sweeping render jobs failed")
