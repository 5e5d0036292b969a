"""The worker: a pre-forked child that waits for one job, confines itself and runs it.

Forked by its supervisor ahead of time (so no fork sits on a render's critical
path), it blocks on its ``go`` socket until the job arrives, then — still
before a line of the design runs — takes its own session, sets the rlimits,
drops every capability and its uid, sets no_new_privs, installs a seccomp
filter (see :func:`~.confine.seccomp_program`) and clears the environment. The result goes back as JSON on a pipe; the files stay in the
work folder for the supervisor to read.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import sys
import time

from . import confine, memory, protocol

MAX_JOB_INPUT = 256 * 1024 * 1024


def _safe_relpath(path: str) -> str:
    parts = path.split("/")
    if path.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\0" in path:
        raise ValueError(f"unsafe design file path {path!r}")
    return path


class Job:
    """One job as the host sent it, checked."""

    def __init__(self, header: dict, blobs: list[bytes], uid_base: int | None):
        names = header["files"]
        if len(names) != len(blobs):
            raise ValueError("file names and blobs differ in number")
        self.header = header
        self.blobs = blobs
        self.files = {_safe_relpath(str(n)): b for n, b in zip(names, blobs)}
        self.params = dict(header["params"])
        self.formats = [str(f) for f in header["formats"]]
        self.tolerance = float(header["tolerance"])
        self.angular = float(header["angular_tolerance"])
        self.nice = min(19, max(0, int(header.get("nice") or 0)))
        self.declared = [str(p) for p in header.get("parts", [])]
        self.kind = str(header.get("kind", "cadquery"))
        # A static design's parts: name -> file of the job (checked like every file name).
        self.part_files = {str(k): _safe_relpath(str(v)) for k, v in dict(header.get("part_files") or {}).items()}
        self.max_triangles = int(header.get("max_triangles") or 0) or None
        self.parallel_mesh = bool(header.get("parallel_mesh", True))
        self.limits = confine.Limits(**header["limits"])
        slot = int(header["slot"])
        self.uid = self.gid = (uid_base + slot) if uid_base is not None else None


class WorkerHandle:
    """The supervisor's side of a pre-forked worker."""

    def __init__(self, pid: int, go: socket.socket, result_r: int, log_r: int):
        self.pid, self.go, self.result_r, self.log_r = pid, go, result_r, log_r
        self.pidfd = os.pidfd_open(pid)
        self.baseline = memory.Baseline()

    def start(self, job: Job, indir: str, workdir: str) -> None:
        # What the idle worker has mapped counts against its address-space cap too.
        self.baseline = memory.Baseline.of(self.pid)
        protocol.send_frame(self.go, dict(job.header, indir=indir, workdir=workdir), job.blobs)
        self.go.close()


def fork_worker(uid_base: int | None, isolated: bool) -> WorkerHandle:
    go_parent, go_child = socket.socketpair()
    result_r, result_w = os.pipe()
    log_r, log_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            go_parent.close()
            os.close(result_r)
            os.close(log_r)
            _main(go_child, result_w, log_w, uid_base, isolated)
        finally:
            os._exit(0)
    go_child.close()
    os.close(result_w)
    os.close(log_w)
    return WorkerHandle(pid, go_parent, result_r, log_r)


def _confine(job: Job, indir: str, workdir: str, isolated: bool) -> None:
    os.chdir(indir)
    if job.uid is not None:
        confine.drop_bounding_set()
    confine.apply_limits(job.limits)
    if not isolated:
        # Without bubblewrap the network is the host's (the database may listen
        # on it): cut it here, or refuse the job.
        try:
            confine.unshare_network()
        except OSError as exc:
            raise JobRefused(str(exc)) from None
    if job.uid is not None:
        confine.drop_privileges(job.uid, job.gid)
    confine.set_no_new_privs()
    if confine.seccomp_supported():
        confine.apply_seccomp()
    os.environ.clear()
    os.environ.update(HOME=workdir, TMPDIR=workdir, PATH="/usr/bin:/bin", LANG="C.UTF-8")
    import tempfile

    tempfile.tempdir = None
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death at the file-size limit
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)


class JobRefused(Exception):
    """The worker could not confine itself; the job must not run."""


def _main(go: socket.socket, result_w: int, log_w: int, uid_base: int | None, isolated: bool) -> None:
    """Wait for the job, confine, run it, report on *result_w*. Never returns."""
    me = os.getpid()
    try:
        os.setsid()
        confine.set_pdeathsig(signal.SIGKILL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log_w, 1)
        os.dup2(log_w, 2)
        confine.close_fds({0, 1, 2, result_w, go.fileno()})
        sys.stdin = open(0, closefd=False)
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), errors="replace", line_buffering=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), errors="replace", line_buffering=True)
        try:
            header, blobs = protocol.recv_frame(go, max_total=MAX_JOB_INPUT)
        except protocol.ProtocolError:
            os._exit(0)  # the supervisor went away before a job came
        started = time.monotonic()
        go.close()
        job = Job(header, blobs, uid_base)
        _confine(job, str(header["indir"]), str(header["workdir"]), isolated)
        if job.nice:
            os.nice(job.nice)  # only ever lowers the priority, which needs no privilege
        confined = time.monotonic()
        from . import job as job_module

        result = job_module.build_and_export(job.files, job.params, job.formats, job.tolerance, job.angular,
                                             job.declared, str(header["workdir"]), kind=job.kind,
                                             part_files=job.part_files, max_triangles=job.max_triangles,
                                             parallel_mesh=job.parallel_mesh)
        result["worker_marks"] = {"started": started, "confined": confined, "done": time.monotonic()}
    except JobRefused as exc:
        result = {"ok": False, "category": "sandbox-failure", "message": str(exc), "traceback": []}
    except BaseException as exc:  # noqa: BLE001 — everything becomes a report
        from . import job as job_module

        result = job_module.failure(exc)
    if os.getpid() == me:  # a fork made by the script must not report
        try:
            data = json.dumps(result, default=str).encode()
            view = memoryview(data)
            while view:
                view = view[os.write(result_w, view):]
        except BaseException:  # noqa: BLE001
            pass
    os._exit(0)
