"""What the sandbox hands back is not trusted: the host copies it, a bounded helper converts it.

A model controls its whole worker process, so it can write its own mesh files
and its own "ok" report. Whatever it writes, the host process must not parse
or convert it (its memory must not grow with the forged mesh), a mesh over
the caps must fail as ``too-large``, the helper must be stopped at its own
limits when the caps underestimate, and the next render must work.
"""

from __future__ import annotations

import struct
import threading

import numpy as np
import psutil
import pytest
import trimesh

from opendesign.catalogue.importer import import_designs
from opendesign.config import load_settings
from renderers import caps, converter, service
from renderers.convert import Request
from renderers.errors import TOO_LARGE, RenderError
from renderers.formats import export_stl
from renderers.meshes import Mesh
from renderers.pool import WarmPool
from renderers.spool import Spool, stl_triangles

#: The host's RSS may grow by this much while it handles a forged mesh of ~50 MB. Parsing it
#: in-host, as before, cost more than that for the copies of the bytes alone (the issue's
#: 245 MB forgery took 3 GB for a GLB); spooling costs one 1 MiB buffer.
HOST_GROWTH = 100 * 2**20
#: The forged mesh: just under the configured triangle cap, as in the attack (scaled down 5x).
TRIANGLE_CAP = 1_000_000
FORGED = TRIANGLE_CAP - 1000

BOX = '''import cadquery as cq


def build(params):
    return cq.Workplane("XY").box(4, 3, 2)
'''

FORGER = f'''import importlib
import json
import os
import struct

COUNT = {FORGED}


def build(params):
    np = importlib.import_module("numpy")  # what an attacker does past the manifest's import check
    # Write our own mesh, then our own "ok" report on the worker's result pipe, and leave
    # before the worker could write anything of its own.
    records = np.zeros(COUNT, dtype=[("n", "<f4", (3,)), ("v", "<f4", (3, 3)), ("a", "<u2")])
    records["v"] = np.random.default_rng(1).random((COUNT, 3, 3), dtype=np.float32) * 100
    with open(os.path.join(os.environ["HOME"], "model.stl"), "wb") as f:
        f.write(b"forged".ljust(80) + struct.pack("<I", COUNT))
        f.write(records.tobytes())
    report = json.dumps({{"ok": True, "parts": [], "build_seconds": 0.0, "export_seconds": 0.0}}).encode()
    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            if fd > 2 and os.readlink(f"/proc/self/fd/{{fd}}").startswith("pipe:"):
                os.write(fd, report)
        except OSError:
            pass
    os._exit(0)
'''


class RssPeak:
    """The largest growth of this process's RSS while the block runs, sampled by a thread (psutil)."""

    def __enter__(self):
        self.proc = psutil.Process()
        self.base = self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.growth = self.peak - self.base


def soup_stl(count: int) -> bytes:
    tri = np.random.default_rng(3).random((count, 3, 3), dtype=np.float32) * 100
    return export_stl([("m", Mesh(tri))], "test")


def request(formats, count: int) -> Request:
    return Request(slug="soup", ref="soup@1.0.0", formats=tuple(formats), parts=(), max_triangles=count + 1,
                   provenance={"": {"slug": "soup", "version": "1.0.0", "license": "CC0-1.0"}})


# -- cheap checks on the host ------------------------------------------------------------------------

def test_the_host_reads_a_triangle_count_from_the_header_and_checks_it_against_the_size(tmp_path):
    good = soup_stl(10)
    (tmp_path / "good.stl").write_bytes(good)
    (tmp_path / "short.stl").write_bytes(good[:-50])
    (tmp_path / "lying.stl").write_bytes(good[:80] + struct.pack("<I", 10**8) + good[84:])
    assert stl_triangles(tmp_path / "good.stl") == 10
    assert stl_triangles(tmp_path / "short.stl") is None
    assert stl_triangles(tmp_path / "lying.stl") is None


def test_caps_come_from_memory_and_time_and_3mf_costs_most():
    memory, cpu = 3072 * 2**20, 60
    stl, glb, threemf = (caps.max_triangles([f], memory, cpu) for f in ("stl", "glb", "3mf"))
    assert threemf < glb <= stl
    assert caps.max_triangles(["stl"], memory // 2, cpu) < stl  # less memory, fewer triangles
    assert caps.max_triangles(["3mf"], memory, cpu / 2) < threemf  # less time, fewer triangles
    with pytest.raises(RenderError) as info:
        caps.check(threemf + 1, ["stl", "3mf"], memory_bytes=memory, cpu_seconds=cpu, limit=10**9)
    assert info.value.category == TOO_LARGE and "3mf" in info.value.message and "at most" in info.value.message
    with pytest.raises(RenderError, match="render_max_triangles"):
        caps.check(2000, ["stl"], memory_bytes=memory, cpu_seconds=cpu, limit=1000)


# -- the helper ---------------------------------------------------------------------------------------

def test_the_helper_converts_and_its_files_round_trip(tmp_path):
    settings = load_settings(environ={}, home=str(tmp_path / "home"))
    box = trimesh.creation.box((10, 20, 30))
    data = export_stl([("box", Mesh(box.triangles))], "box")
    with Spool(tmp_path / "spool") as spool:
        stl = spool.write("model.stl", data)
        results, figures = converter.convert(settings, request(["stl", "glb", "3mf"], 12), [stl], spool)
        assert [r.format for r in results] == ["stl", "glb", "3mf"]
        for r in results:
            assert r.stats.triangles == 12 and r.stats.watertight and r.stats.volume == pytest.approx(6000)
            loaded = trimesh.load(r.path, force="mesh", file_type=r.format)
            assert len(loaded.faces) == 12
        assert figures["peaks"]["VmPeak"] > 0
        base = figures["nice"]
        # A batch or speculative render's conversion yields the CPU as its build did.
        _, niced = converter.convert(settings, request(["glb"], 12), [stl], spool, nice=10)
        assert niced["nice"] == min(19, base + 10)
        _, again = converter.convert(settings, request(["glb"], 12), [stl], spool)
        assert again["nice"] == base  # each conversion is a fresh child: nothing stays niced


def test_the_helper_is_stopped_at_its_memory_limit_and_the_next_conversion_works(tmp_path):
    settings = load_settings(environ={}, home=str(tmp_path / "home"), render_convert_memory_mb=512)
    with Spool(tmp_path / "spool") as spool:
        big = spool.write("model.stl", soup_stl(600_000))
        with RssPeak() as host:
            with pytest.raises(RenderError) as info:
                converter.convert(settings, request(["stl", "glb"], 600_000), [big], spool)
        assert info.value.category == TOO_LARGE, str(info.value)
        assert host.growth < HOST_GROWTH
        small = spool.write("small.stl", soup_stl(100))
        results, _ = converter.convert(settings, request(["glb"], 100), [small], spool)
        assert results[0].stats.triangles == 100


def test_the_helper_is_stopped_at_its_cpu_limit(tmp_path):
    settings = load_settings(environ={}, home=str(tmp_path / "home"), render_convert_seconds=1)
    sphere = trimesh.creation.icosphere(subdivisions=6)  # 82 k triangles: ~5 s of CPU for a 3MF
    with Spool(tmp_path / "spool") as spool:
        stl = spool.write("model.stl", export_stl([("s", Mesh(sphere.triangles))], "s"))
        with pytest.raises(RenderError) as info:
            converter.convert(settings, request(["3mf"], len(sphere.faces)), [stl], spool)
    assert info.value.category == TOO_LARGE, str(info.value)


# -- a forging model, end to end ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def forge_settings(tmp_path_factory):
    return load_settings(environ={}, home=str(tmp_path_factory.mktemp("forge")), render_pool_size=1,
                         render_timeout=30, render_cpu_seconds=20, render_memory_mb=2048,
                         render_max_output_mb=64, render_max_triangles=TRIANGLE_CAP)


@pytest.fixture(scope="module")
def forge_pool(forge_settings):
    pool = WarmPool(forge_settings)
    pool.start()
    yield pool
    pool.close()


def _render(db, settings, pool, make_design, slug, model, formats):
    report = import_designs(db, [make_design(slug, model=model)])
    assert report.ok, report.as_dict()["errors"]
    return service.render(db, settings, slug, {}, list(formats), pool=pool)


def test_a_forged_report_and_mesh_are_refused_before_conversion_without_host_memory(
        db, make_design, forge_settings, forge_pool):
    with RssPeak() as host:
        with pytest.raises(RenderError) as info:
            _render(db, forge_settings, forge_pool, make_design, "forger", FORGER, ["stl", "glb", "3mf"])
    assert info.value.category == TOO_LARGE, str(info.value)
    assert f"{FORGED} triangles" in info.value.message and "3mf" in info.value.message
    assert host.growth < HOST_GROWTH, f"the host grew by {host.growth / 2**20:.0f} MiB"
    assert not list((forge_settings.cache_dir / "spool").iterdir()), "the spool was not cleaned up"
    assert _render(db, forge_settings, forge_pool, make_design, "honest", BOX, ["stl", "glb"])[0].watertight


def test_a_forged_mesh_the_caps_underestimate_is_stopped_by_the_helper(
        db, make_design, forge_settings, forge_pool, monkeypatch):
    monkeypatch.setattr(caps, "BYTES_PER_TRIANGLE", dict.fromkeys(caps.BYTES_PER_TRIANGLE, 1))
    monkeypatch.setattr(caps, "BASE_BYTES", 0)
    tight = forge_settings.model_copy(update={"render_convert_memory_mb": 512})
    with RssPeak() as host:
        with pytest.raises(RenderError) as info:
            _render(db, tight, forge_pool, make_design, "forger-2", FORGER, ["stl", "glb"])
    assert info.value.category == TOO_LARGE, str(info.value)
    assert "limits" in info.value.message or "memory" in info.value.message
    assert host.growth < HOST_GROWTH, f"the host grew by {host.growth / 2**20:.0f} MiB"
    assert _render(db, tight, forge_pool, make_design, "honest-2", BOX, ["glb"])[0].triangles == 12
