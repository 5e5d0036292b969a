"""The Celery application that carries render jobs from the web app and the CLI to workers.

Job state lives in the catalogue database (:mod:`renderers.jobs`); a Celery
message carries only a job id. So the broker needs no result backend, any web
process can poll any job, and a message delivered twice is harmless: the second
delivery finds the job done (or claimed by a live worker) and returns at once.

Delivery is "at least once": acks are late (a task is acknowledged only when it
returned), a worker that dies mid-render leaves its message unacknowledged, and
Redis hands it to another worker once its visibility timeout (always longer
than the longest render, :func:`visibility_timeout`) has passed.

Two queues: ``preview`` (drafts, single downloads) and ``batch`` (bundles,
``render --all``). Workers poll them in that fixed order (kombu's ``priority``
queue order strategy) and reserve one message per render slot, so a preview
waits at most for one running render per slot, never behind a batch flood.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from celery import Celery
from kombu import Exchange, Queue

from opendesign.config import ConfigError, Settings

from .pool import HOST_GRACE

log = logging.getLogger(__name__)

PREVIEW, BATCH = "preview", "batch"
#: Queue names in the order a worker serves them.
QUEUES = (PREVIEW, BATCH)
TASK_NAME = "opendesign.render_job"
#: Name of the remote-control command by which a worker tells ``doctor`` its sandbox mode.
SANDBOX_COMMAND = "render_sandbox"
#: Seconds beyond the longest render before an unacknowledged message is handed on:
#: the exports after the sandbox's answer and the job's bookkeeping.
VISIBILITY_MARGIN = 60.0


def longest_render(settings: Settings) -> float:
    """Seconds a single render can hold a worker slot: the wall limit plus the pool's grace."""
    return float(settings.render_timeout) + HOST_GRACE


def visibility_timeout(settings: Settings) -> float:
    """Seconds Redis keeps an unacknowledged render invisible to other workers.

    :raises ConfigError: when ``broker_visibility_timeout`` is set but not above the longest
        render; Redis would then hand a running render to a second worker.
    """
    from .jobs import STALE_SECONDS

    # Above the stale-heartbeat age too: a message redelivered while its lost worker's claim
    # still looks fresh would be taken for a duplicate of a live render.
    minimum = max(longest_render(settings), STALE_SECONDS)
    chosen = settings.broker_visibility_timeout
    if not chosen:
        return 2 * minimum + VISIBILITY_MARGIN
    if chosen <= minimum:
        raise ConfigError(f"broker_visibility_timeout = {chosen:g} s must be above {minimum:g} s (the longest "
                          f"render: render_timeout {settings.render_timeout:g} s + {HOST_GRACE:g} s grace, and the "
                          f"{STALE_SECONDS:g} s after which a lost worker's claim is stale): otherwise Redis gives "
                          "a running render to a second worker")
    return float(chosen)


def make_celery(settings: Settings) -> Celery:
    """A Celery app for *settings* (``broker_url`` must be set), with the render task registered."""
    if not settings.broker_url:
        raise ConfigError("broker_url is not set: render workers need a Redis broker "
                          "(OPENDESIGN_BROKER_URL=redis://127.0.0.1:6379/0)")
    vt = visibility_timeout(settings)
    app = Celery("opendesign", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        # One exchange and routing key per queue: a batch message must land in batch only.
        task_queues=[Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES],
        task_default_queue=PREVIEW,
        task_serializer="json", accept_content=["json"], result_serializer="json",
        # State is in the catalogue database; nothing waits on Celery results.
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": vt,
            # Poll preview before batch, always (the default rotates between queues).
            "queue_order_strategy": "priority",
            # Messages of a dead worker are put back within a few seconds of their timeout.
            "unacked_restore_interval": max(1, min(10, int(vt // 10))),
            "unacked_restore_throttle": 1,
            # A publish to a vanished broker fails instead of waiting forever.
            "socket_connect_timeout": 5,
            "socket_timeout": 10,
        },
    )
    app.task(name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True)(_render_job_task)
    return app


# -- the worker side ----------------------------------------------------------------


@dataclass
class WorkerContext:
    """What a worker process renders with: its settings, catalogue and the host's warm pool."""

    settings: Settings
    db: Any
    pool: Any
    #: The queues this worker serves (None: not known, e.g. a worker started by ``celery`` itself).
    queues: tuple[str, ...] | None = None


_context: WorkerContext | None = None
_context_lock = threading.Lock()


def configure_worker(context: WorkerContext) -> None:
    """Set what this process's render tasks use (``opendesign worker`` calls it before starting)."""
    global _context
    with _context_lock:
        _context = context


def worker_context() -> WorkerContext:
    """The configured context, or one built from the environment (a worker started by ``celery``)."""
    global _context
    with _context_lock:
        if _context is None:
            from opendesign.config import load_settings
            from opendesign.db import Database

            from .pool import get_pool

            settings = load_settings()
            _context = WorkerContext(settings, Database(settings), get_pool(settings))
        return _context


def _render_job_task(task, job_id: str, nice: int = 0) -> dict | None:
    from celery.exceptions import MaxRetriesExceededError

    from .job_delivery import Retry, deliver

    context = worker_context()
    if (task.request.delivery_info or {}).get("redelivered"):
        log.warning("render job %s was redelivered (its first worker was lost)", job_id)
    try:
        return deliver(context.settings, context.db, job_id, pool=context.pool, nice=max(0, min(19, int(nice))))
    except Retry as again:
        log.info("render job %s: %s; delivering it again in %.0f s", job_id, again.why, again.countdown)
        try:
            raise task.retry(countdown=again.countdown, max_retries=max_deliveries(context.settings))
        except MaxRetriesExceededError:
            log.error("render job %s: gave up after %d deliveries (%s)", job_id, task.request.retries, again.why)
            return None


def max_deliveries(settings: Settings) -> int:
    """Retries of one message: every attempt, plus the waits for a render another worker holds."""
    from .jobs import MAX_ATTEMPTS, STALE_SECONDS

    return MAX_ATTEMPTS + int(longest_render(settings) // STALE_SECONDS) + 2


def sandbox_report(context: WorkerContext) -> dict:
    """What a worker says about itself to ``doctor``: sandbox mode, slots, queues, zygote.

    The web app counts the slots of the live workers (and which serve ``batch``) to
    tell whether the cluster is idle enough to render ahead of a visitor
    (:mod:`renderers.capacity`).
    """
    from opendesign.trust import render_mode

    pool = context.pool
    plan = getattr(pool, "sandbox", None)
    isolated = bool(getattr(pool, "isolated", False))
    return {"sandbox": getattr(plan, "mode", "unknown"), "isolated": isolated,
            "detail": plan.describe() if plan is not None else "",
            "render_mode": render_mode(context.settings, isolated).name,
            "slots": getattr(pool, "size", None),
            "queues": list(context.queues) if context.queues is not None else None,
            "zygote_pid": getattr(pool, "zygote_pid", None)}


def _register_sandbox_command() -> None:
    # A custom remote-control command (Celery's documented extension point): every worker
    # process that imported this module answers it.
    from celery.worker.control import inspect_command

    @inspect_command(name=SANDBOX_COMMAND)
    def render_sandbox(state) -> dict:  # noqa: ARG001 — Celery passes the worker state
        return sandbox_report(worker_context())


_register_sandbox_command()


# -- the client side ------------------------------------------------------------------


def ping_workers(app: Celery, timeout: float = 2.0) -> dict[str, dict]:
    """Live workers by hostname, each with its sandbox report (empty when none answered)."""
    replies = app.control.broadcast(SANDBOX_COMMAND, reply=True, timeout=timeout) or []
    workers: dict[str, dict] = {}
    for reply in replies:
        for hostname, report in reply.items():
            workers[hostname] = report if isinstance(report, dict) else {"error": str(report)}
    return workers


def worker_argv(queues: Sequence[str], concurrency: int, hostname: str, loglevel: str = "INFO") -> list[str]:
    """The ``celery worker`` arguments of a render worker.

    A ``threads`` pool: Celery's prefork children would be processes of the host
    that run tasks; with threads every render goes through this process's one
    sandboxed zygote, and the slots of the warm pool are the worker's concurrency.
    """
    return ["worker", "--pool", "threads", "--concurrency", str(concurrency), "--queues", ",".join(queues),
            "--prefetch-multiplier", "1", "--hostname", hostname, "--loglevel", loglevel,
            "--without-gossip", "--without-mingle"]
