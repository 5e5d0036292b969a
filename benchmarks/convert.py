"""Conversion of sandbox output: the bounded helper against the old in-host path, and the caps' figures.

    PYTHONPATH=. python benchmarks/convert.py            # helper vs in-host: time ratio, host RSS growth
    PYTHONPATH=. python benchmarks/convert.py --caps     # bytes and CPU seconds per triangle, by format

Meshes are made here (an icosphere, whose vertices are shared as a CAD mesh's
are, and a "soup" of unrelated triangles, an attacker's worst case for vertex
merging), written as binary STL and converted as a render's job output would be.
Figures are ratios against the in-host path measured in the same run, and the
host's RSS growth (sampled every 5 ms by a thread; psutil).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

from opendesign.config import load_settings
from renderers import converter
from renderers.convert import Request, convert
from renderers.formats import export_stl
from renderers.meshes import Mesh
from renderers.spool import Spool

PROVENANCE = {"slug": "bench", "version": "1.0.0", "license": "CERN-OHL-S-2.0"}


def sphere(triangles: int) -> np.ndarray:
    import trimesh

    level = max(1, int(round(np.log(triangles / 20) / np.log(4))))
    mesh = trimesh.creation.icosphere(subdivisions=level, radius=50)
    return mesh.triangles.astype(np.float32)


def soup(triangles: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    return (rng.random((triangles, 3, 3), dtype=np.float32) * 100).astype(np.float32)


def stl_file(folder: Path, tri: np.ndarray) -> Path:
    path = folder / "model.stl"
    path.write_bytes(export_stl([("m", Mesh(tri))], "bench"))
    return path


def request(formats: list[str], triangles: int) -> Request:
    return Request(slug="bench", ref="bench@1.0.0", formats=tuple(formats), parts=(),
                   max_triangles=triangles + 1, provenance={"": PROVENANCE})


class RssPeak:
    """The host's peak RSS growth while the block runs (sampled; psutil)."""

    def __enter__(self):
        self.proc = psutil.Process()
        self.base = self.proc.memory_info().rss
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.growth = self.peak - self.base


def in_host(stl: Path, formats: list[str], triangles: int) -> None:
    for _meta, _data in convert(request(formats, triangles), {"model.stl": stl.read_bytes()}):
        pass


def in_helper(settings, stl: Path, formats: list[str], triangles: int, spool: Spool) -> dict:
    results, figures = converter.convert(settings, request(formats, triangles), [stl], spool)
    for r in results:
        r.path.unlink()
    return figures


def compare(settings, folder: Path, triangles: int, formats: list[str], rounds: int) -> dict:
    tri = sphere(triangles)
    stl = stl_file(folder, tri)
    n = len(tri)
    with Spool(folder / "spool") as spool:
        in_helper(settings, stl, formats, n, spool)  # warm the page cache and imports of both
        in_host(stl, formats, n)
        host_t, helper_t = [], []
        for _ in range(rounds):
            t = time.perf_counter()
            in_host(stl, formats, n)
            host_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            in_helper(settings, stl, formats, n, spool)
            helper_t.append(time.perf_counter() - t)
        with RssPeak() as host_rss:
            in_host(stl, formats, n)
        with RssPeak() as helper_rss:
            figures = in_helper(settings, stl, formats, n, spool)
    return {"triangles": n, "formats": formats, "in_host_s": round(statistics.median(host_t), 3),
            "helper_s": round(statistics.median(helper_t), 3),
            "helper_over_in_host": round(statistics.median(helper_t) / statistics.median(host_t), 2),
            "helper_overhead_s": round(statistics.median(helper_t) - statistics.median(host_t), 3),
            "host_rss_growth_in_host_mb": round(host_rss.growth / 2**20, 1),
            "host_rss_growth_helper_mb": round(helper_rss.growth / 2**20, 1),
            "helper_vmpeak_mb": round(figures["peaks"]["VmPeak"] / 2**20, 1),
            "helper_rss_peak_mb": round(figures["peaks"]["VmHWM"] / 2**20, 1)}


def caps(settings, folder: Path, sizes: tuple[int, int]) -> dict:
    """Per format and mesh kind: peak address space and CPU per triangle (slope between two sizes)."""
    out = {}
    with Spool(folder / "spool") as spool:
        for kind, make in (("sphere", sphere), ("soup", soup)):
            for fmt in ("stl", "glb", "3mf"):
                points = []
                for size in sizes:
                    tri = make(size)
                    stl = stl_file(folder, tri)
                    figures = in_helper(settings, stl, [fmt], len(tri), spool)
                    points.append((len(tri), figures["peaks"]["VmPeak"], figures["peaks"]["cpu_seconds"]))
                (n0, m0, c0), (n1, m1, c1) = points
                per_byte = (m1 - m0) / (n1 - n0)
                out[f"{kind}/{fmt}"] = {"bytes_per_triangle": round(per_byte), "base_mb": round((m0 - per_byte * n0) / 2**20),
                                        "cpu_s_per_triangle": float(f"{(c1 - c0) / (n1 - n0):.3g}"),
                                        "points": points}
                print(kind, fmt, out[f"{kind}/{fmt}"], file=sys.stderr, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--caps", action="store_true")
    parser.add_argument("--triangles", type=int, default=330_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(environ={}, home=tmp, render_convert_memory_mb=8192, render_convert_seconds=600)
        folder = Path(tmp)
        if args.caps:
            result = caps(settings, folder, (80_000, 330_000))
        else:
            result = {"small": compare(settings, folder, 5_000, ["stl", "glb"], args.rounds * 3),
                      "large": compare(settings, folder, args.triangles, ["stl", "glb"], args.rounds),
                      "3mf": compare(settings, folder, 80_000, ["3mf"], args.rounds)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
