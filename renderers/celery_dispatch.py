"""Sending render jobs to Celery workers: the :class:`~renderers.dispatch.Dispatcher` used when
``broker_url`` is set (:func:`renderers.dispatch.get_dispatcher` imports it lazily).

A message is only a job id and its queue; the job itself is a row of
``render_jobs`` that any worker claims (:func:`renderers.jobs.run_job`).
"""

from __future__ import annotations

import logging
import threading
import time
from functools import cached_property
from urllib.parse import urlsplit, urlunsplit

from opendesign.config import Settings
from . import celery_app
from .celery_app import QUEUES, TASK_NAME
from .errors import RendersUnavailable

log = logging.getLogger(__name__)

#: How long a publish may retry a lost broker connection before the request is answered 503.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}


class BrokerUnavailable(RendersUnavailable):
    """The Redis broker cannot be reached: renders are unavailable until it is back."""


def redact(url: str) -> str:
    """*url* without its password, for logs and ``doctor``."""
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}{':' + str(parts.port) if parts.port else ''}"
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def _connection_errors() -> tuple[type[BaseException], ...]:
    from kombu.exceptions import OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (OperationalError, RedisConnectionError, RedisTimeoutError, OSError)


class CeleryDispatcher:
    """Publishes render jobs to the ``preview`` and ``batch`` queues of a Redis broker."""

    #: Seconds a :meth:`describe` report is reused: ``/healthz`` asks often, a worker ping takes a second.
    DESCRIBE_MAX_AGE = 5.0

    def __init__(self, settings: Settings, db=None):
        self.settings = settings
        self.db = db
        self._described: tuple[float, dict] | None = None
        self._describe_lock = threading.Lock()
        self._closed = False

    @cached_property
    def app(self):
        return celery_app.make_celery(self.settings)

    def submit(self, job_id: str, queue: str, **options) -> None:
        """Queue *job_id* on *queue*.

        ``low_priority=True`` (speculative renders) goes to ``batch`` so it never delays a
        preview somebody is waiting for (a worker serving ``preview`` only never sees it), and
        its ``nice`` (default 10) travels with the message: the worker builds it at that priority.

        :raises BrokerUnavailable: the broker did not take the message (after a short retry).
        """
        if queue not in QUEUES:
            raise ValueError(f"unknown render queue {queue!r}; expected one of {', '.join(QUEUES)}")
        if self._closed:
            raise RuntimeError("the Celery render dispatcher is closed")
        kwargs = {}
        if options.get("low_priority"):
            queue = celery_app.BATCH
            kwargs["nice"] = max(0, min(19, int(options.get("nice", 10))))
        try:
            self.app.send_task(TASK_NAME, args=[job_id], kwargs=kwargs, queue=queue, retry=True,
                               retry_policy=PUBLISH_RETRY)
        except _connection_errors() as exc:
            raise BrokerUnavailable(f"renders are unavailable: the broker {redact(self.settings.broker_url)} "
                                    f"did not accept job {job_id} ({exc})") from None

    def wait_finished(self, job_id: str, timeout: float) -> bool:
        """Always False: a worker on some host runs the job, its state is in the database."""
        return False

    def close(self, wait: float | None = 0) -> bool:
        """Take no more jobs and release the broker connections; nothing runs here, so nothing is waited for."""
        self._closed = True
        app = self.__dict__.pop("app", None)  # only if it was ever made (cached_property)
        if app is not None:
            # app.close() only forgets the pool: close its connections (and the producers' on them) now.
            app.amqp.producer_pool.force_close_all()
            app.pool.force_close_all()
            app.close()
        return True

    def reachable(self) -> tuple[bool, str]:
        """Whether the broker answers, and what went wrong when it does not."""
        try:
            with self.app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=3)
            return True, ""
        except Exception as exc:  # noqa: BLE001 — reported, never raised
            return False, str(exc) or exc.__class__.__name__

    def describe(self, max_age: float | None = None) -> dict:
        """Broker, reachability and the live workers with their sandbox mode (for ``doctor``/health).

        Reused for *max_age* seconds (default :attr:`DESCRIBE_MAX_AGE`), so a monitor polling
        ``/healthz`` or a burst of render requests does not ping every worker each time.
        """
        age = self.DESCRIBE_MAX_AGE if max_age is None else max_age
        with self._describe_lock:
            if self._described and time.monotonic() - self._described[0] < age:
                return dict(self._described[1])
            report = self._describe()
            self._described = (time.monotonic(), report)
            return dict(report)

    def _describe(self) -> dict:
        ok, error = self.reachable()
        report: dict = {"kind": "celery", "broker": redact(self.settings.broker_url), "reachable": ok,
                        "queues": list(QUEUES),
                        "visibility_timeout_seconds": celery_app.visibility_timeout(self.settings)}
        if not ok:
            report["error"] = error
            report["workers"] = {}
            return report
        try:
            report["workers"] = celery_app.ping_workers(self.app, timeout=1.0)
        except Exception as exc:  # noqa: BLE001
            report["workers"] = {}
            report["error"] = f"worker ping failed: {exc}"
        return report


def doctor_rows(report: dict) -> list[tuple[str, str]]:
    """``doctor``'s lines for a :meth:`CeleryDispatcher.describe` report (red ones start in capitals)."""
    if not report["reachable"]:
        return [("broker", f"UNREACHABLE — {report['broker']}: {report.get('error', '')}; pages are served, "
                           "renders answer 503 until it is back")]
    rows = [("broker", f"{report['broker']} reachable (queues {', '.join(report['queues'])}; visibility "
                       f"timeout {report['visibility_timeout_seconds']:g} s)")]
    workers = report.get("workers") or {}
    if not workers:
        rows.append(("workers", "NONE answered the ping — renders wait in the queue until "
                                "`opendesign worker` runs on a host"))
    for name, info in sorted(workers.items()):
        mode = info.get("sandbox", "?")
        queues = info.get("queues")
        text = f"{name}: {mode}, {info.get('slots')} slot(s), queues {','.join(queues) if queues else '?'}"
        rows.append(("worker", text if info.get("isolated") else f"NOT ISOLATED — {text} ({info.get('detail')})"))
    return rows
