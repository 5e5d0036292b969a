"""Several processes, one catalogue: a change committed by one shows on the next request of every other.

Real processes, no mocks: ``opendesign serve`` (waitress, and gunicorn with
``--processes 2``) in subprocesses, and ``opendesign import`` in another as
the process that publishes. On both search backends.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from opendesign.catalogue.importer import import_designs

from .conftest import backend_env

REPO = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from opendesign.cli import main; main()"]

pytestmark = pytest.mark.slow  # each test starts web servers (a few seconds of imports each)


@pytest.fixture
def env(env, search_backend, request, monkeypatch):
    return backend_env(env, search_backend, request, monkeypatch)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _process_env(env: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **env, "PYTHONPATH": str(REPO), "OPENDESIGN_RENDER_POOL_SIZE": "1"}


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@contextmanager
def serving(env: dict[str, str], *args: str):
    port = _free_port()
    server = subprocess.Popen([*CLI, "serve", "--port", str(port), "--no-warm", "--threads", "2", *args],
                              env=_process_env(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                _get(port, "/healthz")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"server did not start: {server.stdout.read().decode()[-2000:]}")
                time.sleep(0.2)
        yield port
    finally:
        os.killpg(server.pid, 15)  # gunicorn's master and its workers
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
            server.wait()


def _publish(env: dict[str, str], root: Path) -> None:
    """``opendesign import`` in a process of its own: the other process that commits a change."""
    done = subprocess.run([*CLI, "import", str(root), "--json"], env=_process_env(env), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_change_from_another_process_shows_on_the_next_request(env, db, make_design):
    make_design("fog-net", title="Fog net collector", tags=["water"])
    assert import_designs(db, [make_design.root]).ok
    with serving(env) as port:
        status, page = _get(port, "/designs/fog-net")
        assert status == 200 and "1.0.0" in page
        assert "Fog net collector" in _get(port, "/search?q=fog")[1]
        assert "Misty" not in _get(port, "/")[1]
        make_design("fog-net", version="1.1.0", title="Misty fog net collector", tags=["water"])
        _publish(env, make_design.root)
        # The very next requests, well inside the caches' 10 s: the shared generation moved.
        assert "1.1.0" in _get(port, "/designs/fog-net")[1]
        assert "Misty" in _get(port, "/search?q=fog")[1]
        assert "Misty" in _get(port, "/")[1]


def test_serve_with_two_processes_answers_from_both_and_they_agree(env, db, make_design):
    make_design("rain-barrel", title="Rain barrel stand")
    assert import_designs(db, [make_design.root]).ok
    with serving(env, "--processes", "2") as port:
        pids = set()
        deadline = time.monotonic() + 60
        while len(pids) < 2 and time.monotonic() < deadline:
            pids.add(json.loads(_get(port, "/healthz")[1])["process"])
        assert len(pids) == 2, "only one web process answered"
        for _ in range(6):  # fill both processes' caches
            assert "1.0.0" in _get(port, "/designs/rain-barrel")[1]
        make_design("rain-barrel", version="2.0.0", title="Rain barrel stand with tap")
        _publish(env, make_design.root)
        answered = set()
        for _ in range(12):  # whichever process answers, it answers with the new version at once
            status, page = _get(port, "/designs/rain-barrel")
            assert status == 200 and "2.0.0" in page and "with tap" in page
            body = json.loads(_get(port, "/healthz")[1])
            answered.add(body["process"])
        assert answered == pids
