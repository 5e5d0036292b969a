"""Render priority: a speculative render's build() runs niced inside the same sandbox; a real one does not.

The model reports the niceness it runs at through the error it raises (the
only channel a script has to the host), so what is checked is what the design's
own code saw.
"""

from __future__ import annotations

import re
import time

import pytest

from opendesign.config import load_settings
from renderers.errors import RenderError
from renderers.pool import RenderJob, WarmPool

TELL_NICE = '''import os


def build(params):
    raise ValueError(f"nice={os.nice(0)}")
'''

SLEEP = '''import time


def build(params):
    time.sleep(2)
    raise ValueError("slept")
'''


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    settings = load_settings(environ={}, home=str(tmp_path_factory.mktemp("pool")), render_pool_size=1,
                             render_timeout=20, render_cpu_seconds=10)
    pool = WarmPool(settings)
    yield pool
    pool.close()


def _niceness(pool: WarmPool, nice: int) -> int:
    with pytest.raises(RenderError) as caught:
        pool.render(RenderJob(files={"model.py": TELL_NICE.encode()}, params={}, nice=nice, label="tell-nice"))
    found = re.search(r"nice=(\d+)", str(caught.value))
    assert found, str(caught.value)
    return int(found.group(1))


def test_speculative_builds_run_niced_and_real_ones_do_not(pool):
    base = _niceness(pool, 0)
    assert _niceness(pool, 10) == min(19, base + 10)
    assert _niceness(pool, 0) == base  # the next job of the same slot is not left niced


def test_the_pool_counts_its_idle_slots(pool):
    # A slot comes back once its job's supervisor has closed the socket (just after the answer).
    deadline = time.monotonic() + 30
    while pool.idle_slots() != pool.size and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool.idle_slots() == pool.size
    running = pool.submit(RenderJob(files={"model.py": SLEEP.encode()}, params={}, label="sleep"))
    seen = set()
    while not running.done():
        seen.add(pool.idle_slots())
        time.sleep(0.02)
    assert pool.size - 1 in seen  # the job held its slot while it ran
    with pytest.raises(RenderError):
        running.result()
