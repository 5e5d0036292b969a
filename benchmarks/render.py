"""Render benchmark: the warm sandboxed pool against a fresh process, the in-process floor and the cache.

On a small, a medium and a large seed design, in one run, STL at normal quality:

(a) warm pool   — a render through the sandboxed warm pool (fork from the zygote,
                  confine, build, tessellate, read back, check the mesh, write the STL);
(b) fresh       — a new Python process that imports cadquery, runs the same
                  ``build()`` and exports an STL, as cq-cli is used;
(c) in-process  — the same work as (a) in this already-warm process, no sandbox;
(d) cache hit   — ``renderers.service.render`` for an artifact the cache holds.

Also (a+): a cache miss through the whole service (pool + cache write + fsync +
Artifact row). Measurements of (a), (b) and (c) are interleaved and the median
is reported, so load on a shared machine hits all three alike.

    python benchmarks/render.py                   # the default three designs, 5 rounds
    python benchmarks/render.py --rounds 3 --json
    python benchmarks/render.py --designs hand-mill-spur-gear
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from opendesign.catalogue.importer import import_designs  # noqa: E402
from opendesign.config import load_settings  # noqa: E402
from opendesign.db import Database  # noqa: E402
from renderers import service  # noqa: E402
from renderers.cache import FileArtifactStore  # noqa: E402
from renderers.formats import QUALITIES  # noqa: E402
from renderers.inprocess import InProcessPool  # noqa: E402
from renderers.pool import WarmPool  # noqa: E402

DEFAULT_DESIGNS = {"small": "langstroth-beehive-frame", "medium": "hand-mill-spur-gear",
                   "large": "hand-mill-double-gear"}
TARGETS = {"a/b": 0.15, "a/c": 1.3, "d_ms": 5.0}

FRESH = r"""
import json, sys, types
import cadquery as cq
source, params, out, tol, ang = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
module = types.ModuleType("model")
exec(compile(open(source).read(), source, "exec"), module.__dict__)
result = module.build(params)
if isinstance(result, cq.Assembly):
    result = result.toCompound()
elif isinstance(result, dict):
    result = cq.Compound.makeCompound([v.val() if isinstance(v, cq.Workplane) else v for v in result.values()])
cq.exporters.export(result, out, tolerance=tol, angularTolerance=ang)
"""


def fresh_process(model: Path, params: dict, out: Path, quality) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", FRESH, str(model), json.dumps(params), str(out),
                    str(quality.tolerance), str(quality.angular_tolerance)], check=True)
    return time.perf_counter() - started


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def bench_design(label: str, slug: str, db, settings, pool, rounds: int, hits: int, workdir: Path) -> dict:
    quality = QUALITIES["normal"]
    snap = service.with_files(db, service.snapshot(db, slug))
    params = service.canonical_parameters(snap, {})
    model = workdir / f"{slug}.py"
    model.write_bytes(snap.files["model.py"])
    inproc = InProcessPool()

    def produce(where) -> list:
        produced, output = service.produce(snap, params, ["stl"], quality, where, max_triangles=10**7,
                                           settings=settings)
        output.close()  # its spool holds the artifacts' files
        return produced

    produced = produce(pool)  # warm-up both
    produce(inproc)
    store = FileArtifactStore(db, settings)
    a, b, c, a_full = [], [], [], []
    for r in range(rounds):
        a.append(timed(lambda: produce(pool)))
        c.append(timed(lambda: produce(inproc)))
        b.append(fresh_process(model, params, workdir / f"{slug}-{r}.stl", quality))
        started = time.perf_counter()
        infos = service.render(db, settings, slug, {}, ["stl"], pool=pool, store=store)
        a_full.append(time.perf_counter() - started)
        assert not infos[0].cache_hit
        for info in infos:  # the next round must miss again
            store.discard(info.key)
    first = service.render(db, settings, slug, {}, ["stl"], pool=pool, store=store)[0]
    d = []
    for _ in range(hits):
        started = time.perf_counter()
        info = service.render(db, settings, slug, {}, ["stl"], pool=pool, store=store)[0]
        d.append(time.perf_counter() - started)
        assert info.cache_hit and info.sha256 == first.sha256
    med = statistics.median
    row = {"label": label, "design": slug, "triangles": produced[0].stats.triangles,
           "a_s": med(a), "b_s": med(b), "c_s": med(c), "a_full_s": med(a_full), "d_ms": med(d) * 1000,
           "rounds": rounds, "raw": {"a": a, "b": b, "c": c, "a_full": a_full}}
    row["a/b"] = row["a_s"] / row["b_s"]
    row["a/c"] = row["a_s"] / row["c_s"]
    return row


def print_table(rows: list[dict], pool_info: dict) -> None:
    z = pool_info.get("zygote") or {}
    print(f"render benchmark — STL, quality normal; sandbox: {pool_info['sandbox']}; cadquery {z.get('cadquery')}, "
          f"OCP {z.get('ocp')}; {os.cpu_count()} CPUs; medians of {rows[0]['rounds']} interleaved rounds")
    head = (f"{'':6} {'design':30} {'tris':>6} {'(a) pool':>9} {'(b) fresh':>9} {'(c) floor':>9} "
            f"{'(a+) miss':>9} {'(d) hit':>8} {'a/b':>6} {'a/c':>6}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['label']:6} {r['design']:30} {r['triangles']:>6} {r['a_s']:>8.3f}s {r['b_s']:>8.3f}s "
              f"{r['c_s']:>8.3f}s {r['a_full_s']:>8.3f}s {r['d_ms']:>6.2f}ms {r['a/b']:>6.3f} {r['a/c']:>6.3f}")
    print()
    small = next((r for r in rows if r["label"] == "small"), rows[0])
    checks = [
        (f"(a)/(b) <= {TARGETS['a/b']} on the small design", small["a/b"] <= TARGETS["a/b"]),
        (f"(a)/(c) <= {TARGETS['a/c']} on every design", all(r["a/c"] <= TARGETS["a/c"] for r in rows)),
        (f"(d) < {TARGETS['d_ms']} ms on every design", all(r["d_ms"] < TARGETS["d_ms"] for r in rows)),
    ]
    for text, ok in checks:
        print(f"  {'met    ' if ok else 'MISSED '} {text}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--designs", nargs="+", help="slugs (default: small, medium, large seed designs)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--hits", type=int, default=50)
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = parser.parse_args(argv)
    designs = (dict(zip(("small", "medium", "large"), args.designs)) if args.designs
               else dict(DEFAULT_DESIGNS))
    with tempfile.TemporaryDirectory(prefix="opendesign-bench-") as tmp:
        tmp = Path(tmp)
        settings = load_settings(environ={}, home=str(tmp / "home"), render_timeout=300, render_cpu_seconds=300)
        db = Database(settings)
        db.migrate()
        report = import_designs(db, [ROOT / "designs"])
        available = {r.slug for r in report.results if r.status != "invalid"}
        missing = [s for s in designs.values() if s not in available]
        if missing:
            parser.error(f"not in designs/ (or invalid): {', '.join(missing)}")
        pool = WarmPool(settings, size=1)
        started = time.perf_counter()
        pool.start()
        startup = time.perf_counter() - started
        try:
            rows = [bench_design(label, slug, db, settings, pool, args.rounds, args.hits, tmp)
                    for label, slug in designs.items()]
            info = pool.describe()
        finally:
            pool.close()
    if args.json:
        print(json.dumps({"rows": rows, "pool": info, "zygote_start_s": startup}, indent=2, default=str))
    else:
        print_table(rows, info)
        print(f"\n  zygote start (import cadquery inside the sandbox): {startup:.2f} s, paid once per pool")
    return 0


if __name__ == "__main__":
    sys.exit(main())
