"""Render jobs in the catalogue database: create, claim, run, poll.

A job is one requested render (version, parameters, formats, quality, part) on
a queue (``preview`` or ``batch``). Its state lives in the ``render_jobs``
table, so the job URL a 202 hands out can be polled from any process, and any
worker — a thread of the web process (:class:`~renderers.dispatch.LocalDispatcher`)
or a Celery worker on another host — can run it:

- :func:`create_job` gives the same id for the same render while the job has
  not failed, so a burst of identical requests makes one job.
- :func:`run_job` claims the row with one conditional ``UPDATE`` (queued, or
  running with a stale heartbeat: its worker died), so the same key sent to two
  workers renders once; it renders through :func:`renderers.service.render` and
  records ``done`` or ``failed``.
- :func:`get_job` is the JSON the poll URL returns.

Failures that are the design's own (a script error, a timeout, a model too
large...) are remembered per (version, parameters, quality) in
``render_failures`` for ``render_failure_ttl`` seconds: asking again is answered
from memory instead of running the same failing job again. A new version has a
new id, so nothing needs clearing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from opendesign.config import Settings
from opendesign.db import Database
from opendesign.models import Artifact, DesignVersion, RenderFailure, RenderJobRow, as_utc, utcnow
from opendesign.parameters import canonical_json

from . import service
from .errors import (DISK_FULL, INVALID_GEOMETRY, OUT_OF_MEMORY, SANDBOX_FAILURE, SCRIPT_ERROR, TIMEOUT,
                     RenderError)
from .formats import get_quality
from .keys import cache_key

log = logging.getLogger(__name__)

QUEUES = ("preview", "batch")
STATES = ("queued", "running", "done", "failed")
#: Seconds between a running job's heartbeats.
HEARTBEAT_SECONDS = 5.0
#: A running job whose heartbeat is older than this lost its worker (killed, host gone) and may be claimed again.
STALE_SECONDS = 45.0
#: A job queued this long without being claimed may have been queued by a process that died since
#: (without a broker, jobs wait on the threads of the process that queued them).
ORPHAN_SECONDS = 2 * HEARTBEAT_SECONDS
#: Finished jobs (and expired remembered failures) older than this are deleted; a request for the same
#: render afterwards simply makes the job again (or finds its files in the cache).
KEEP_FINISHED_SECONDS = 24 * 3600
#: At most one prune per this many seconds per process.
PRUNE_EVERY_SECONDS = 600.0
_last_prune = 0.0
_prune_lock = threading.Lock()
#: Added niceness of a job on the batch queue (bundles, ``render --all``): its build and conversion
#: yield the CPU to the previews somebody waits for, as speculative renders do. A batch job that
#: somebody then waits for at a page is moved to the preview queue (:func:`create_job`) and runs at 0.
BATCH_NICE = 10
#: Claims of one job before it is declared failed: a job that kills its worker every time (a poisoned
#: job) must not take down worker after worker.
MAX_ATTEMPTS = 3
#: Failures that are the design's own: running it again with the same input fails the same way.
#: (An infrastructure failure — a dead sandbox, a refused untrusted design — is not remembered.)
REMEMBERED = frozenset({SCRIPT_ERROR, INVALID_GEOMETRY, TIMEOUT, OUT_OF_MEMORY, DISK_FULL, "too-large"})


def params_digest(params_json: str) -> str:
    """The sha256 of canonical parameters' JSON: what failure memory is keyed by."""
    return hashlib.sha256(params_json.encode("utf-8")).hexdigest()


def job_id_for(content_hash: str, params_json: str, formats: Iterable[str], quality: str, part: str | None,
               base_url: str = "") -> str:
    """The id of a render: the render key of (design content, parameters, formats, quality, part)."""
    return cache_key(content_hash, params_json, ",".join(sorted(formats)), quality, part, base_url)[:32]


def _normalise(snap: service.DesignSnapshot, params: Mapping[str, Any] | None, formats: str | Iterable[str],
               quality: str, part: str | None, queue: str) -> tuple[str, list[str], str]:
    if queue not in QUEUES:
        raise ValueError(f"queue must be one of {', '.join(QUEUES)}, not {queue!r}")
    canonical = service.canonical_parameters(snap, params)
    fmts = service._formats(formats)
    q = get_quality(quality).name
    if part is not None and part not in snap.parts:
        known = ", ".join(snap.parts) or "none"
        raise RenderError("invalid-params", f"{snap.ref} has no part {part!r} (parts: {known})", ref=snap.ref)
    return canonical_json(canonical), fmts, q


def remembered_failure(db: Database, version_id: int, params_json: str, quality: str) -> RenderFailure | None:
    """The unexpired failure remembered for this (version, parameters, quality), if any."""
    with db.session() as session:
        return session.scalars(
            select(RenderFailure).where(RenderFailure.version_id == version_id,
                                        RenderFailure.params_hash == params_digest(params_json),
                                        RenderFailure.quality == quality,
                                        RenderFailure.expires_at > utcnow())).first()


def _remember(db: Database, settings: Settings, row: RenderJobRow, category: str, message: str) -> None:
    if category not in REMEMBERED or settings.render_failure_ttl <= 0:
        return
    digest = params_digest(row.params_json)
    expires = utcnow() + timedelta(seconds=settings.render_failure_ttl)
    try:
        with db.session() as session:
            session.execute(delete(RenderFailure).where(RenderFailure.version_id == row.version_id,
                                                        RenderFailure.params_hash == digest,
                                                        RenderFailure.quality == row.quality))
            session.add(RenderFailure(version_id=row.version_id, params_hash=digest, quality=row.quality,
                                      category=category, message=message, expires_at=expires))
    except IntegrityError:
        pass  # another worker remembered the same failure at the same moment


def _memory_message(failure: RenderFailure) -> str:
    until = as_utc(failure.expires_at).strftime("%H:%M:%S UTC")
    return (f"{failure.message} (this failure is remembered until {until}: change the parameters, "
            "or publish a new version, to try again sooner)")


def _results_still_cached(db: Database, result_json: str | None) -> bool:
    keys = [f["key"] for f in json.loads(result_json or "[]")]
    if not keys:
        return False
    with db.session() as session:
        found = session.scalar(select(func.count()).select_from(Artifact).where(Artifact.cache_key.in_(keys)))
    return found == len(set(keys))


@dataclass(frozen=True)
class JobRequest:
    """A render request checked and spelt canonically: what a job row is made from."""

    id: str
    version_id: int
    ref: str
    params_json: str
    formats: tuple[str, ...]
    quality: str
    part: str | None
    queue: str


def prepare(db: Database, snapshot_or_version, params: Mapping[str, Any] | None, formats: str | Iterable[str],
            quality: str = "normal", part: str | None = None, queue: str = "preview") -> JobRequest:
    """Check a request and give its job id, without touching the job table (see :func:`create_job`).

    :raises RenderError: ``invalid-params`` for parameters, formats, quality or part the design refuses.
    :raises ValueError: for an unknown *queue* (a programming error, not user input).
    """
    snap = service.snapshot(db, snapshot_or_version)
    try:
        params_json, fmts, q = _normalise(snap, params, formats, quality, part, queue)
    except RenderError as exc:
        raise exc.with_ref(snap.ref) from None
    job_id = job_id_for(snap.content_hash, params_json, fmts, q, part, db.settings.base_url)
    return JobRequest(job_id, snap.version_id, snap.ref, params_json, tuple(fmts), q, part, queue)


def create_job(db: Database, snapshot_or_version, params: Mapping[str, Any] | None, formats: str | Iterable[str],
               quality: str = "normal", part: str | None = None, queue: str = "preview") -> str:
    """The id of the job for this render, creating (or renewing) its row as needed.

    The same request gives the same id while its job is queued, running or
    done; a failed job is queued again — unless the failure is remembered
    (``render_failure_ttl``), in which case the job is answered failed from
    memory and nothing runs. A done job whose files have since left the cache
    is queued again. *snapshot_or_version* may also be a :class:`JobRequest`.

    :raises RenderError: ``invalid-params`` for parameters, formats, quality or part the design refuses.
    :raises ValueError: for an unknown *queue* (a programming error, not user input).
    """
    req = (snapshot_or_version if isinstance(snapshot_or_version, JobRequest)
           else prepare(db, snapshot_or_version, params, formats, quality, part, queue))
    failure = remembered_failure(db, req.version_id, req.params_json, req.quality)
    for _attempt in (1, 2):
        try:
            with db.session() as session:
                row = session.get(RenderJobRow, req.id, with_for_update=True)
                now = utcnow()
                if row is None:
                    row = RenderJobRow(id=req.id, version_id=req.version_id, params_json=req.params_json,
                                       formats=",".join(req.formats), quality=req.quality, part=req.part,
                                       queue=req.queue, state="queued", attempts=0, created_at=now, updated_at=now)
                    session.add(row)
                elif row.state == "failed" and failure is None:
                    row.state, row.category, row.message, row.attempts = "queued", None, None, 0
                    row.updated_at = now
                elif row.state == "done" and not _results_still_cached(db, row.result_json):
                    row.state, row.result_json, row.attempts, row.updated_at = "queued", None, 0, now
                elif row.state == "queued" and req.queue == "preview" and row.queue == "batch":
                    row.queue = "preview"  # someone is now waiting on it at a page
                if failure is not None and row.state in ("queued", "failed"):
                    row.state, row.category, row.message = "failed", failure.category, _memory_message(failure)
                    row.updated_at = now
            return req.id
        except IntegrityError:
            continue  # created by another process between our read and our insert: read it again
    return req.id


def _worker_lost(row: RenderJobRow, now: datetime) -> bool:
    """Whether *row* is running with a stale heartbeat: the worker that claimed it died or hangs."""
    stale = now - timedelta(seconds=STALE_SECONDS)
    return row.state == "running" and (as_utc(row.heartbeat_at) or stale) <= stale


def needs_dispatch(db: Database, job_id: str) -> bool:
    """Whether *job_id* waits for a worker: queued, or running with a stale heartbeat (its worker died)."""
    with db.session() as session:
        row = session.get(RenderJobRow, job_id)
        return row is not None and (row.state == "queued" or _worker_lost(row, utcnow()))


def orphaned_queue(db: Database, job_id: str, queued_for: float = ORPHAN_SECONDS) -> str | None:
    """The queue of *job_id* when nobody seems to be running it, else None.

    That is: queued for more than *queued_for* seconds (the process that queued it on its own
    threads may have died with it), or running with a stale heartbeat. Handing such a job to
    another dispatcher is always safe: :func:`run_job` claims it once, so at worst one of two
    dispatchers finds it taken and moves on.
    """
    now = utcnow()
    with db.session() as session:
        row = session.get(RenderJobRow, job_id)
        if row is None:
            return None
        unclaimed = row.state == "queued" and as_utc(row.updated_at) <= now - timedelta(seconds=queued_for)
        return row.queue if unclaimed or _worker_lost(row, now) else None


def enqueue(db: Database, dispatcher, snapshot_or_version, params: Mapping[str, Any] | None,
            formats: str | Iterable[str], quality: str = "normal", part: str | None = None,
            queue: str = "preview", **options) -> dict:
    """:func:`create_job`, then hand it to *dispatcher* if it waits for a worker; returns :func:`get_job`."""
    job_id = create_job(db, snapshot_or_version, params, formats, quality, part, queue)
    if needs_dispatch(db, job_id):
        dispatcher.submit(job_id, queue, **options)
    return get_job(db, job_id)


def _claim(db: Database, job_id: str) -> int | None:
    """Take the job for this worker: the attempt number, or None when it is not ours to run."""
    now = utcnow()
    cutoff = now - timedelta(seconds=STALE_SECONDS)
    with db.session() as session:
        claimable = or_(RenderJobRow.state == "queued",
                        (RenderJobRow.state == "running")
                        & or_(RenderJobRow.heartbeat_at.is_(None), RenderJobRow.heartbeat_at < cutoff))
        # One round trip: the conditional UPDATE hands back the attempt it made (SQLite >= 3.35, PostgreSQL).
        return session.execute(
            update(RenderJobRow).where(RenderJobRow.id == job_id, claimable)
            .values(state="running", attempts=RenderJobRow.attempts + 1, heartbeat_at=now, updated_at=now)
            .returning(RenderJobRow.attempts)
            .execution_options(synchronize_session=False)).scalar_one_or_none()


def _beat(db: Database, job_id: str, attempt: int, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_SECONDS):
        try:
            with db.session() as session:
                session.execute(update(RenderJobRow)
                                .where(RenderJobRow.id == job_id, RenderJobRow.state == "running",
                                       RenderJobRow.attempts == attempt)
                                .values(heartbeat_at=utcnow())
                                .execution_options(synchronize_session=False))
        except Exception:  # noqa: BLE001 - a missed beat only risks a second claim, never a wrong result
            log.warning("heartbeat of render job %s failed", job_id, exc_info=True)


def _finish(db: Database, job_id: str, attempt: int, **values) -> None:
    with db.session() as session:
        session.execute(update(RenderJobRow)
                        .where(RenderJobRow.id == job_id, RenderJobRow.attempts == attempt)
                        .values(updated_at=utcnow(), **values)
                        .execution_options(synchronize_session=False))


def describe_error(exc: RenderError) -> str:
    """The error's message and the last lines of its traceback, without its ref or category (kept apart)."""
    return "\n".join([exc.message, *("  " + line for line in exc.traceback)])


def _file(info: service.ArtifactInfo) -> dict:
    return {"format": info.format, "part": info.part, "sha256": info.sha256, "bytes": info.bytes,
            "filename": info.filename, "triangles": info.triangles, "key": info.key,
            "url": f"/files/{info.sha256}.{info.format}"}


def run_job(settings: Settings, db: Database, job_id: str, *, pool=None, nice: int = 0) -> dict:
    """Run *job_id* if it is free to claim, and return its state (:func:`get_job`).

    A job another worker holds (running, with a fresh heartbeat) or one already
    finished is left as it is. While it runs, a heartbeat thread keeps the claim
    fresh. *nice* lowers the sandboxed build's priority (renders ahead of the user); a job on the
    batch queue runs at least at :data:`BATCH_NICE`.
    Nothing raises for a failed render: the failure is recorded (and
    remembered when it is the design's own).
    """
    return run_claimed(settings, db, job_id, pool=pool, nice=nice)[1]


def run_claimed(settings: Settings, db: Database, job_id: str, *, pool=None, nice: int = 0
                ) -> tuple[int | None, dict | None]:
    """:func:`run_job`, with the attempt this call claimed (None: it ran nothing, the state is another's)."""
    attempt = _claim(db, job_id)
    if attempt is None:
        return None, get_job(db, job_id)
    return attempt, _run_claimed(settings, db, job_id, attempt, pool, nice)


def _run_claimed(settings: Settings, db: Database, job_id: str, attempt: int, pool, nice: int) -> dict | None:
    if attempt > MAX_ATTEMPTS:
        _finish(db, job_id, attempt, state="failed", category=SANDBOX_FAILURE,
                message=f"the render stopped its worker {attempt - 1} times (killed, out of memory or lost); "
                        "it is not tried again")
        return get_job(db, job_id)
    with db.session() as session:
        row = session.get(RenderJobRow, job_id)
        version = session.get(DesignVersion, row.version_id) if row is not None else None
        snap = service.DesignSnapshot.of(version) if version is not None else None
    if row is None or snap is None:
        return get_job(db, job_id)
    failure = remembered_failure(db, row.version_id, row.params_json, row.quality)
    if failure is not None:
        _finish(db, job_id, attempt, state="failed", category=failure.category, message=_memory_message(failure))
        return get_job(db, job_id)
    if row.queue == "batch":
        nice = max(nice, BATCH_NICE)
    stop = threading.Event()
    beat = threading.Thread(target=_beat, args=(db, job_id, attempt, stop), daemon=True,
                            name=f"render-job-heartbeat-{job_id[:8]}")
    beat.start()
    try:
        infos = service.render(db, settings, snap, json.loads(row.params_json), row.formats.split(","),
                               row.quality, pool=pool, nice=nice)
    except RenderError as exc:
        message = describe_error(exc)
        _finish(db, job_id, attempt, state="failed", category=exc.category, message=message)
        _remember(db, settings, row, exc.category, message)
    except Exception:  # noqa: BLE001 - recorded for the poller; the worker must survive a bad job
        log.exception("render job %s failed unexpectedly", job_id)
        _finish(db, job_id, attempt, state="failed", category=None,
                message="the render failed unexpectedly; the server log has the details")
    else:
        _finish(db, job_id, attempt, state="done", category=None, message=None,
                result_json=json.dumps([_file(i) for i in infos]))
    finally:
        stop.set()
        beat.join(timeout=HEARTBEAT_SECONDS + 1)
    _maybe_prune(db)
    return get_job(db, job_id)


def prune(db: Database, older_than: float = KEEP_FINISHED_SECONDS) -> int:
    """Delete finished jobs not touched for *older_than* seconds and expired failures; the number of jobs deleted."""
    cutoff = utcnow() - timedelta(seconds=older_than)
    with db.session() as session:
        deleted = session.execute(delete(RenderJobRow).where(RenderJobRow.state.in_(("done", "failed")),
                                                             RenderJobRow.updated_at < cutoff)
                                  .execution_options(synchronize_session=False)).rowcount
        session.execute(delete(RenderFailure).where(RenderFailure.expires_at < utcnow())
                        .execution_options(synchronize_session=False))
    return deleted


def _maybe_prune(db: Database) -> None:
    global _last_prune
    now = time.monotonic()
    with _prune_lock:
        if now - _last_prune < PRUNE_EVERY_SECONDS:
            return
        _last_prune = now
    try:
        prune(db)
    except Exception:  # noqa: BLE001 - housekeeping must never fail a render
        log.warning("pruning old render jobs failed", exc_info=True)


def states(db: Database, job_ids: Iterable[str]) -> dict[str, str]:
    """The state of each job of *job_ids* that exists, in one query (for a poller of many jobs)."""
    ids = list(dict.fromkeys(job_ids))
    if not ids:
        return {}
    with db.session() as session:
        rows = session.execute(select(RenderJobRow.id, RenderJobRow.state).where(RenderJobRow.id.in_(ids)))
        return dict(rows.all())


def get_job(db: Database, job_id: str) -> dict | None:
    """The job as its poll URL shows it, or None for an id that names no job.

    ``status`` is ``pending`` (queued or running), ``done`` (with ``files``) or
    ``failed`` (with ``category`` and ``error``); ``state`` is the exact state.
    """
    with db.session() as session:
        row = session.get(RenderJobRow, job_id)
        if row is None:
            return None
        out: dict[str, Any] = {
            "id": row.id, "status": "pending" if row.state in ("queued", "running") else row.state,
            "state": row.state, "queue": row.queue, "version_id": row.version_id,
            "formats": row.formats.split(","), "quality": row.quality, "part": row.part,
            "parameters": json.loads(row.params_json), "attempts": row.attempts,
            "created_at": as_utc(row.created_at).isoformat(), "updated_at": as_utc(row.updated_at).isoformat(),
        }
        if row.state == "done":
            out["files"] = json.loads(row.result_json or "[]")
        elif row.state == "failed":
            out["category"] = row.category
            out["error"] = row.message
        return out
