"""Rendering through the job seam and waiting for it: what the CLI and bundles do with a broker.

With ``broker_url`` set, ``render --all`` and bundle builds do not render in
their own process: each render becomes a job on the ``batch`` queue
(:func:`renderers.jobs.create_job`), a Celery worker runs it, and this module
polls the job's row until it is done, then reads the artifacts from the cache.
Without a broker, :func:`render` is :func:`renderers.service.render` in this
process, as before.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from opendesign.config import Settings

from . import jobs, service
from .errors import SANDBOX_FAILURE, RenderError
from .formats import DEFAULT_QUALITY

#: Seconds between two looks at a job's row.
POLL_SECONDS = 0.25


class _CacheOnly:
    """A pool that refuses to render: reading a finished job's files must never run model code here."""

    isolated = True

    def render(self, job):
        raise RenderError(SANDBOX_FAILURE, "a worker rendered this job, but its files left the render cache "
                                           "before they could be read; ask again")

    submit = render

    def close(self) -> None:
        pass


class JobRenderer:
    """Renders by job: through Celery workers when ``broker_url`` is set, else in this process."""

    def __init__(self, settings: Settings, db, *, queue: str = "batch", dispatcher=None):
        self.settings, self.db, self.queue = settings, db, queue
        self._dispatcher = dispatcher
        self._checked_workers = False

    @property
    def remote(self) -> bool:
        return bool(self.settings.broker_url)

    @property
    def dispatcher(self):
        if self._dispatcher is None:
            from .dispatch import get_dispatcher

            self._dispatcher = get_dispatcher(self.settings, self.db)
        return self._dispatcher

    def _require_workers(self) -> None:
        # Once per renderer: a queue nobody serves would make every wait end in a timeout.
        if self._checked_workers:
            return
        from .job_sweeper import require_workers

        require_workers(self.dispatcher)
        self._checked_workers = True

    def render(self, version, params: Mapping[str, Any] | None = None, formats: str | Iterable[str] = ("stl",),
               quality: str = DEFAULT_QUALITY, *, pool=None) -> list[service.ArtifactInfo]:
        """Like :func:`renderers.service.render`; with a broker, by a worker's hands.

        :raises RenderError: the job failed (its category and message), or did not finish within
            the broker's visibility timeout twice over (a job nobody could run).
        :raises RendersUnavailable: no broker or no worker to send it to.
        """
        if not self.remote:
            return service.render(self.db, self.settings, version, params, formats, quality, pool=pool)
        snap = service.snapshot(self.db, version)
        fmts = [formats] if isinstance(formats, str) else list(formats)
        # A cache hit needs no worker.
        try:
            return service.render(self.db, self.settings, snap, params, fmts, quality, pool=_CacheOnly())
        except RenderError as exc:
            if exc.category != SANDBOX_FAILURE:
                raise
        self._require_workers()
        job = jobs.enqueue(self.db, self.dispatcher, snap, params, fmts, quality, None, self.queue)
        done = self.wait(job["id"])
        if done["state"] == "failed":
            raise RenderError(done.get("category") or SANDBOX_FAILURE, done.get("error") or "the render failed",
                              ref=snap.ref)
        return service.render(self.db, self.settings, snap, params, fmts, quality, pool=_CacheOnly())

    def wait(self, job_id: str) -> dict:
        """Poll *job_id* until it is done or failed."""
        from .celery_app import visibility_timeout
        from .job_sweeper import expire_if_unserved

        # Twice the visibility timeout: long enough for one lost worker and the redelivery.
        deadline = time.monotonic() + 2 * visibility_timeout(self.settings)
        while True:
            # A job nobody will take (its workers all gone) fails here rather than at the deadline.
            expire_if_unserved(self.db, self.settings, self.dispatcher, job_id)
            job = jobs.get_job(self.db, job_id)
            if job is None:
                raise RenderError(SANDBOX_FAILURE, f"render job {job_id} vanished from the catalogue")
            if job["state"] in ("done", "failed"):
                return job
            if time.monotonic() > deadline:
                raise RenderError(SANDBOX_FAILURE, f"render job {job_id} is still {job['state']} after "
                                                   f"{2 * visibility_timeout(self.settings):.0f} s; are the "
                                                   "workers running (opendesign doctor)?")
            time.sleep(POLL_SECONDS)
