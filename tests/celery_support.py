"""A real Redis server and real ``opendesign worker`` processes for the Celery tests.

Each test gets its own ``redis-server`` on a free port (never the shared one,
so a restart or a flush touches nobody else's data) and starts workers as
subprocesses of ``python -m renderers.worker_cli`` with the test's catalogue
in their environment. No eager mode, no mocks.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    """Poll *predicate* until it returns something truthy; fail naming *what* after *timeout* s.

    A generous bound so a loaded machine is not a failure; it is never asserted on.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class RedisServer:
    """A private ``redis-server`` without persistence (a restart empties it, like a lost broker)."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.proc = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.workdir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.ping, 30, f"redis-server on port {self.port}")
        return self

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.proc = None


class Worker:
    """One ``opendesign worker`` subprocess (its own warm pool and zygote)."""

    def __init__(self, env: dict[str, str], name: str, log_dir: Path, concurrency: int = 1,
                 queues: str = "preview,batch", extra: tuple[str, ...] = (), cpus: str | None = None):
        """*cpus*: run the worker (and all it starts) on these CPUs only (``taskset -c``), as a host of its own."""
        self.name = f"{name}@test"
        self.log_path = log_dir / f"worker-{name}.log"
        argv = [sys.executable, "-m", "renderers.worker_cli", "--concurrency", str(concurrency),
                "--queues", queues, "--hostname", self.name, *extra]
        if cpus is not None:
            argv = ["taskset", "-c", cpus, *argv]
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, env={**os.environ, **env, "PYTHONPATH": str(REPO)}, cwd=REPO,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill9(self) -> None:
        """SIGKILL to the worker and everything it started (as an OOM kill or a lost host would)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill9()
        self.log.close()


def wait_for_workers(dispatcher, names: list[str], timeout: float = 180) -> dict:
    """Block until every worker in *names* answers the sandbox ping; return the replies."""
    from renderers.celery_app import ping_workers

    def answered():
        replies = ping_workers(dispatcher.app, timeout=1.0)
        return replies if all(n in replies for n in names) else None

    return wait_for(answered, timeout, f"workers {names} to answer a ping")
