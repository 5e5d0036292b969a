"""Draft-path benchmark: what each of issue 13's server-side ideas saves on a new parameter value.

On every seed design with a bounded number parameter, in one run, for values no
one rendered (draft GLB, the live preview's request), interleaved so load on a
shared machine hits every variant alike:

(render)   the whole sandboxed render of one draft GLB (``service.produce``), and its stages
           (hand-off to the supervisor, job folder, worker start and confinement, build,
           export, report, reading the outputs back, conversion to GLB);
(store)    writing that GLB to the cache with and without the fsyncs (``durable``);

and, in this process and unsandboxed (timing only, seed code), where a render's
time goes: compiling and executing ``model.py`` (what a zygote that kept the
imported module would save), ``build()`` itself, and tessellating at the draft
tolerance (0.5 mm) against a tolerance scaled to the model's size (1/500 and
1/100 of its bounding-box diagonal, never finer than 0.5 mm).

Every figure is a median, reported with ratios against the baseline of the same run.

    python benchmarks/draft.py                 # every seed design, 3 values each
    python benchmarks/draft.py --values 2 --json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
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
from renderers.cache import ArtifactMeta, FileArtifactStore  # noqa: E402
from renderers.formats import QUALITIES  # noqa: E402
from renderers.pool import WarmPool  # noqa: E402

DRAFT = QUALITIES["draft"]
#: Fractions of the bounding-box diagonal tried as a size-scaled draft tolerance.
SCALES = {"diag/500": 1 / 500, "diag/100": 1 / 100}
#: Kinds whose model.py defines build(params), so it can be timed piece by piece in this process
#: (a CQGI script calls show_object, a static design has no code): the others are timed sandboxed only.
IN_PROCESS_KINDS = ("cadquery", "build123d")


def new_values(snap, count: int) -> list[dict]:
    """*count* parameter sets that move the first bounded number parameter off its default."""
    for spec in snap.specs:
        if spec.type in ("int", "float") and spec.min is not None and spec.max is not None:
            step = spec.step or (1 if spec.type == "int" else (spec.max - spec.min) / 20)
            out = []
            for i in range(1, count + 1):
                value = spec.min + step * (3 * i + 1)
                if value > spec.max:
                    break
                value = int(value) if spec.type == "int" else round(value, 6)
                if value != spec.default:
                    out.append({spec.name: value})
            return out
    return []


def where_time_goes(snap, params: dict) -> dict:
    """Seconds to compile+exec model.py, to run build(), and to tessellate at each tolerance."""
    from renderers.sandbox import job as job_module

    source = snap.files["model.py"].decode()
    t0 = time.perf_counter()
    build = job_module.load_build(source)
    t1 = time.perf_counter()
    result = build(dict(params))
    t2 = time.perf_counter()
    combined, _, _ = job_module.normalise(result, list(snap.parts))
    diagonal = combined.BoundingBox().DiagonalLength
    out = {"load": t1 - t0, "build": t2 - t1}
    for name, tolerance in (("draft", DRAFT.tolerance),
                            *((k, max(DRAFT.tolerance, f * diagonal)) for k, f in SCALES.items())):
        combined = job_module.normalise(build(dict(params)), list(snap.parts))[0]  # fresh: no cached mesh
        started = time.perf_counter()
        _, triangles = combined.tessellate(tolerance, DRAFT.angular_tolerance)
        out[f"tess_{name}"] = time.perf_counter() - started
        out[f"tris_{name}"] = len(triangles)
    return out


def bench(slug: str, db, settings, pool, store, count: int) -> dict | None:
    snap = service.with_files(db, service.snapshot(db, slug))
    sets = new_values(snap, count)
    if not sets:
        return None
    renders: list[float] = []
    builds: list[float] = []
    stores: dict[str, list[float]] = {"durable": [], "no_fsync": []}
    shares = []
    stages: dict[str, list[float]] = {}  # where the sandboxed render's time went (seconds)
    for params in sets:
        canonical = service.canonical_parameters(snap, params)
        started = time.perf_counter()
        produced, out = service.produce(snap, canonical, ["glb"], DRAFT, pool, max_triangles=10**7)
        renders.append(time.perf_counter() - started)
        builds.append(out.build_seconds or 0.0)
        for stage, seconds in {**out.timings, "build": out.build_seconds, "export": out.export_seconds,
                               "convert": out.conversion.get("wall_seconds")}.items():
            if isinstance(seconds, int | float):
                stages.setdefault(stage, []).append(seconds)
        meta = ArtifactMeta(format="glb", quality="draft")
        for n, (label, durable) in enumerate((("durable", True), ("no_fsync", False)) * 3):
            key = hashlib.sha256(f"{slug}{params}{label}{n}{time.time_ns()}".encode()).hexdigest()
            started = time.perf_counter()
            store.put(key, produced[0].data, meta, durable=durable)
            stores[label].append(time.perf_counter() - started)
            store.discard(key)
        if snap.kind in IN_PROCESS_KINDS:
            shares.append(where_time_goes(snap, canonical))
    med = statistics.median
    return {"design": slug, "values": len(sets), "render_s": med(renders), "sandbox_build_s": med(builds),
            "store_ms": {k: med(v) * 1000 for k, v in stores.items()},
            "stages_ms": {k: med(v) * 1000 for k, v in stages.items()},
            "in_process": {k: med(x[k] for x in shares) for k in shares[0]} if shares else None}


def print_table(rows: list[dict]) -> None:
    print("draft benchmark — GLB, draft quality, new values; medians; sandboxed warm pool of 1")
    head = (f"{'design':40} {'render':>7} {'build':>6} {'fsync':>6} {'no-fs':>6} {'load':>6} "
            f"{'tess':>6} {'/500':>6} {'/100':>6} {'tris':>6} {'/500':>6} {'/100':>6}")
    print(head)
    print("-" * len(head))
    for r in rows:
        p = r["in_process"]
        line = (f"{r['design']:40} {r['render_s'] * 1000:>5.0f}ms {r['sandbox_build_s'] * 1000:>4.0f}ms "
                f"{r['store_ms']['durable']:>4.1f}ms {r['store_ms']['no_fsync']:>4.1f}ms")
        if p is None:
            print(line)
            continue
        print(f"{line} {p['load'] * 1000:>4.1f}ms "
              f"{p['tess_draft'] * 1000:>4.1f}ms {p['tess_diag/500'] * 1000:>4.1f}ms {p['tess_diag/100'] * 1000:>4.1f}ms "
              f"{p['tris_draft']:>6.0f} {p['tris_diag/500']:>6.0f} {p['tris_diag/100']:>6.0f}")
    med = statistics.median
    print()
    print(f"  sandboxed draft render, p50 of design medians: {med(r['render_s'] for r in rows) * 1000:.0f} ms; "
          f"build() inside it: {med(r['sandbox_build_s'] / r['render_s'] for r in rows):.0%} of it")
    print(f"  store (ms) durable / no fsync: {med(r['store_ms']['durable'] for r in rows):.1f} / "
          f"{med(r['store_ms']['no_fsync'] for r in rows):.1f}")
    timed = [r for r in rows if r["in_process"]]
    if not timed:
        return
    for name in SCALES:
        print(f"  tessellation {name} / 0.5 mm: time {med(r['in_process'][f'tess_{name}'] / r['in_process']['tess_draft'] for r in timed):.2f}, "
              f"triangles {med(r['in_process'][f'tris_{name}'] / r['in_process']['tris_draft'] for r in timed):.2f}")
    stage_names = list(dict.fromkeys(k for r in rows for k in r["stages_ms"]))
    print("  stages of the sandboxed render, median of design medians (ms): " + ", ".join(
        f"{k} {med(r['stages_ms'][k] for r in rows if k in r['stages_ms']):.1f}" for k in stage_names))
    print(f"  tessellation at 0.5 mm: median {med(r['in_process']['tess_draft'] / r['render_s'] for r in timed):.1%} "
          "of the sandboxed render")
    print(f"  compiling+executing model.py: median "
          f"{med(r['in_process']['load'] / r['render_s'] for r in timed):.1%} of the sandboxed render "
          "(what a zygote keeping the module would save)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--designs", nargs="+", help="slugs (default: every seed design)")
    parser.add_argument("--values", type=int, default=3, help="new values per design")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="opendesign-bench-") as tmp:
        settings = load_settings(environ={}, home=str(Path(tmp) / "home"), render_timeout=300,
                                 render_cpu_seconds=300)
        db = Database(settings)
        db.migrate()
        report = import_designs(db, [ROOT / "designs"])
        slugs = args.designs or sorted(r.slug for r in report.results if r.status != "invalid")
        pool = WarmPool(settings, size=1)
        pool.start()
        store = FileArtifactStore(db, settings)
        try:
            rows = [r for r in (bench(s, db, settings, pool, store, args.values) for s in slugs) if r]
        finally:
            pool.close()
    if args.json:
        print(json.dumps({"rows": rows}, indent=2, default=str))
    else:
        print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
