"""How the zygote is started and held: inside bubblewrap when it is there, else bare (and said so).

:func:`plan` picks the mode, :func:`command` builds the argv,
:class:`ZygoteProcess` is the host's handle on a running zygote, started from
the long-lived :class:`Launcher` thread.

Modes (:func:`plan`):

``bwrap``
    The server runs as root. bwrap runs *without* a user namespace (so uids
    are real host uids) and unshares pid, net, ipc, uts and cgroup namespaces.
    The zygote sees a read-only ``/usr``, ``/lib*``, ``/bin``, the Python
    installation, the virtualenv and this package; a private ``/tmp`` only
    root may write; and ``/jobs``, a size-capped tmpfs for job folders. Each
    worker drops to its own uid (``JOB_UID_BASE + slot``), so concurrent jobs
    can neither see each other's files nor share a process limit.
``bwrap-userns``
    The server is not root: the same sandbox inside a user namespace
    (``--unshare-all``). Workers keep the (namespaced) server uid.
``none``
    No bwrap, or ``render_use_bwrap = false``. Rlimits, the cleared
    environment, the per-job folder, (as root) the uid drop and a per-job
    empty network namespace still apply, but the filesystem is the host's:
    a job can read whatever its uid may read. Logged as a warning.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from opendesign.config import Settings

from .errors import SANDBOX_FAILURE, RenderError

log = logging.getLogger(__name__)

#: Worker uids (and gids) when running as root: far above login users and
#: subordinate-uid ranges, below systemd's container ranges. Each process that
#: runs a pool takes its own block of :data:`UIDS_PER_POOL` (by its pid), so
#: pools of different processes never share a uid (RLIMIT_NPROC counts per uid).
JOB_UID_BASE = 1_800_000_000
UIDS_PER_POOL = 64
JOBS_MOUNT = "/jobs"
STARTUP_TIMEOUT = 120.0
PACKAGE_DIR = Path(__file__).resolve().parent
BOOT = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
        "from renderers.sandbox.zygote import main; main(sys.argv[1:])")
_SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin")


@dataclass(frozen=True)
class SandboxPlan:
    mode: str
    bwrap: str | None
    uid_base: int | None
    reason: str
    #: Host paths each job's mount namespace covers when not isolated (see renderers.sandbox.mounts).
    hide: tuple[str, ...] = ()

    @property
    def isolated(self) -> bool:
        return self.mode != "none"

    def describe(self) -> str:
        if self.mode == "bwrap":
            return ("bubblewrap (no user namespace; pid/net/ipc/uts namespaces; read-only system; "
                    f"per-slot uids {self.uid_base}+)")
        if self.mode == "bwrap-userns":
            return "bubblewrap in a user namespace (not root: workers keep the server's uid)"
        return (f"NONE — {self.reason}; rlimits, uid drop, no network and (as root) a mount namespace per job "
                "that hides the home, /tmp and /run, but the rest of the host's filesystem is in view")


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def python_readable_by_others() -> bool:
    """Whether an unprivileged uid can reach the Python installation (imports beyond the preloaded ones)."""
    for value in (sys.base_prefix, sys.prefix):
        path = os.path.realpath(value)
        while path not in ("/", ""):
            try:
                if not os.stat(path).st_mode & 0o001:
                    return False
            except OSError:
                return False
            path = os.path.dirname(path)
    return True


def private_paths(settings: Settings) -> tuple[str, ...]:
    """What an unisolated job must not see: the home, an SQLite database elsewhere, the config file."""
    paths = [settings.home.resolve()]
    if settings.database.startswith("sqlite:///"):
        paths.append(Path(settings.database.split("///", 1)[1]).resolve().parent)
    config = os.environ.get("OPENDESIGN_CONFIG")
    if config:
        paths.append(Path(config).resolve())
    return tuple(dict.fromkeys(str(p) for p in paths))


def plan(settings: Settings) -> SandboxPlan:
    root = os.geteuid() == 0
    uid_base = JOB_UID_BASE + UIDS_PER_POOL * (os.getpid() % 65536) if root else None
    if not settings.render_use_bwrap:
        return SandboxPlan("none", None, uid_base, "the bubblewrap sandbox is disabled by render_use_bwrap = false",
                           private_paths(settings))
    found = bwrap_path()
    if found is None:
        return SandboxPlan("none", None, uid_base, "bubblewrap (bwrap) is not installed; apt-get install bubblewrap",
                           private_paths(settings))
    if root:
        return SandboxPlan("bwrap", found, uid_base, "")
    return SandboxPlan("bwrap-userns", found, None, "")


def _python_dirs() -> list[str]:
    dirs = set()
    for value in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        real = os.path.realpath(value)
        if not any(real == d or real.startswith(d + "/") for d in _SYSTEM_DIRS):
            dirs.add(real)
    exe_dir = os.path.dirname(os.path.realpath(sys.executable))
    if not any(exe_dir.startswith(d + "/") for d in [*_SYSTEM_DIRS, *dirs]):
        dirs.add(exe_dir)
    return sorted(dirs)


def jobs_tmpfs_bytes(settings: Settings, pool_size: int) -> int:
    return pool_size * 4 * settings.render_max_output_mb * 1024 * 1024 + 64 * 1024 * 1024


def command(sandbox: SandboxPlan, control_fd: int, jobs_dir: str, tmpfs_bytes: int, spares: int = 2,
            preload: tuple[str, ...] = ()) -> list[str]:
    """The argv that starts the zygote; *preload* names the model libraries it imports besides CadQuery."""
    # The venv's own interpreter (not its symlink target), so that pyvenv.cfg puts
    # the venv's site-packages on the path.
    zygote = [sys.executable, "-I", "-B", "-c", BOOT, str(PACKAGE_DIR.parent), "--control-fd", str(control_fd),
              "--jobs-dir", jobs_dir, "--spares", str(spares)]
    for name in preload:
        zygote += ["--preload", name]
    if sandbox.uid_base is not None:
        zygote += ["--uid-base", str(sandbox.uid_base)]
    if not sandbox.isolated:
        for path in sandbox.hide:
            zygote += ["--hide", path]
        return zygote
    zygote.append("--isolated")
    jobs = ["--size", str(tmpfs_bytes), "--perms", "0711", "--tmpfs", JOBS_MOUNT]
    return bwrap_argv(sandbox, zygote, [*_python_dirs(), str(PACKAGE_DIR)], jobs)


def bwrap_argv(sandbox: SandboxPlan, inner: list[str], binds: list[str], mounts: list[str] = ()) -> list[str]:
    """*inner* run in bubblewrap: the namespaces of *sandbox*'s mode, a read-only system and *binds*.

    *mounts* (bwrap options) are added after the private ``/tmp``. Used for the
    zygote and for the conversion helper (:mod:`renderers.converter`).
    """
    if sandbox.mode == "bwrap":
        namespaces = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    else:
        namespaces = ["--unshare-all"]
    argv = [sandbox.bwrap, *namespaces, "--die-with-parent", "--new-session", "--clearenv",
            "--setenv", "HOME", "/tmp", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "LANG", "C.UTF-8",
            # /tmp first: a tmpfs hides whatever was bound below it before.
            "--perms", "0755", "--tmpfs", "/tmp", *mounts]
    # bwrap creates missing parents of a mount point as 0700 directories, which
    # a worker's uid could not traverse (e.g. /root when Python lives in ~/.pyenv).
    for d in _parents(binds):
        argv += ["--perms", "0755", "--dir", d]
    for d in _SYSTEM_DIRS:
        argv += ["--ro-bind-try", d, d]
    argv += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    for d in binds:
        argv += ["--ro-bind", d, d]
    argv += ["--proc", "/proc", "--dev", "/dev", "--chdir", "/", "--", *inner]
    return argv


def python_dirs() -> list[str]:
    """The Python installation and virtualenv folders a sandboxed interpreter needs bound."""
    return _python_dirs()


def _parents(paths: list[str]) -> list[str]:
    """Ancestors of *paths* that no mount provides, shallowest first."""
    # /tmp is an empty tmpfs of the sandbox: folders below it (a checkout in /tmp, say)
    # are made by bwrap like any other missing parent.
    mounted = [*_SYSTEM_DIRS, *paths, JOBS_MOUNT]
    found = set()
    for path in paths:
        parent = os.path.dirname(path)
        while parent not in ("/", "", "/tmp"):
            if not any(parent == m or parent.startswith(m + "/") for m in mounted):
                found.add(parent)
            parent = os.path.dirname(parent)
    return sorted(found, key=lambda p: (p.count("/"), p))


def spawn(sandbox: SandboxPlan, control_fd: int, tmpfs_bytes: int,
          spares: int = 2, preload: tuple[str, ...] = ()) -> tuple[subprocess.Popen, str | None, object]:
    """Start the zygote; return (process, host jobs folder to remove later or None, stderr file)."""
    host_jobs = None
    if sandbox.isolated:
        jobs_dir = JOBS_MOUNT
        env = {}
    else:
        host_jobs = tempfile.mkdtemp(prefix="opendesign-render-")
        os.chmod(host_jobs, 0o711)
        jobs_dir = host_jobs
        env = {"HOME": host_jobs, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    stderr = tempfile.TemporaryFile()
    proc = subprocess.Popen(command(sandbox, control_fd, jobs_dir, tmpfs_bytes, spares, preload), pass_fds=(control_fd,),
                            stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr, env=env,
                            start_new_session=True, close_fds=True)
    return proc, host_jobs, stderr


def read_tail(stream, limit: int = 2000) -> str:
    try:
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        stream.seek(max(0, size - limit))
        return stream.read().decode("utf-8", "replace").strip()
    except (OSError, ValueError):
        return ""


T = TypeVar("T")


class Launcher:
    """A thread that lives as long as the process and starts every zygote.

    The kernel's parent-death signal (bwrap ``--die-with-parent``) fires when
    the *thread* that forked the child exits, so the zygote must not be started
    from a short-lived request or executor thread.
    """

    def __init__(self) -> None:
        self._calls: queue.Queue = queue.Queue()
        threading.Thread(target=self._loop, name="render-launcher", daemon=True).start()

    def _loop(self) -> None:
        while True:
            fn, future = self._calls.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn())
                except BaseException as exc:  # noqa: BLE001 — handed to the caller
                    future.set_exception(exc)

    def call(self, fn: Callable[[], T]) -> T:
        future: Future = Future()
        self._calls.put((fn, future))
        return future.result()


_launcher_lock = threading.Lock()
_launcher: Launcher | None = None


def get_launcher() -> Launcher:
    global _launcher
    with _launcher_lock:
        if _launcher is None:
            _launcher = Launcher()
        return _launcher


class ZygoteProcess:
    """The host's handle on one running zygote."""

    def __init__(self, sandbox: SandboxPlan, tmpfs_bytes: int, spares: int, preload: tuple[str, ...] = ()):
        self.sandbox = sandbox
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.control = parent
        self._send_lock = threading.Lock()
        try:
            self.proc, self.host_jobs, self.stderr = spawn(sandbox, child.fileno(), tmpfs_bytes, spares, preload)
        finally:
            child.close()
        self.info = self._await_ready()

    def _await_ready(self) -> dict:
        self.control.settimeout(STARTUP_TIMEOUT)
        try:
            msg = self.control.recv(65536)
            info = json.loads(msg) if msg else None
        except (OSError, ValueError):
            info = None
        if not isinstance(info, dict) or not info.get("ready"):
            self.kill()
            detail = read_tail(self.stderr) or f"exit status {self.proc.poll()}"
            hint = " (set render_use_bwrap = false to run without bubblewrap)" if self.sandbox.isolated else ""
            raise RenderError(SANDBOX_FAILURE, f"the render sandbox did not start{hint}: {detail}")
        self.control.settimeout(None)
        return info

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send_job(self, sock: socket.socket) -> None:
        with self._send_lock:
            socket.send_fds(self.control, [b"job"], [sock.fileno()])

    def kill(self) -> None:
        stop_process_group(self.proc, "render zygote")
        self.control.close()
        if self.host_jobs:
            shutil.rmtree(self.host_jobs, ignore_errors=True)


def stop_process_group(proc: subprocess.Popen, what: str) -> None:
    """SIGKILL *proc*'s whole process group (a sandbox and what it forked) and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        proc.kill()
    except OSError:
        pass
    try:
        proc.wait(timeout=10)
    except Exception:  # noqa: BLE001
        log.warning("%s %s did not exit", what, proc.pid)
