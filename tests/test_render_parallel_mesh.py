"""``render_parallel_mesh``: whether an STL export meshes on OCC's thread pool or on the job's own thread."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from opendesign.config import load_settings
from renderers.pool import RenderJob, WarmPool

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_on_by_default_and_off_from_the_environment():
    assert load_settings(environ={}).render_parallel_mesh is True
    assert load_settings(environ={"OPENDESIGN_RENDER_PARALLEL_MESH": "false"}).render_parallel_mesh is False


def test_an_unknown_value_is_refused():
    from opendesign.config import ConfigError

    with pytest.raises(ConfigError, match="render_parallel_mesh"):
        load_settings(environ={"OPENDESIGN_RENDER_PARALLEL_MESH": "sometimes"})


def test_the_pool_sends_its_choice_with_every_job(tmp_path):
    from renderers.sandbox.worker import Job

    for choice in (True, False):
        pool = WarmPool(load_settings(environ={}, home=str(tmp_path), render_parallel_mesh=choice), size=1)
        try:
            assert pool.describe()["parallel_mesh"] is choice
            # What the confined worker reads from the job's header (the zygote is not even started).
            header, blobs = pool._header(RenderJob(files={"model.py": b"x = 1\n"}, params={}), 0)
            assert Job(header, blobs, None).parallel_mesh is choice
        finally:
            pool.close()


# What a confined worker runs (renderers.sandbox.job), in a fresh process as the worker is one:
# the threads the export added say whether OCC meshed on its pool.
EXPORT = textwrap.dedent("""
    import json, os, sys, tempfile
    from renderers.sandbox import job
    before = len(os.listdir("/proc/self/task"))  # the libraries' own threads (OpenBLAS...)
    model = b'''import cadquery as cq
    def build(params):
        return cq.Workplane("XY").box(10, 20, 30).edges().fillet(2)  # no boolean: CadQuery runs those on the pool too
    '''
    with tempfile.TemporaryDirectory() as out:
        result = job.build_and_export({"model.py": model}, {}, [], 0.05, 0.1, [], out,
                                      parallel_mesh=sys.argv[1] == "on")
        assert result["ok"] and os.path.getsize(os.path.join(out, "model.stl")) > 1000
    print(json.dumps({"added": len(os.listdir("/proc/self/task")) - before}))
""")


def _threads_added_by_export(flag: str) -> int:
    done = subprocess.run([sys.executable, "-c", EXPORT, flag], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": REPO})
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])["added"]


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="OCC's pool has one thread on one core")
def test_the_flag_decides_whether_the_export_meshes_on_threads():
    assert _threads_added_by_export("off") == 0
    assert _threads_added_by_export("on") > 0
