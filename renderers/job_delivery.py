"""What a Celery worker does with one delivered render job: run it, retry, or give up.

Delivery is at least once, so a message may arrive:

- for a job that is done, or that another live worker holds: :func:`run_job`
  leaves it alone and the message is acknowledged at once;
- for a job whose worker was just lost (``running``, heartbeat not yet
  stale): the message is retried once the heartbeat would be stale, so the job
  is not dropped while nobody renders it;
- for a job whose sandbox crashed (``sandbox-failure``, the infrastructure's
  fault, not the design's): it is queued again, up to
  :data:`renderers.jobs.MAX_ATTEMPTS` claims in all, then fails with that
  category, the count and the reason. (A job whose *worker* is lost on every
  claim is failed by :func:`~renderers.jobs.run_job` after as many claims.)
  The worker survives either way: model code runs in the zygote's confined
  children, never in the worker.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import update

from opendesign.models import RenderJobRow, utcnow

from . import jobs
from .errors import SANDBOX_FAILURE

log = logging.getLogger(__name__)

#: Failure categories of the infrastructure rather than the design: worth another attempt.
TRANSIENT = frozenset({SANDBOX_FAILURE})


class Retry(Exception):
    """The job should be delivered again after ``countdown`` seconds."""

    def __init__(self, countdown: float, why: str):
        super().__init__(why)
        self.countdown = countdown
        self.why = why


def _set(db, job_id: str, expected_state: str, attempts_were: int | None = None, **values: Any) -> bool:
    where = [RenderJobRow.id == job_id, RenderJobRow.state == expected_state]
    if attempts_were is not None:
        where.append(RenderJobRow.attempts == attempts_were)  # still the failure of this delivery's claim
    with db.session() as session:
        changed = session.execute(update(RenderJobRow)
                                  .where(*where)
                                  .values(updated_at=utcnow(), **values)
                                  .execution_options(synchronize_session=False))
        return changed.rowcount == 1


def deliver(settings, db, job_id: str, *, pool=None, nice: int = 0) -> dict | None:
    """Run one delivered job; return its state, or raise :class:`Retry`.

    *nice* lowers the sandboxed build's priority (a render ahead of a visitor, see
    :meth:`renderers.celery_dispatch.CeleryDispatcher.submit`).

    :returns: :func:`renderers.jobs.get_job`, None for a job id that names no job (dropped).
    """
    limit = jobs.MAX_ATTEMPTS
    # A job whose worker was lost on every claim is failed by run_job itself (jobs.MAX_ATTEMPTS).
    attempt, result = jobs.run_claimed(settings, db, job_id, pool=pool, nice=nice)
    if result is None:
        # Nothing to claim and no row: the id names no job (the claim is the only look-up it costs).
        log.warning("render job %s does not exist; message dropped", job_id)
        return None
    if result["state"] == "running":
        # Held by another worker. If that worker is alive it will finish and the retry finds the job
        # done; if it was just lost, the retry finds a stale heartbeat and claims the job.
        raise Retry(jobs.STALE_SECONDS, "another worker holds the job")
    if attempt is None:
        # Done, or failed by someone else (another worker, or failed as unserved while no worker was
        # alive): a late message must not bring it back to life.
        return result
    if result["state"] == "failed" and result.get("category") in TRANSIENT:
        if result["attempts"] < limit:
            if _set(db, job_id, "failed", state="queued", category=None, message=None, attempts_were=attempt):
                log.warning("render job %s: %s (attempt %d of %d); trying again", job_id, result.get("error"),
                            result["attempts"], limit)
                raise Retry(1.0, f"attempt {result['attempts']} of {limit} failed: {result.get('error')}")
        else:
            _set(db, job_id, "failed", message=f"{result.get('error')} (failed {result['attempts']} times; "
                                               "not tried again)")
            return jobs.get_job(db, job_id)
    return result
