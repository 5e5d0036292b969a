"""The job supervisor: one per job, between the zygote and the worker.

Forked (ahead of time) from the zygote, it forks its worker at once, then
waits for a job. With the job it prepares the job folder, starts the worker,
enforces the wall clock and the output cap, kills whatever the job left
running, reads the outputs back safely and answers the host. It is a child
subreaper, so every process the job forks stays in its tree.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import select
import shutil
import signal
import socket
import stat
import sys
import time

from . import confine, memory, mounts, protocol
from .names import expected_files
from .worker import MAX_JOB_INPUT, Job, WorkerHandle, fork_worker

MAX_RESULT = 1024 * 1024
LOG_TAIL = 8 * 1024
#: A script that prints more than this is stopped: output is for debugging, not a channel.
MAX_LOG_BYTES = 1024 * 1024
SPEC_WAIT = 30.0
_PART_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
_ALLOWED_FAILURES = {"script-error", "invalid-geometry", "out-of-memory"}


class Tampered(Exception):
    """An output file is not what the renderer wrote (a link, a device, too big...)."""


def failure(category: str, message: str, tb: list[str] | None = None, log: list[str] | None = None) -> dict:
    return {"ok": False, "category": category, "message": message, "traceback": tb or [], "log": log or []}


def prepare(jobs_dir: str, job: Job) -> tuple[str, str, str]:
    """``<jobs>/job-*/in`` (design files, readable by the job's group) and ``work`` (the job's own).

    The job folder is a tmpfs of its own, capped at the job's disk quota plus its
    inputs (see :func:`.mounts.job_disk`), where the supervisor may mount one.
    """
    root = os.path.join(jobs_dir, f"job-{os.getpid()}-{secrets.token_hex(6)}")
    os.mkdir(root, 0o711)
    if job.limits.disk_bytes:
        mounts.job_disk(root, job.limits.disk_bytes + sum(len(b) for b in job.files.values()))
    indir, workdir = os.path.join(root, "in"), os.path.join(root, "work")
    os.mkdir(indir, 0o750)
    for rel, data in job.files.items():
        target = os.path.join(indir, rel)
        os.makedirs(os.path.dirname(target), mode=0o750, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o640)
        with open(fd, "wb") as f:
            f.write(data)
    os.mkdir(workdir, 0o700)
    if job.uid is not None:
        for dirpath, _dirnames, filenames in os.walk(indir):
            os.chown(dirpath, 0, job.gid)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), 0, job.gid)
        os.chown(workdir, job.uid, job.gid)
    return root, indir, workdir


def collect(workdir: str, names: list[str], limits: confine.Limits) -> tuple[list[dict], list[bytes]]:
    """Read the outputs back: no symlinks, regular files with one link, within the size limits."""
    listing, blobs, total = [], [], 0
    dirfd = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        for name in names:
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY, dir_fd=dirfd)
            except FileNotFoundError:
                raise Tampered(f"output {name} is missing") from None
            except OSError as exc:
                raise Tampered(f"output {name} cannot be opened safely ({exc.strerror}); is it a symbolic link?") from None
            try:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode):
                    raise Tampered(f"output {name} is not a regular file")
                if st.st_nlink != 1:
                    raise Tampered(f"output {name} has other hard links")
                if st.st_size > limits.file_bytes:
                    raise Tampered(f"output {name} is {st.st_size} bytes, over the limit of {limits.file_bytes}")
                total += st.st_size
                if total > limits.output_bytes:
                    raise Tampered(f"outputs exceed {limits.output_bytes} bytes in total")
                with open(fd, "rb", closefd=False) as f:
                    data = f.read(st.st_size + 1)
                if len(data) != st.st_size:
                    raise Tampered(f"output {name} changed while it was read")
            finally:
                os.close(fd)
            listing.append({"name": name, "size": len(data)})
            blobs.append(data)
    finally:
        os.close(dirfd)
    return listing, blobs


class _Pipe:
    """A pipe from the worker, kept within a cap (the head, or with *tail* the last bytes)."""

    def __init__(self, fd: int, cap: int, tail: bool):
        self.fd, self.cap, self.tail = fd, cap, tail
        self.buf, self.total = bytearray(), 0

    def read(self) -> bool:
        """One read; False at end of file."""
        try:
            chunk = os.read(self.fd, 65536)
        except BlockingIOError:
            return True
        except OSError:
            return False
        if not chunk:
            return False
        self.total += len(chunk)
        self._keep(chunk)
        return True

    def _keep(self, chunk: bytes) -> None:
        self.buf.extend(chunk)
        if len(self.buf) > self.cap:
            if self.tail:
                del self.buf[:len(self.buf) - self.cap]
            else:
                del self.buf[self.cap:]

    def drain(self) -> None:
        """What is left once the writers are dead, never blocking (a writer might have survived)."""
        os.set_blocking(self.fd, False)
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            self._keep(chunk)
        os.close(self.fd)

    def lines(self, limit: int = 20) -> list[str]:
        return [line[:300] for line in self.buf.decode("utf-8", "replace").splitlines()[-limit:]]


def kill_job(job: Job, private_pids: bool) -> None:
    """Nothing the job started may outlive it; cheap when the worker is all there is.

    We are a child subreaper, so every process of the job is in our tree.
    A plain SIGKILL of what is there usually suffices; if anything is left
    (a fork bomb outrunning us), sweep by uid and freeze-then-kill.
    """
    procs = confine.descendants(os.getpid())
    if not procs:
        return
    for pid in procs:
        confine.signal_quietly(pid, signal.SIGKILL)
    confine.reap_children()
    if not confine.descendants(os.getpid()):
        return
    if job.uid is not None and private_pids:
        confine.kill_uid(job.uid, job.gid)
    if not confine.kill_descendants():
        print(f"supervisor: processes survived SIGKILL: {confine.descendants(os.getpid())}", file=sys.stderr)


def _reported(buf: bytearray) -> dict | None:
    """The worker's report once it is complete (it is one JSON object), else None."""
    if not buf.rstrip().endswith(b"}"):
        return None
    try:
        value = json.loads(buf)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def from_report(report: dict, log: list[str], limits: confine.Limits) -> dict:
    if report.get("ok") is True:
        return report
    category = report.get("category")
    category = category if category in _ALLOWED_FAILURES else "script-error"
    tb = report.get("traceback")
    tb = [str(line)[:500] for line in tb[-20:]] if isinstance(tb, list) else []
    message = str(report.get("message", "the render failed"))[:2000]
    if category == "out-of-memory":
        # A failed allocation in a worker is its address-space cap (RLIMIT_AS), not the host running short.
        return failure(memory.TOO_LARGE, memory.too_large(limits, message), tb, log)
    return failure(category, message, tb, log)


def from_exit(job: Job, status: int | None, cpu: float, timed_out: bool, log: list[str],
              baseline: memory.Baseline | None = None, peak_resident: int = 0) -> dict:
    """Why a worker that sent no report ended.

    *baseline* and *peak_resident* (bytes, from ``wait4``) tell a crash at the
    memory cap from any other crash (see :mod:`.memory`).
    """
    limits = job.limits
    if status is not None and not timed_out and baseline is not None \
            and memory.crashed_at_cap(limits, status, baseline, peak_resident, log):
        how = (f"killed by {signal.Signals(os.WTERMSIG(status)).name}" if os.WIFSIGNALED(status)
               else f"exit status {os.WEXITSTATUS(status)}")
        return failure(memory.TOO_LARGE, memory.too_large(limits, f"the worker ended at its cap, {how}"), log=log)
    if timed_out or status is None:
        return failure("timeout", f"the render took longer than {limits.wall_seconds:g} s and was stopped", log=log)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= limits.cpu_seconds - 0.05):
            return failure("timeout", f"the render used more than {limits.cpu_seconds} s of CPU time and was stopped",
                           log=log)
        if sig == signal.SIGKILL:
            return failure("out-of-memory", "the worker was killed by the kernel, most likely out of memory", log=log)
        return failure("script-error", f"the worker crashed ({name}); the geometry kernel may have failed on "
                                       "this geometry or run out of memory", log=log)
    return failure("script-error", f"the worker exited (status {os.WEXITSTATUS(status)}) without reporting a result",
                   log=log)


def _valid_parts(parts, declared: list[str]) -> bool:
    return (isinstance(parts, list) and len(parts) <= 64 and len(set(map(str, parts))) == len(parts)
            and all(isinstance(p, str) and _PART_NAME.match(p) for p in parts)
            and (not declared or set(parts) <= set(declared)))


def run(job: Job, worker: WorkerHandle, workdir: str, private_pids: bool) -> tuple[dict, list[bytes]]:
    """Wait for the worker's report (or its end, the deadline, an output flood); read the outputs.

    Outputs are read as soon as the report is complete, before the worker has
    even exited: each file is opened without following links and checked, so
    a job still running cannot make us read anything but its own regular
    files. The caller kills the job's processes after answering.
    """
    started = time.monotonic()
    result, log = _Pipe(worker.result_r, MAX_RESULT, False), _Pipe(worker.log_r, LOG_TAIL, True)
    poller = select.poll()
    for fd in (worker.pidfd, result.fd, log.fd):
        poller.register(fd, select.POLLIN)
    deadline = started + job.limits.wall_seconds
    timed_out = flooded = exited = False
    report = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        events = poller.poll(remaining * 1000)
        for fd, _ in events:
            if fd == worker.pidfd:
                exited = True
            elif not (result if fd == result.fd else log).read():
                poller.unregister(fd)
        if log.total > MAX_LOG_BYTES:
            flooded = True
            break
        report = _reported(result.buf)
        if report is not None or exited:
            break
    reported = time.monotonic()
    if flooded:
        return failure("script-error", f"the script wrote more than {MAX_LOG_BYTES // 1024} KiB to stdout/stderr "
                                       "and was stopped", log=log.lines(3)), []
    if report is None and exited:
        _, status, usage = os.wait4(worker.pid, 0)
        kill_job(job, private_pids)  # its children may still hold the pipes
        result.drain()
        report = _reported(result.buf)
        if report is None:
            log.drain()
            return from_exit(job, status, usage.ru_utime + usage.ru_stime, False, log.lines(),
                             worker.baseline, usage.ru_maxrss * 1024), []
    if report is None:
        return from_exit(job, None, 0.0, timed_out, log.lines()), []
    response = from_report(report, log.lines(), job.limits)
    if not response.get("ok"):
        return response, []
    parts = response.get("parts")
    if not _valid_parts(parts, job.declared):
        return failure("script-error", "the worker reported an invalid list of parts", log=log.lines()), []
    try:
        listing, blobs = collect(workdir, expected_files(parts, job.formats), job.limits)
    except Tampered as exc:
        return failure("script-error", f"{exc}; a design must not touch the renderer's output files",
                       log=log.lines()), []
    marks = response.get("worker_marks") if isinstance(response.get("worker_marks"), dict) else {}
    timings = {"start": marks.get("started", started) - started,
               "confine": marks.get("confined", 0.0) - marks.get("started", 0.0),
               "report": reported - marks.get("done", reported), "collect": time.monotonic() - reported}
    return {"ok": True, "parts": parts, "files": listing, "log": log.lines(),
            "build_seconds": response.get("build_seconds"), "export_seconds": response.get("export_seconds"),
            "timings": {k: round(v, 6) for k, v in timings.items() if isinstance(v, float)}}, blobs


def disk_full_failure(response: dict, root: str, job: Job) -> dict:
    """A failed job that had filled its own disk fails as ``disk-full``, whatever the script reported."""
    if response.get("ok") or not job.limits.disk_bytes:
        return response
    if not mounts.disk_full(root) and "No space left on device" not in str(response.get("message", "")):
        return response
    quota = job.limits.disk_bytes / (1024 * 1024)
    return failure("disk-full", f"the design filled its {quota:.0f} MiB of scratch disk (its per-job quota) "
                                "and was stopped", response.get("traceback"), response.get("log"))


def main(link: socket.socket, jobs_dir: str, uid_base: int | None, isolated: bool,
         hide: list[str] | None = None) -> None:
    """A spare supervisor: fork the worker, wait for one job on *link*, run it, exit.

    *isolated*: the zygote runs in bubblewrap's namespaces (own pids, no network).
    *hide*: host paths the job must not see when it is not isolated (see :mod:`.mounts`).
    """
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    confine.set_pdeathsig(signal.SIGKILL)
    confine.set_child_subreaper()
    # Before the worker is forked, so that it (and all the job starts) shares the namespace.
    mounts.private_namespace(jobs_dir, list(hide or ()), isolated)
    worker = fork_worker(uid_base, isolated)
    private_pids = isolated
    try:
        _msg, fds, _flags, _addr = socket.recv_fds(link, 1024, 1)
    except OSError:
        fds = []
    link.close()
    if not fds:
        confine.kill_descendants()  # the zygote went away
        return
    sock = socket.socket(fileno=fds[0])
    root = job = None
    try:
        header, blobs = protocol.recv_frame(sock, max_total=MAX_JOB_INPUT, deadline=time.monotonic() + SPEC_WAIT)
        received = time.monotonic()
        job = Job(header, blobs, uid_base)
        root, indir, workdir = prepare(jobs_dir, job)
        prepared = time.monotonic()
        worker.start(job, indir, workdir)
        response, files = run(job, worker, workdir, private_pids)
        response = disk_full_failure(response, root, job)
        if "timings" in response:
            response["timings"]["prepare"] = round(prepared - received, 6)
            response["received_at"] = received
    except Exception as exc:  # noqa: BLE001 — reported to the host as a sandbox failure
        response, files = failure("sandbox-failure", f"job supervisor: {type(exc).__name__}: {exc}"), []
    try:
        protocol.send_frame(sock, response, files)
    except OSError:
        pass
    # Answer first, clean up after; the host keeps the job's slot (and uid)
    # reserved until this socket closes.
    if job is not None:
        kill_job(job, private_pids)
    confine.kill_descendants()  # also an idle worker that never got its job
    if root is not None:
        mounts.release_job_disk(root)
        shutil.rmtree(root, ignore_errors=True)
    sock.close()
