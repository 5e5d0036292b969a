"""How many render slots of a Celery cluster are idle: the room a render ahead of a visitor may use.

A web process of a cluster holds no sandbox of its own, so it judges from what every
process shares:

- the **live workers** and their slots, from the dispatcher's report
  (:meth:`~renderers.celery_dispatch.CeleryDispatcher.describe`: one broadcast ping,
  reused for a few seconds, the same report ``doctor`` and ``require_workers`` read);
- the **render jobs queued or running** in the catalogue database (``render_jobs``),
  whichever process queued them: each holds a slot, or is about to take one.

Idle slots are the first less the second. Speculative renders go to the ``batch`` queue,
so when no live worker serves ``batch`` (every one is ``--queues preview``) there is no
room at all: a render ahead would wait for a worker that never comes. A worker that did
not say which queues it serves (one started by ``celery`` itself) counts towards the
slots but not as serving ``batch``.

The count is conservative on purpose: a job whose worker was lost still counts until
it is taken over or failed, so in doubt nothing is rendered ahead.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from opendesign.models import RenderJobRow

from .celery_app import BATCH

#: Job states that hold a worker slot, or are about to.
IN_FLIGHT = ("queued", "running")


@dataclass(frozen=True)
class Capacity:
    """The live workers' render slots, and how many of them serve the ``batch`` queue."""

    slots: int = 0
    batch_slots: int = 0

    @classmethod
    def of(cls, report: dict) -> Capacity:
        """From a Celery dispatcher's ``describe()`` report (no worker, or no broker: no slot)."""
        if report.get("kind") != "celery" or not report.get("reachable"):
            return cls()
        slots = batch = 0
        for info in (report.get("workers") or {}).values():
            n = info.get("slots")
            if not isinstance(n, int) or n <= 0:
                continue  # a worker that answered with an error holds no slot we can count on
            slots += n
            if BATCH in (info.get("queues") or ()):
                batch += n
        return cls(slots, batch)

    def idle(self, in_flight: int) -> int:
        """Slots free for a render on ``batch``: every slot less the jobs in flight; 0 if none serves it."""
        if self.batch_slots <= 0:
            return 0
        return max(0, self.slots - in_flight)


def jobs_in_flight(db) -> int:
    """Render jobs queued or running, on any queue, queued by any process (one indexed count)."""
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(RenderJobRow)
                                  .where(RenderJobRow.state.in_(IN_FLIGHT))) or 0)


def idle_slots(dispatcher, db) -> int:
    """Idle slots of the cluster *dispatcher* sends to (its cached report) with *db*'s jobs in flight."""
    capacity = Capacity.of(dispatcher.describe())
    if capacity.batch_slots <= 0:
        return 0  # no database query when no worker could take it anyway
    return capacity.idle(jobs_in_flight(db))
