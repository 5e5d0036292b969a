"""The conversion helper: a bounded process that parses and converts one job's files.

A server (``--serve``), started once per host process by :mod:`renderers.converter`
(inside bubblewrap when it is there), imports numpy, trimesh and lxml, cuts
its network off when bubblewrap did not, drops root for ``nobody``, sets
no_new_privs and the render seccomp filter, and then waits on its control
socket (stdin). Each message carries a job's limits and a socket; for each it
forks a child that, before it reads a byte of the job, limits itself (address
space, CPU, an alarm for the wall clock, no files written, few descriptors),
then reads the job's files and a :class:`~renderers.convert.Request` and
answers one frame per artifact (``{"artifact": {...}}`` and its bytes), then
``{"done": true, ...}`` with its peak memory, or ``{"error": {...}}``. A child
that dies without a last frame was stopped at one of its limits.

Only this package, numpy, trimesh and lxml run here; the application (database,
settings) is neither imported nor reachable.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import sys
import time

from .sandbox import confine, protocol

#: The uid the helper runs as when started as root: it owns nothing and needs nothing.
NOBODY = 65534
#: The request header is small; the inputs are capped by the host (render_max_output_mb per file).
MAX_HEADER = 1024 * 1024


def _limit(memory_bytes: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # it writes no file; its answers go to the socket
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _preload() -> None:
    """What conversion imports, loaded once by the server (before the uid drop: the Python
    installation may not be readable by ``nobody``)."""
    import lxml.etree  # noqa: F401
    import networkx  # noqa: F401 — trimesh's 3MF export needs it
    import numpy  # noqa: F401
    import trimesh  # noqa: F401
    import trimesh.exchange.gltf  # noqa: F401
    import trimesh.exchange.threemf  # noqa: F401

    from . import convert  # noqa: F401


def _confine(unshare_net: bool) -> None:
    if unshare_net:
        try:
            confine.unshare_network()
        except OSError as exc:  # defence in depth for our own code: never the reason a render fails
            print(f"convert helper: {exc}", file=sys.stderr)
    if os.geteuid() == 0:
        confine.drop_bounding_set()
        confine.drop_privileges(NOBODY, NOBODY)
    confine.set_no_new_privs()
    if confine.seccomp_supported():
        confine.apply_seccomp()


def _recv_inputs(sock: socket.socket, max_total: int) -> tuple[dict, list[bytearray]]:
    """The request and its files, each read into one buffer (no second copy, unlike recv_frame)."""
    header = protocol.recv_header(sock, max_total=max_total, max_header=MAX_HEADER)
    blobs = []
    for size in header.get("blobs", []):
        buf = bytearray(size)
        view, got = memoryview(buf), 0
        while got < size:
            n = sock.recv_into(view[got:], min(size - got, 1 << 20))
            if n == 0:
                raise protocol.PeerClosed("the host closed the channel")
            got += n
        blobs.append(buf)
    return header, blobs


def peaks() -> dict:
    """Peak address space and resident memory of this process (bytes), and its CPU time so far."""
    out = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmPeak", "VmHWM"):
                    out[key] = int(value.split()[0]) * 1024
    except OSError:
        pass
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 4)
    return out


def serve(sock: socket.socket, max_input: int) -> None:
    """Read one request, answer it. Every failure becomes an ``error`` frame when the socket still works."""
    from .convert import Request, convert
    from .errors import TOO_LARGE, RenderError

    started = time.monotonic()
    try:
        header, blobs = _recv_inputs(sock, max_input)
        request = Request.from_dict(header["request"])
        names = request.inputs()
        if len(names) != len(blobs):
            raise ValueError(f"{len(blobs)} files sent for {len(names)} inputs")
        files = dict(zip(names, blobs))
        del blobs
        base = peaks()
        for meta, data in convert(request, files):
            protocol.send_frame(sock, {"artifact": meta}, [data])
            del data
        protocol.send_frame(sock, {"done": True, "seconds": round(time.monotonic() - started, 4),
                                   "peaks": peaks(), "after_input": base, "nice": os.nice(0)})
    except RenderError as exc:
        protocol.send_frame(sock, {"error": {"category": exc.category, "message": exc.message}})
    except MemoryError:
        protocol.send_frame(sock, {"error": {"category": TOO_LARGE, "message": "converting ran out of its memory",
                                             "peaks": peaks()}})
    except (protocol.ProtocolError, OSError):
        pass  # the host went away (its deadline); nothing to answer
    except Exception as exc:  # noqa: BLE001 — a bug or bad input, not a limit: say so
        protocol.send_frame(sock, {"error": {"category": "sandbox-failure",
                                             "message": f"conversion failed: {type(exc).__name__}: {exc}"[:2000]}})


def _child(fd: int, limits: dict) -> None:
    """One job, in a freshly forked child of the server."""
    confine.set_pdeathsig(signal.SIGKILL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the wall clock: the kernel ends us, even inside C code
    signal.alarm(max(1, int(limits["wall_seconds"])))
    _limit(int(limits["memory_bytes"]), int(limits["cpu_seconds"]))
    nice = min(19, max(0, int(limits.get("nice") or 0)))
    if nice:
        os.nice(nice)  # only ever lowers the priority: no privilege needed
    serve(socket.socket(fileno=fd), int(limits["max_input"]))


def serve_forever(control: socket.socket) -> None:
    """Fork a child per job message on *control* until the host closes it."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    while True:
        try:
            msg, fds, _flags, _addr = socket.recv_fds(control, 4096, 1)
        except InterruptedError:
            continue
        if not msg:
            return
        if not fds:
            continue
        try:
            limits = json.loads(msg)
        except ValueError:
            os.close(fds[0])
            continue
        pid = os.fork()
        if pid == 0:
            try:
                control.close()
                _child(fds[0], limits)
            finally:
                os._exit(0)
        os.close(fds[0])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="opendesign-convert")
    parser.add_argument("--unshare-net", action="store_true")
    args = parser.parse_args(argv)
    confine.set_pdeathsig(signal.SIGKILL)
    os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    control = socket.socket(fileno=0)
    try:
        _preload()
        _confine(args.unshare_net)
    except BaseException as exc:  # noqa: BLE001 — the host reads it as a sandbox failure
        control.send(json.dumps({"ready": False, "error": f"{type(exc).__name__}: {exc}"}).encode())
        sys.exit(1)
    import gc

    gc.collect()
    gc.freeze()  # children then do not copy the pages the collector would touch
    control.send(json.dumps({"ready": True, "pid": os.getpid()}).encode())
    serve_forever(control)
