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
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import and_, or_, select, update

from opendesign.models import RenderJobRow, utcnow

from . import jobs
from .celery_app import visibility_timeout
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
