"""The content-addressed render cache: atomic writes, verification, single flight, LRU.

These tests use a fake pool (no CadQuery): what is under test is the cache
and the service around it, not the sandbox.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import trimesh
from sqlalchemy import func, select, update

from opendesign.catalogue.importer import import_designs
from opendesign.models import Artifact
from renderers import service
from renderers.cache import ArtifactMeta, FileArtifactStore
from renderers.errors import SCRIPT_ERROR, RenderError
from renderers.pool import RenderOutput

STEP = b"ISO-10303-21;\nHEADER;\nENDSEC;\nDATA;\nENDSEC;\nEND-ISO-10303-21;\n"


def box_stl(width: float) -> bytes:
    return trimesh.creation.box(extents=(width, 10, 5)).export(file_type="stl")


def corners(stl: bytes):
    """The triangles of a binary STL (normals ignored)."""
    from renderers.meshes import parse_stl

    return parse_stl(stl, max_triangles=10_000).triangles.tolist()


class FakePool:
    """Stands in for the sandbox: a box as wide as the 'width' parameter."""

    isolated = True  # runs no design code, so the render service's trust check lets every design through

    def __init__(self, delay: float = 0.0, fail: bool = False):
        self.delay, self.fail = delay, fail
        self.calls = 0
        self._lock = threading.Lock()

    def render(self, job):
        with self._lock:
            self.calls += 1
        time.sleep(self.delay)
        if self.fail:
            raise RenderError(SCRIPT_ERROR, "build() failed: boom")
        files = {"model.stl": box_stl(job.params["width"])}
        if "step" in job.shape_formats:
            files["model.step"] = STEP
        return RenderOutput(parts=(), files=files, seconds=self.delay)

    def submit(self, job):  # pragma: no cover — the service only calls render()
        raise NotImplementedError

    def close(self):
        pass


@pytest.fixture
def widget(db, make_design):
    path = make_design("test-widget")
    assert import_designs(db, [path]).ok
    return "test-widget"


def rows(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count(Artifact.id)))


def test_miss_then_hit(db, settings, widget):
    pool = FakePool()
    first = service.render(db, settings, widget, {"width": "30"}, ["stl", "step"], pool=pool)
    assert [(i.format, i.cache) for i in first] == [("stl", "miss"), ("step", "miss")]
    assert pool.calls == 1
    stl = first[0]
    assert corners(stl.path.read_bytes()) == corners(box_stl(30))  # re-written by the host, same triangles
    assert stl.triangles == 12 and stl.watertight and stl.volume == pytest.approx(1500)
    assert stl.bbox == [[-15.0, -5.0, -2.5], [15.0, 5.0, 2.5]]
    assert stl.filename == "test-widget-1.0.0.stl" and stl.media_type == "model/stl"
    # equal parameters, spelled differently, hit the same entries
    again = service.render(db, settings, widget, {"width": 30.0, "holes": "2"}, ["step", "stl"], pool=pool)
    assert [(i.format, i.cache) for i in again] == [("step", "hit"), ("stl", "hit")]
    assert pool.calls == 1
    assert again[1].sha256 == stl.sha256 and again[1].volume == stl.volume
    with db.session() as s:
        row = s.scalar(select(Artifact).where(Artifact.cache_key == stl.key))
        assert row.sha256 == stl.sha256 and row.size == stl.bytes and row.parameters["width"] == 30.0
        assert row.version_id is not None and row.quality == "normal" and row.part is None


def test_quality_and_parameters_are_part_of_the_key(db, settings, widget):
    pool = FakePool()
    a = service.render(db, settings, widget, {"width": 30}, pool=pool)[0]
    b = service.render(db, settings, widget, {"width": 31}, pool=pool)[0]
    c = service.render(db, settings, widget, {"width": 30}, quality="draft", pool=pool)[0]
    assert len({a.key, b.key, c.key}) == 3 and pool.calls == 3


def test_nothing_is_cached_on_failure(db, settings, widget):
    with pytest.raises(RenderError) as info:
        service.render(db, settings, widget, {}, ["stl", "glb"], pool=FakePool(fail=True))
    assert info.value.ref == "test-widget@1.0.0"
    assert rows(db) == 0
    assert not any(p.is_file() for p in (settings.cache_dir / "objects").rglob("*"))
    assert list((settings.cache_dir / "locks").iterdir()) == []


def test_served_bytes_are_verified(db, settings, widget):
    pool = FakePool()
    info, f = service.fetch(db, settings, widget, {"width": 20}, "stl", pool=pool)
    with f:
        assert f.read() == info.path.read_bytes()
    # flip one byte, keep the size: the sha256 check catches it, the entry is rendered again
    data = bytearray(info.path.read_bytes())
    data[100] ^= 0xFF
    info.path.write_bytes(bytes(data))
    store = FileArtifactStore(db, settings)
    assert store.open_verified(info.key) is None
    assert store.get(info.key) is None
    info2, f2 = service.fetch(db, settings, widget, {"width": 20}, "stl", pool=pool)
    with f2:
        assert corners(f2.read()) == corners(box_stl(20))
    assert pool.calls == 2 and info2.cache == "miss"


def test_a_deleted_file_is_a_miss_not_an_error(db, settings, widget):
    pool = FakePool()
    info = service.render(db, settings, widget, {}, pool=pool)[0]
    info.path.unlink()
    again = service.render(db, settings, widget, {}, pool=pool)[0]
    assert again.cache == "miss" and again.path.exists() and pool.calls == 2


def test_lru_eviction_keeps_the_cache_bounded(db, settings):
    store = FileArtifactStore(db, settings, max_bytes=1024 * 1024)
    keys = [f"{i:064x}" for i in range(1, 4)]
    for i, key in enumerate(keys[:2]):
        store.put(key, os.urandom(400_000), ArtifactMeta(format="stl", quality="normal"))
    old = datetime.now(UTC) - timedelta(hours=1)
    with db.session() as s:  # the first entry was used longest ago, the second one recently
        s.execute(update(Artifact).where(Artifact.cache_key == keys[0]).values(last_used_at=old))
        s.execute(update(Artifact).where(Artifact.cache_key == keys[1]).values(last_used_at=old + timedelta(minutes=30)))
    store.put(keys[2], os.urandom(400_000), ArtifactMeta(format="stl", quality="normal"))
    assert store.evict(protect=[keys[2]]) == 1
    assert store.get(keys[0]) is None and store.get(keys[1]) is not None and store.get(keys[2]) is not None
    assert not store.path(keys[0], "stl").exists()
    assert store.stats()["bytes"] <= 1024 * 1024


def test_eight_concurrent_requests_render_once(db, settings, widget):
    pool = FakePool(delay=1.0)
    results: list = []
    barrier = threading.Barrier(8)

    def request():
        barrier.wait()
        results.append(service.render(db, settings, widget, {"width": 44}, ["stl"], pool=pool)[0])

    threads = [threading.Thread(target=request) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert pool.calls == 1
    assert sorted(r.cache for r in results) == ["hit"] * 7 + ["miss"]
    assert len({r.sha256 for r in results}) == 1


def _script(body: str) -> str:
    return textwrap.dedent('''
        import json, os, sys, time
        import trimesh
        from opendesign.config import load_settings
        from opendesign.db import Database
        from renderers import service
        from renderers.cache import ArtifactMeta, FileArtifactStore
        from renderers.pool import RenderOutput

        settings = load_settings()
        db = Database(settings)
        MARK = sys.argv[1]

        class SlowPool:
            isolated = True

            def __init__(self, delay):
                self.delay = delay
            def render(self, job):
                with open(MARK, "a") as f:
                    f.write("render\\n")
                time.sleep(self.delay)
                stl = trimesh.creation.box(extents=(job.params["width"], 10, 5)).export(file_type="stl")
                return RenderOutput(parts=(), files={"model.stl": stl}, seconds=self.delay)
    ''') + textwrap.dedent(body)


def _spawn(env, tmp_path, body: str, *args: str) -> subprocess.Popen:
    script = tmp_path / f"script-{time.monotonic_ns()}.py"
    script.write_text(_script(body))
    return subprocess.Popen([sys.executable, str(script), *args], env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_concurrent_processes_render_once(env, db, widget, tmp_path):
    mark = tmp_path / "renders.log"
    body = '''
        infos = service.render(db, settings, "test-widget", {"width": 33}, ["stl"], pool=SlowPool(3.0))
        print(infos[0].cache)
    '''
    procs = [_spawn(env, tmp_path, body, str(mark)) for _ in range(4)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    assert mark.read_text().count("render") == 1
    assert sorted(out.strip() for out, _ in outputs) == ["hit", "hit", "hit", "miss"]


def test_kill_9_mid_write_leaves_no_partial_entry(env, db, settings, tmp_path):
    mark = tmp_path / "writing"
    key = "ab" * 32
    body = f'''
        store = FileArtifactStore(db, settings)
        def chunks():
            yield b"x" * 1_000_000
            open(MARK, "w").write("half written")
            time.sleep(120)
            yield b"y"
        store.put({key!r}, chunks(), ArtifactMeta(format="stl", quality="normal"))
    '''
    proc = _spawn(env, tmp_path, body, str(mark))
    deadline = time.monotonic() + 60
    while not mark.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mark.exists(), proc.communicate()[1]
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    store = FileArtifactStore(db, settings)
    assert store.get(key) is None and store.open_verified(key) is None
    assert not store.path(key, "stl").exists()
    assert rows(db) == 0
    debris = list(store.tmp.iterdir())
    assert len(debris) == 1 and debris[0].stat().st_size == 1_000_000
    past = time.time() - 2 * 3600
    os.utime(debris[0], (past, past))
    store.evict()
    assert list(store.tmp.iterdir()) == []


def test_a_render_killed_while_holding_the_lock_does_not_block_others(env, db, settings, widget, tmp_path):
    mark = tmp_path / "renders.log"
    body = '''
        service.render(db, settings, "test-widget", {"width": 55}, ["stl"], pool=SlowPool(120))
    '''
    proc = _spawn(env, tmp_path, body, str(mark))
    deadline = time.monotonic() + 60
    while not mark.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mark.exists(), proc.communicate()[1]
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    info = service.render(db, settings, widget, {"width": 55}, ["stl"], pool=FakePool())[0]
    assert info.cache == "miss" and info.watertight
    assert rows(db) == 1
