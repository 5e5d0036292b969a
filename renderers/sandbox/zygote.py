"""The zygote: import cadquery once, then fork a fresh, confined worker per job.

Process tree (inside bubblewrap when available)::

    zygote            imports cadquery; never builds or tessellates (OCC thread
    │                 pools would make later forks deadlock); keeps spares
    └─ supervisor     a spare, forked ahead of time; takes one job; a child
       │              subreaper; enforces the wall clock, reads outputs back
       └─ worker      forked by its supervisor ahead of time; on the job: own
                      session, rlimits, no capabilities, the job slot's uid;
                      runs model.py (see :mod:`.supervisor`, :mod:`.worker`)

Spares take both forks off a render's critical path: a job is handed to a
supervisor whose worker is already waiting, and the zygote forks a
replacement while the job runs.

The host talks to the zygote over a SOCK_SEQPACKET control socket: each
message carries one file descriptor, a fresh socket for one job, over which the
supervisor receives the job and answers (see :mod:`.protocol`).

Standard library, cadquery and this package only: nothing of the application
(database, settings, secrets) is importable or reachable here.
"""

from __future__ import annotations

import argparse
import collections
import gc
import importlib
import json
import os
import signal
import socket
import sys
import time

from . import confine, supervisor

#: Standard-library modules a model is likely to import, loaded once here so
#: jobs do not pay for them (and can use them even where the Python
#: installation is not readable by the job's uid, as under a 0700 /root).
PRELOAD = ("math", "cmath", "decimal", "fractions", "statistics", "random", "itertools", "functools", "collections",
           "dataclasses", "typing", "json", "re", "enum", "string", "textwrap", "copy", "operator", "bisect",
           "heapq", "numbers", "datetime", "csv", "io", "struct", "warnings", "contextlib", "abc",
           "encodings.idna", "unicodedata", "socket")


def _versions() -> dict:
    from importlib.metadata import version

    def v(name: str) -> str:
        try:
            return version(name)
        except Exception:  # noqa: BLE001
            return "unknown"

    return {"cadquery": v("cadquery"), "ocp": v("cadquery-ocp"), "python": sys.version.split()[0],
            "preloaded": sorted(name for name in ("build123d", "trimesh") if name in sys.modules)}


class Zygote:
    def __init__(self, control: socket.socket, args: argparse.Namespace):
        self.control, self.args = control, args
        self.spares: collections.deque[socket.socket] = collections.deque()

    def spawn_spare(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            try:
                self.control.close()
                ours.close()
                for link in self.spares:
                    link.close()
                supervisor.main(theirs, self.args.jobs_dir, self.args.uid_base, self.args.isolated, self.args.hide)
            finally:
                os._exit(0)
        theirs.close()
        self.spares.append(ours)

    def hand_over(self, fd: int) -> None:
        """Give the job socket *fd* to a spare supervisor (a fresh one if the spares died)."""
        for _attempt in range(3):
            if not self.spares:
                self.spawn_spare()
            link = self.spares.popleft()
            try:
                socket.send_fds(link, [b"job"], [fd])
                return
            except OSError:
                continue
            finally:
                link.close()
        print("zygote: no supervisor would take a job", file=sys.stderr)

    def serve(self) -> None:
        while len(self.spares) < self.args.spares:
            self.spawn_spare()
        while True:
            try:
                msg, fds, _flags, _addr = socket.recv_fds(self.control, 1024, 4)
            except InterruptedError:
                continue
            if not msg:
                return  # the host closed the control socket
            for fd in fds:
                self.hand_over(fd)
                os.close(fd)
            while len(self.spares) < self.args.spares:
                self.spawn_spare()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="opendesign-zygote")
    parser.add_argument("--control-fd", type=int, required=True)
    parser.add_argument("--jobs-dir", required=True)
    parser.add_argument("--uid-base", type=int, default=None)
    parser.add_argument("--spares", type=int, default=2)
    #: Inside bubblewrap: own pid and network namespaces. Only then may a job's
    #: uid be swept with kill(-1) (outside, that would reach the host's
    #: processes); outside, each worker cuts its own network off.
    parser.add_argument("--isolated", action="store_true")
    #: Host paths a job must not see when not isolated (OPENDESIGN_HOME, the database...).
    parser.add_argument("--hide", action="append", default=[])
    #: Model libraries imported once here besides CadQuery (``build123d``).
    parser.add_argument("--preload", action="append", default=[], choices=["build123d"])
    args = parser.parse_args(argv)
    control = socket.socket(fileno=args.control_fd)
    confine.set_pdeathsig(signal.SIGKILL)
    os.umask(0o022)
    started = time.monotonic()
    import cadquery  # noqa: F401 — the point of the zygote: pay the import once
    from cadquery.occ_impl.exporters import svg  # noqa: F401

    from . import job  # noqa: F401
    import trimesh  # noqa: F401 — reads a static design's mesh parts (see .uploads)
    import trimesh.exchange.load  # noqa: F401

    for name in args.preload:
        importlib.import_module(name)
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    # Objects that exist now are never collected; children then do not copy
    # the pages the collector would touch.
    gc.collect()
    gc.freeze()
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # supervisors are reaped by the kernel
    zygote = Zygote(control, args)
    zygote.spawn_spare()
    ready = {"ready": True, "pid": os.getpid(), "import_seconds": round(time.monotonic() - started, 3),
             **_versions()}
    control.send(json.dumps(ready).encode())
    zygote.serve()
    os._exit(0)


if __name__ == "__main__":
    main()
