"""Who runs render jobs: the seam between asking for a render and doing it.

A :class:`Dispatcher` is handed job ids (rows of ``render_jobs``, see
:mod:`renderers.jobs`) and sees that some worker runs them with
:func:`renderers.jobs.run_job`. Callers never wait on it: the state to poll is
in the database.

- :class:`LocalDispatcher`: a bounded pool of threads in this process (the
  embedded default, ``make serve``). ``preview`` jobs are served before
  ``batch`` ones, and with two threads or more one thread takes previews only,
  so a batch flood cannot hold every thread. A caller in the same process may
  :meth:`~LocalDispatcher.wait_finished` for a job it holds instead of polling
  (a draft is shown the moment it is stored, not at the next poll).
- ``renderers.celery_dispatch.CeleryDispatcher``: Celery queues on the
  ``broker_url`` Redis, run by ``opendesign worker`` processes.

:func:`get_dispatcher` picks one from the settings.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any, Protocol

from opendesign.config import Settings
from opendesign.db import Database

from .jobs import QUEUES, run_job

log = logging.getLogger(__name__)


class Dispatcher(Protocol):
    def submit(self, job_id: str, queue: str, **options: Any) -> None:
        """Have *job_id* run on *queue* (``preview`` or ``batch``); return at once.

        *options* are hints a dispatcher may use or ignore, e.g. ``low_priority=True``
        for a speculative preview that must never delay one a visitor waits for.
        Submitting a job twice is harmless: :func:`~renderers.jobs.run_job` claims it once.
        """

    def describe(self) -> dict:
        """What the dispatcher is and what it holds (for ``doctor`` and ``/healthz``)."""

    def wait_finished(self, job_id: str, timeout: float) -> bool:
        """Block until this dispatcher is done with *job_id*, at most *timeout* seconds.

        True when it ran (or gave up) the job here; False when it does not hold it
        (another process or host runs it) or on timeout: the caller polls the database.
        """

    def close(self, wait: float | None = 0) -> bool:
        """Take no more jobs; wait up to *wait* seconds (None: as long as it takes) for the ones running here.

        Jobs queued but not started stay queued in the database, for another process to
        take. True once nothing runs here any more (at once for a dispatcher that only
        hands jobs to others).
        """


class LocalDispatcher:
    """Render jobs on a few threads of this process, previews first.

    Order: previews, then low-priority (speculative) previews, then batch jobs.
    Threads start on the first submit. The ids waiting or running here are kept
    once each, so a burst of identical requests queues one job.
    """

    def __init__(self, settings: Settings, db: Database, *, workers: int | None = None, pool=None):
        self.settings, self.db, self.pool = settings, db, pool
        self.workers = max(1, workers or settings.render_local_workers or settings.render_pool_size)
        self._lanes: dict[str, deque[str]] = {"preview": deque(), "speculative": deque(), "batch": deque()}
        self._known: set[str] = set()
        #: The nice value of each speculative job waiting here (see LocalDispatcher.submit).
        self._nice: dict[str, int] = {}
        self._running = 0
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._closed = False

    def submit(self, job_id: str, queue: str = "preview", **options: Any) -> None:
        if queue not in QUEUES:
            raise ValueError(f"queue must be one of {', '.join(QUEUES)}, not {queue!r}")
        lane = "speculative" if queue == "preview" and options.get("low_priority") else queue
        with self._cond:
            if self._closed:
                raise RuntimeError("the local render dispatcher is closed")
            if job_id in self._known:
                return
            self._known.add(job_id)
            if lane == "speculative":
                self._nice[job_id] = max(0, min(19, int(options.get("nice", 10))))
            self._lanes[lane].append(job_id)
            self._start()
            self._cond.notify_all()

    def _start(self) -> None:
        while len(self._threads) < self.workers:
            # With two threads or more, thread 0 serves previews only: a batch flood never holds them all.
            previews_only = self.workers > 1 and not self._threads
            thread = threading.Thread(target=self._work, args=(previews_only,), daemon=True,
                                      name=f"render-dispatch-{len(self._threads)}")
            self._threads.append(thread)
            thread.start()

    def _next(self, previews_only: bool) -> str | None:
        lanes = ("preview",) if previews_only else ("preview", "speculative", "batch")
        for lane in lanes:
            if self._lanes[lane]:
                return self._lanes[lane].popleft()
        return None

    def _work(self, previews_only: bool) -> None:
        while True:
            with self._cond:
                job_id = self._next(previews_only)
                while job_id is None and not self._closed:
                    self._cond.wait()
                    job_id = self._next(previews_only)
                if job_id is None:
                    return
                self._running += 1
                nice = self._nice.pop(job_id, 0)
            try:
                run_job(self.settings, self.db, job_id, pool=self.pool, nice=nice)
            except Exception:  # noqa: BLE001 - run_job records render failures; this is a bug or a lost database
                log.exception("local render job %s could not be run", job_id)
            finally:
                with self._cond:
                    self._running -= 1
                    self._known.discard(job_id)
                    self._cond.notify_all()

    def describe(self) -> dict:
        with self._cond:
            return {"kind": "local", "workers": self.workers, "running": self._running,
                    "queued": {lane: len(jobs) for lane, jobs in self._lanes.items()}}

    def wait_finished(self, job_id: str, timeout: float) -> bool:
        with self._cond:
            if job_id not in self._known:
                return False
            return self._cond.wait_for(lambda: job_id not in self._known, timeout)

    def idle(self, timeout: float | None = None) -> bool:
        """Wait until nothing is queued or running here (tests, orderly shutdown); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._known, timeout)

    def close(self, wait: float | None = 0) -> bool:
        """Stop taking jobs; threads finish the job they run and end. Queued ids stay queued in the database.

        With *wait*, block that long (None: until done) for the running jobs; True once none is left.
        """
        with self._cond:
            self._closed = True
            for jobs in self._lanes.values():
                self._known.difference_update(jobs)
                jobs.clear()
            self._cond.notify_all()
            return self._cond.wait_for(lambda: not self._known, wait)


def get_dispatcher(settings: Settings, db: Database) -> Dispatcher:
    """A new dispatcher for *settings*: Celery when ``broker_url`` is set, else a :class:`LocalDispatcher`.

    The caller keeps it (the web app keeps one per app).

    :raises ImportError: when ``broker_url`` is set but the Celery dispatcher cannot be imported.
    """
    if settings.broker_url:
        try:
            from .celery_dispatch import CeleryDispatcher
        except ImportError as exc:
            raise ImportError(f"broker_url is set but the Celery render dispatcher is not available: {exc}") from exc
        return CeleryDispatcher(settings, db)
    return LocalDispatcher(settings, db)
