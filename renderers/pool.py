"""Render pools: where ``build(params)`` runs.

:class:`RenderPool` is the small interface the rest of the program uses
(``submit`` / ``render`` / ``close``), so a Celery-backed pool can replace the
local one later. :class:`WarmPool` is the local implementation: one sandboxed
zygote that has imported cadquery forks a confined worker per job (see
:mod:`renderers.sandbox.zygote` and :mod:`renderers.launcher`); at most
``size`` jobs run at once; a dead or wedged zygote is replaced on the next job.
:func:`get_pool` hands out one pool per process.
:class:`~renderers.inprocess.InProcessPool` runs jobs unconfined (benchmarks only).
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import socket
import sys
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from opendesign.config import Settings

from . import launcher
from .errors import SANDBOX_FAILURE, TIMEOUT, RenderError
from .sandbox import protocol
from .sandbox.confine import Limits
from .spool import Spool, SpoolError
from .spool import recv_frame as spool_frame

log = logging.getLogger(__name__)

MiB = 1024 * 1024
#: Seconds the host waits beyond the job's wall-clock limit before it declares
#: the sandbox wedged and replaces it.
HOST_GRACE = 15.0
#: Supervisor+worker pairs the zygote keeps forked ahead of jobs (each costs page tables only).
MAX_SPARES = 4


@dataclass(frozen=True)
class RenderJob:
    """One run of a design's ``build()``: the input of a pool."""

    files: Mapping[str, bytes]
    params: Mapping[str, Any]
    #: Formats written from the B-rep inside the sandbox (``step``, ``svg``);
    #: an STL of every part is always written.
    shape_formats: tuple[str, ...] = ()
    tolerance: float = 0.1
    angular_tolerance: float = 0.2
    #: Part names design.toml declares; a multi-part result must use them.
    parts: tuple[str, ...] = ()
    label: str = ""
    #: design.toml's kind (cadquery, cqgi, build123d, static): how the worker makes the shape.
    kind: str = "cadquery"
    #: A static design's parts: part name -> file among *files*.
    part_files: Mapping[str, str] = field(default_factory=dict)
    #: Cap on the triangles of uploaded mesh parts (0: the sandbox's default).
    max_triangles: int = 0
    #: Added to the worker's nice value (0 to 19): speculative renders run at 10 so that on a
    #: shared CPU they yield to the renders somebody is waiting for.
    nice: int = 0


@dataclass
class RenderOutput:
    """What a job produced: raw files by name (``model.stl``, ``part-lid.step``...).

    A sandboxed pool spools them to disk (a :class:`~pathlib.Path` each, in
    :attr:`spool`, removed by :meth:`close`); in-process pools and tests may
    hand bytes. Either way they are untrusted until the conversion helper has
    checked them (see :mod:`renderers.converter`).
    """

    parts: tuple[str, ...]
    files: dict[str, bytes | Path]
    seconds: float
    build_seconds: float | None = None
    export_seconds: float | None = None
    log: list[str] = field(default_factory=list)
    #: Where the time went (seconds per stage), when the pool knows.
    timings: dict[str, float] = field(default_factory=dict)
    spool: Spool | None = field(default=None, repr=False)
    #: The conversion helper's figures (peak memory, CPU and wall seconds), once it has run.
    conversion: dict = field(default_factory=dict)

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()


class RenderPool(Protocol):
    #: Whether jobs run in an isolating sandbox; the render service lets only seed designs
    #: into a pool that is not (opendesign.trust). A pool without the attribute counts as not.
    isolated: bool

    def submit(self, job: RenderJob) -> Future[RenderOutput]: ...

    def render(self, job: RenderJob) -> RenderOutput: ...

    def close(self) -> None: ...


#: Scratch space a job gets beyond the outputs it may hand back (temporary files, exporters' spill).
JOB_DISK_SLACK = 16 * MiB


def limits_for(settings: Settings) -> Limits:
    file_bytes = settings.render_max_output_mb * MiB
    return Limits(cpu_seconds=settings.render_cpu_seconds, memory_bytes=settings.render_memory_mb * MiB,
                  file_bytes=file_bytes, open_files=256, processes=max(64, 4 * (os.cpu_count() or 1)),
                  wall_seconds=float(settings.render_timeout), output_bytes=4 * file_bytes,
                  disk_bytes=4 * file_bytes + JOB_DISK_SLACK)


class WarmPool:
    """A sandboxed zygote plus up to *size* concurrent jobs. Thread-safe."""

    def __init__(self, settings: Settings, size: int | None = None):
        self.settings = settings
        self.size = size or settings.render_pool_size
        if not 1 <= self.size <= launcher.UIDS_PER_POOL:
            raise ValueError(f"pool size must be between 1 and {launcher.UIDS_PER_POOL}")
        self.limits = limits_for(settings)
        self.sandbox = launcher.plan(settings)
        self._tmpfs_bytes = launcher.jobs_tmpfs_bytes(settings, self.size)
        #: Supervisor+worker pairs the zygote keeps ready.
        self.spares = min(self.size, MAX_SPARES)
        self.preload: tuple[str, ...] = ("build123d",) if settings.render_preload_build123d else ()
        #: Whether jobs mesh on OCC's thread pool (``render_parallel_mesh``).
        self.parallel_mesh = settings.render_parallel_mesh
        self._slots: queue.Queue[int] = queue.Queue()
        for slot in range(self.size):
            self._slots.put(slot)
        self._executor = ThreadPoolExecutor(self.size, thread_name_prefix="render")
        self._lock = threading.Lock()
        self._zygote: launcher.ZygoteProcess | None = None
        self._closed = False
        self.starts = 0
        atexit.register(self.close)  # never leave a zygote (or, without bwrap, its job folder) behind
        if not self.sandbox.isolated:
            log.warning("render sandbox: %s", self.sandbox.describe())
            if self.sandbox.uid_base is not None and not launcher.python_readable_by_others():
                log.warning("render sandbox: the Python installation (%s) is not readable by the job uids; "
                            "designs can import only the preloaded modules", sys.base_prefix)

    # -- the RenderPool interface ------------------------------------------------
    def submit(self, job: RenderJob) -> Future[RenderOutput]:
        return self._executor.submit(self.render, job)

    def render(self, job: RenderJob) -> RenderOutput:
        slot = self._slots.get()
        handed_on = False
        try:
            answer, files, spool, sock, started = self._render(job, slot)
            # The supervisor answers first and then kills what the job left
            # running; the slot (and its uid) is free again only once it closes
            # the socket, so the next job of this slot never meets those leftovers.
            threading.Thread(target=self._release_when_closed, args=(sock, slot), daemon=True,
                             name=f"render-slot-{slot}").start()
            handed_on = True
            return self._output(answer, files, spool, started)
        finally:
            if not handed_on:
                self._slots.put(slot)

    def _release_when_closed(self, sock: socket.socket, slot: int) -> None:
        try:
            sock.settimeout(HOST_GRACE + 30)
            while sock.recv(4096):
                pass
        except OSError:
            pass
        finally:
            sock.close()
            self._slots.put(slot)

    def close(self) -> None:
        """Stop the zygote and everything below it. Idempotent."""
        with self._lock:
            self._closed = True
            zygote, self._zygote = self._zygote, None
        self._executor.shutdown(wait=False, cancel_futures=True)
        if zygote is not None:
            zygote.kill()

    def idle_slots(self) -> int:
        """How many jobs could start right now without waiting for a slot."""
        return self._slots.qsize()

    @property
    def isolated(self) -> bool:
        """Whether jobs run in bubblewrap (see :func:`renderers.launcher.plan`)."""
        return self.sandbox.isolated

    # -- lifecycle ----------------------------------------------------------------
    def start(self) -> dict:
        """Start the zygote now (it starts on the first job otherwise); return its ready info."""
        return self._ensure().info

    @property
    def zygote_pid(self) -> int | None:
        zygote = self._zygote
        return zygote.proc.pid if zygote is not None and zygote.alive() else None

    def _ensure(self) -> launcher.ZygoteProcess:
        with self._lock:
            if self._closed:
                raise RenderError(SANDBOX_FAILURE, "the render pool is closed")
            if self._zygote is not None and not self._zygote.alive():
                log.warning("render zygote %s died (status %s); starting a new one",
                            self._zygote.proc.pid, self._zygote.proc.poll())
                self._zygote.kill()
                self._zygote = None
            if self._zygote is None:
                self._zygote = launcher.get_launcher().call(
                    lambda: launcher.ZygoteProcess(self.sandbox, self._tmpfs_bytes, spares=self.spares,
                                                   preload=self.preload))
                self.starts += 1
                log.info("render zygote %s ready (%s; cadquery %s, OCP %s, import %.1f s)", self._zygote.proc.pid,
                         self.sandbox.mode, self._zygote.info.get("cadquery"), self._zygote.info.get("ocp"),
                         self._zygote.info.get("import_seconds", 0))
            return self._zygote

    def _discard(self, zygote: launcher.ZygoteProcess, why: str) -> None:
        with self._lock:
            if self._zygote is zygote:
                self._zygote = None
            else:
                return
        log.error("replacing the render zygote %s: %s", zygote.proc.pid, why)
        zygote.kill()

    # -- one job --------------------------------------------------------------------
    def _header(self, job: RenderJob, slot: int) -> tuple[dict, list[bytes]]:
        names = sorted(job.files)
        header = {"slot": slot, "files": names, "params": dict(job.params), "formats": list(job.shape_formats),
                  "tolerance": job.tolerance, "angular_tolerance": job.angular_tolerance,
                  "parts": list(job.parts), "limits": self.limits.as_dict(), "kind": job.kind,
                  "part_files": dict(job.part_files), "max_triangles": job.max_triangles,
                  "nice": job.nice, "parallel_mesh": self.parallel_mesh}
        return header, [bytes(job.files[n]) for n in names]

    def _render(self, job: RenderJob, slot: int) -> tuple[dict, list[Path], Spool, socket.socket, float]:
        """Run *job*; return the answer, its spooled files, the still open job socket and the start time."""
        started = time.monotonic()
        header, blobs = self._header(job, slot)
        for attempt in (1, 2):
            zygote = self._ensure()
            ours, theirs = socket.socketpair()
            try:
                try:
                    zygote.send_job(theirs)
                except OSError as exc:
                    # The zygote died between jobs; no job of ours ran: start another and retry once.
                    self._discard(zygote, f"cannot hand it a job ({exc})")
                    if attempt == 1:
                        continue
                    raise RenderError(SANDBOX_FAILURE, f"the render sandbox is not accepting jobs: {exc}") from None
            finally:
                theirs.close()
            try:
                answer, files, spool = self._exchange(zygote, ours, header, blobs, started, job.label)
            except BaseException:
                ours.close()
                raise
            return answer, files, spool, ours, started
        raise AssertionError("unreachable")

    def _exchange(self, zygote: launcher.ZygoteProcess, sock: socket.socket, header: dict, blobs: list[bytes],
                  started: float, label: str) -> tuple[dict, list[Path], Spool]:
        """Send the job; spool the answer's files to disk within the size caps (never into memory)."""
        deadline = started + self.limits.wall_seconds + HOST_GRACE
        spool = Spool(self.settings.cache_dir / "spool")
        try:
            sock.settimeout(max(1.0, deadline - time.monotonic()))
            protocol.send_frame(sock, header, blobs)
            answer, files = spool_frame(sock, spool, max_each=self.limits.file_bytes,
                                        max_total=self.limits.output_bytes, deadline=deadline)
        except (SpoolError, OSError) as exc:
            spool.close()
            if time.monotonic() >= deadline:
                self._discard(zygote, f"no answer for job {label or '?'} within {deadline - started:.0f} s")
                raise RenderError(TIMEOUT, f"the render sandbox did not answer within {deadline - started:.0f} s; "
                                           "it was restarted") from None
            if not zygote.alive():
                self._discard(zygote, f"it died during job {label or '?'}")
            raise RenderError(SANDBOX_FAILURE, f"the render worker failed: {exc}") from None
        except BaseException:
            spool.close()
            raise
        return answer, files, spool

    def _output(self, answer: dict, files: list[Path], spool: Spool, started: float) -> RenderOutput:
        """The answer as a RenderOutput owning *spool*, or the RenderError it reports (the spool removed)."""
        try:
            return self._checked_output(answer, files, spool, started)
        except BaseException:
            spool.close()
            raise

    def _checked_output(self, answer: dict, files: list[Path], spool: Spool, started: float) -> RenderOutput:
        answered = time.monotonic()
        seconds = answered - started
        if not answer.get("ok"):
            category = answer.get("category")
            tb = [str(x) for x in answer.get("traceback") or []]
            output = [str(x) for x in answer.get("log") or []]
            if not tb and output:
                tb = ["output:", *output[-10:]]
            try:
                raise RenderError(category, str(answer.get("message", "render failed")), traceback=tb)
            except ValueError:
                raise RenderError(SANDBOX_FAILURE, f"unexpected answer from the sandbox: {category!r}") from None
        listing = answer.get("files") or []
        if len(listing) != len(files):
            raise RenderError(SANDBOX_FAILURE, "the sandbox's file list does not match its files")
        return RenderOutput(parts=tuple(answer.get("parts") or ()),
                            files={str(entry["name"]): path for entry, path in zip(listing, files)},
                            seconds=seconds, build_seconds=answer.get("build_seconds"),
                            export_seconds=answer.get("export_seconds"), log=list(answer.get("log") or []),
                            timings=self._timings(answer, started, answered), spool=spool)

    @staticmethod
    def _timings(answer: dict, started: float, answered: float) -> dict[str, float]:
        timings = answer.get("timings") if isinstance(answer.get("timings"), dict) else {}
        timings = {str(k): float(v) for k, v in timings.items() if isinstance(v, int | float)}
        received = answer.get("received_at")
        if isinstance(received, int | float):
            timings["handoff"] = round(received - started, 6)
        return timings

    def describe(self) -> dict:
        zygote = self._zygote
        return {"size": self.size, "sandbox": self.sandbox.mode, "sandbox_detail": self.sandbox.describe(),
                "zygote_pid": self.zygote_pid, "zygote": zygote.info if zygote else None,
                "limits": self.limits.as_dict(), "starts": self.starts, "parallel_mesh": self.parallel_mesh}


_pools: dict[tuple, WarmPool] = {}
_pools_lock = threading.Lock()


def _pool_key(settings: Settings) -> tuple:
    return (settings.render_pool_size, settings.render_timeout, settings.render_cpu_seconds,
            settings.render_memory_mb, settings.render_max_output_mb, settings.render_use_bwrap,
            settings.render_parallel_mesh)


def get_pool(settings: Settings) -> WarmPool:
    """The process-wide pool for these render settings (created on first use)."""
    key = _pool_key(settings)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = WarmPool(settings)
        return pool


def shutdown_pools() -> None:
    """Stop every pool :func:`get_pool` made (registered with atexit)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()


atexit.register(shutdown_pools)
