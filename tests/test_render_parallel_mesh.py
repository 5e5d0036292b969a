"""``render_parallel_mesh``: whether an STL export meshes on OCC's thread pool or on the job's own thread."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from opendesign.config import load_settings
from renderers import pool as pool_module
from renderers.pool import WarmPool, parallel_mesh

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("cores, slots, expected", [(2, 1, True), (2, 2, False), (8, 4, True), (4, 8, False),
                                                   (1, 1, False)])
def test_auto_meshes_in_parallel_only_while_the_slots_leave_cores_idle(monkeypatch, cores, slots, expected):
    monkeypatch.setattr(pool_module.os, "cpu_count", lambda: cores)
    assert parallel_mesh(load_settings(environ={}), slots) is expected


@pytest.mark.parametrize("value, expected", [("on", True), ("off", False)])
def test_on_and_off_hold_whatever_the_slots(monkeypatch, value, expected):
    monkeypatch.setattr(pool_module.os, "cpu_count", lambda: 2)
    settings = load_settings(environ={"OPENDESIGN_RENDER_PARALLEL_MESH": value})
    assert parallel_mesh(settings, 1) is expected
    assert parallel_mesh(settings, 64) is expected


def test_an_unknown_value_is_refused():
    from opendesign.config import ConfigError

    with pytest.raises(ConfigError, match="render_parallel_mesh"):
        load_settings(environ={"OPENDESIGN_RENDER_PARALLEL_MESH": "sometimes"})


def test_the_pool_sends_its_choice_with_every_job(tmp_path):
    on = WarmPool(load_settings(environ={}, home=str(tmp_path), render_parallel_mesh="on"), size=1)
    off = WarmPool(load_settings(environ={}, home=str(tmp_path), render_parallel_mesh="off"), size=1)
    try:
        assert on.describe()["parallel_mesh"] is True
        assert off.describe()["parallel_mesh"] is False
    finally:
        on.close()
        off.close()


# What a confined worker runs (renderers.sandbox.job), in a fresh process as the worker is one:
# the threads it has after the export say whether OCC meshed on its pool.
EXPORT = textwrap.dedent("""
    import json, os, sys, tempfile
    from renderers.sandbox import job
    model = b'''import cadquery as cq
    def build(params):
        return cq.Workplane("XY").sphere(20).union(cq.Workplane("XY").cylinder(60, 8)).faces(">Z").fillet(3)
    '''
    with tempfile.TemporaryDirectory() as out:
        result = job.build_and_export({"model.py": model}, {}, [], 0.05, 0.1, [], out,
                                      parallel_mesh=sys.argv[1] == "on")
        assert result["ok"] and os.path.getsize(os.path.join(out, "model.stl")) > 1000
    print(json.dumps({"threads": len(os.listdir("/proc/self/task"))}))
""")


def _threads_after_export(flag: str) -> int:
    done = subprocess.run([sys.executable, "-c", EXPORT, flag], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": REPO})
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])["threads"]


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="OCC's pool has one thread on one core")
def test_the_flag_decides_whether_the_export_meshes_on_threads():
    assert _threads_after_export("off") == 1
    assert _threads_after_export("on") > 1
