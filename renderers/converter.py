"""The host's side of conversion: start the bounded helper, feed it files, spool what it makes.

The web or worker process never parses a mesh: it streams the job's spooled
files to a child of :mod:`renderers.convert_helper`'s server (in bubblewrap
when the render sandbox uses it, else without network; one server per host
process, so imports are paid once) and streams the artifacts back into the
spool, checking only sizes, counts and that each artifact is one that was
asked for. The child's rlimits and alarm stop it at its memory, CPU and wall
clock; the render then fails as ``too-large`` (an honest model over the caps)
and nothing is cached.
"""

from __future__ import annotations

import atexit
import json
import math
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from opendesign.config import Settings

from . import launcher
from .convert import Request
from .errors import INVALID_GEOMETRY, SANDBOX_FAILURE, TOO_LARGE, RenderError
from .meshes import MeshStats
from .spool import Spool, SpoolError, recv_frame, send_files

MiB = 1024 * 1024
PACKAGE_DIR = Path(__file__).resolve().parent
#: The core package: renderers.errors builds on opendesign.errors (standard library only).
CORE_DIR = PACKAGE_DIR.parent / "opendesign"
BOOT = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
        "from renderers.convert_helper import main; main(sys.argv[1:])")
#: Wall-clock seconds on top of the CPU limit: a loaded machine gives a child less than a core.
STARTUP_SECONDS = 20.0
_HELPER_FAILURES = {INVALID_GEOMETRY, SANDBOX_FAILURE, TOO_LARGE}


@dataclass(frozen=True)
class HelperLimits:
    memory_bytes: int
    cpu_seconds: int
    wall_seconds: float
    #: Largest artifact the helper may hand back, and all of them together.
    file_bytes: int
    total_bytes: int


def limits_for(settings: Settings) -> HelperLimits:
    file_bytes = settings.render_max_output_mb * MiB
    return HelperLimits(memory_bytes=settings.render_convert_memory_mb * MiB,
                        cpu_seconds=settings.render_convert_seconds,
                        wall_seconds=settings.render_convert_seconds * 1.5 + STARTUP_SECONDS,
                        file_bytes=file_bytes, total_bytes=16 * file_bytes)


@dataclass(frozen=True)
class Converted:
    """One artifact the helper wrote, spooled on the host."""

    format: str
    part: str | None
    path: Path
    size: int
    sha256: str
    stats: MeshStats


def command(settings: Settings) -> list[str]:
    """The argv of the helper server (see :mod:`renderers.convert_helper`)."""
    sandbox = launcher.plan(settings)
    inner = [sys.executable, "-I", "-B", "-c", BOOT, str(PACKAGE_DIR.parent)]
    if not sandbox.isolated:
        return [*inner, "--unshare-net"]
    return launcher.bwrap_argv(sandbox, inner, [*launcher.python_dirs(), str(PACKAGE_DIR), str(CORE_DIR)])


class HelperServer:
    """The host's handle on one running helper server: it forks a bounded child per conversion."""

    def __init__(self, settings: Settings):
        self.control, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.stderr = tempfile.TemporaryFile()
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/"}
        try:
            self.proc = subprocess.Popen(command(settings), stdin=child, stdout=subprocess.DEVNULL,
                                         stderr=self.stderr, env=env, start_new_session=True, close_fds=True)
        finally:
            child.close()
        self.control.settimeout(launcher.STARTUP_TIMEOUT)
        try:
            ready = json.loads(self.control.recv(4096) or b"null")
        except (OSError, ValueError):
            ready = None
        if not isinstance(ready, dict) or not ready.get("ready"):
            self.kill()
            detail = (ready or {}).get("error") if isinstance(ready, dict) else None
            raise RenderError(SANDBOX_FAILURE, f"the conversion helper did not start: "
                                               f"{detail or _tail(self.stderr) or self.proc.poll()}")
        self.control.settimeout(None)
        self._lock = threading.Lock()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def job(self, limits: HelperLimits, max_input: int, nice: int = 0) -> socket.socket:
        """A socket to a freshly forked child with *limits*, *nice* added to its niceness."""
        ours, theirs = socket.socketpair()
        message = json.dumps({"memory_bytes": limits.memory_bytes, "cpu_seconds": limits.cpu_seconds,
                              "wall_seconds": limits.wall_seconds, "max_input": max_input, "nice": nice}).encode()
        try:
            with self._lock:
                socket.send_fds(self.control, [message], [theirs.fileno()])
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        return ours

    def kill(self) -> None:
        launcher.stop_process_group(self.proc, "conversion helper")
        self.control.close()


_servers: dict[tuple, HelperServer] = {}
_servers_lock = threading.Lock()


def _server(settings: Settings, fresh: bool = False) -> HelperServer:
    """The process-wide helper server for these settings, started (from the launcher thread) on first use."""
    key = (settings.render_use_bwrap,)
    with _servers_lock:
        server = _servers.get(key)
        if server is not None and (fresh or not server.alive()):
            server.kill()
            server = None
        if server is None:
            server = _servers[key] = launcher.get_launcher().call(lambda: HelperServer(settings))
        return server


def shutdown() -> None:
    with _servers_lock:
        servers = list(_servers.values())
        _servers.clear()
    for server in servers:
        server.kill()


atexit.register(shutdown)


def _stats(value) -> MeshStats:
    """Statistics from the helper, type-checked (they end up in the cache's metadata and the API)."""
    lo, hi = value["bbox"]
    numbers = [float(x) for x in (*lo, *hi, value["volume"])]
    if len(lo) != 3 or len(hi) != 3 or not all(math.isfinite(x) for x in numbers):
        raise ValueError("bad bounding box or volume")
    triangles = value["triangles"]
    if not isinstance(triangles, int) or isinstance(triangles, bool) or triangles < 0:
        raise ValueError("bad triangle count")
    return MeshStats(triangles=triangles, watertight=bool(value["watertight"]), volume=float(value["volume"]),
                     bbox=(tuple(float(x) for x in lo), tuple(float(x) for x in hi)))


def _tail(stream, limit: int = 1500) -> str:
    return launcher.read_tail(stream, limit)


class _Run:
    """One conversion: a child of the helper server and its socket."""

    def __init__(self, settings: Settings, limits: HelperLimits, max_input: int, nice: int = 0):
        self.limits = limits
        try:
            self.server = _server(settings)
            self.sock = self.server.job(limits, max_input, nice)
        except OSError:  # the server died between conversions: start another, once
            self.server = _server(settings, fresh=True)
            self.sock = self.server.job(limits, max_input, nice)
        self.started = time.monotonic()
        # A little after the child's own alarm, so that the child is the one stopped at it.
        self.deadline = self.started + limits.wall_seconds + 5

    def stop(self) -> None:
        self.sock.close()  # a child still running gets EPIPE, or its alarm

    def why(self, problem: str) -> RenderError:
        """Why a child that broke off ended: at a limit (``too-large``) or otherwise (``sandbox-failure``).

        A child answers every failure of its own with an error frame, so one
        that closed without it was killed, and only its limits kill it (RLIMIT_CPU,
        its alarm, or the kernel refusing memory inside C code).
        """
        self.stop()
        if not self.server.alive():
            return RenderError(SANDBOX_FAILURE, f"the conversion helper died ({problem}): "
                                                f"{_tail(self.server.stderr)[-600:]}")
        if time.monotonic() - self.started >= self.limits.wall_seconds:
            return RenderError(TOO_LARGE, f"converting the mesh took longer than {self.limits.wall_seconds:g} s and "
                                          "was stopped; use a coarser quality or fewer formats")
        return RenderError(TOO_LARGE, f"converting the mesh was stopped at the helper's limits "
                                      f"({self.limits.memory_bytes // MiB} MiB, {self.limits.cpu_seconds} s of CPU); "
                                      "use a coarser quality or fewer formats")


def convert(settings: Settings, request: Request, inputs: list[Path], spool: Spool,
            nice: int = 0) -> tuple[list[Converted], dict]:
    """Run *request* on the spooled *inputs* in a fresh helper; return its artifacts (in *spool*) and its figures.

    *nice* lowers the helper child's priority, as the render's build was (batch and speculative renders).

    :raises RenderError: ``too-large`` at the helper's limits; the helper's
        ``invalid-geometry``; ``sandbox-failure`` for anything else.
    """
    limits = limits_for(settings)
    expected = [(fmt, part) for fmt in request.formats for part in (None, *request.parts)]
    max_input = sum(p.stat().st_size for p in inputs)
    run = _Run(settings, limits, max_input, nice)
    results: list[Converted] = []
    total = 0
    try:
        try:
            run.sock.settimeout(limits.wall_seconds)
            send_files(run.sock, {"request": request.as_dict()}, inputs)
            while True:
                header, paths = recv_frame(run.sock, spool, max_each=limits.file_bytes,
                                           max_total=limits.file_bytes, deadline=run.deadline)
                if "error" in header:
                    error = header["error"] if isinstance(header["error"], dict) else {}
                    category = error.get("category")
                    category = category if category in _HELPER_FAILURES else SANDBOX_FAILURE
                    raise RenderError(category, str(error.get("message", "the conversion failed"))[:2000])
                if header.get("done") is True:
                    figures = {k: header.get(k) for k in ("seconds", "peaks", "after_input", "nice")}
                    break
                results.append(_artifact(header, paths, expected, results))
                total += results[-1].size
                if total > limits.total_bytes:
                    raise RenderError(TOO_LARGE, f"the artifacts exceed {limits.total_bytes // MiB} MiB in total")
        except (SpoolError, OSError) as exc:
            raise run.why(str(exc)) from None
        except (KeyError, TypeError, ValueError) as exc:
            raise RenderError(SANDBOX_FAILURE, f"the conversion helper answered nonsense: {exc}") from None
    finally:
        run.stop()
    missing = [e for e in expected if e not in {(r.format, r.part) for r in results}]
    if missing:
        raise RenderError(SANDBOX_FAILURE, f"the conversion helper made no {missing[0][0]} of "
                                           f"{missing[0][1] or 'the whole model'}")
    figures["wall_seconds"] = round(time.monotonic() - run.started, 4)
    return results, figures


def _artifact(header: dict, paths: list[Path], expected: list, done: list[Converted]) -> Converted:
    meta = header["artifact"]
    fmt, part = meta["format"], meta["part"]
    if (fmt, part) not in expected or any((r.format, r.part) == (fmt, part) for r in done) or len(paths) != 1:
        raise ValueError(f"an artifact nobody asked for ({fmt!r}, {part!r})")
    return Converted(format=fmt, part=part, path=paths[0], size=paths[0].stat().st_size,
                     sha256=header["sha256"][0], stats=_stats(meta["stats"]))
