"""Sub-shape reuse benchmark: what keeping a design's sub-shapes between renders would save on ``build()``.

Issue 13 lists "reuse across renders of the same design version where it is
safe" among the ways to go under the build time. The reuse a render worker
could offer is OpenSCAD's: keep the sub-shapes that did not change between two
parameter sets. That needs a worker kept alive per design version (today every
job gets a fresh one) and a unit of reuse; the finest one a CadQuery or
build123d model offers without rewriting it is its own module-level helper
functions (``tray(width, depth, ...)``, ``gear(module, teeth)``, one per part).

This measures the most such reuse could give, on every seed design with a
``build(params)`` and every bounded number parameter, unsandboxed (timing
only, seed code):

(plain)   ``build()`` of a value one step away from the default, in a module
          executed afresh;
(reused)  the same ``build()`` after the default was built in the same module
          with every helper function memoised on its arguments, so a helper
          called with the arguments it had for the default returns that shape.

Every figure is a median of ``--rounds``; the ratio is reused / plain. Each
pair's volumes are compared, so a memoised helper that changed the result
would show. ``report`` marks the parameter the browser speed report slides
(the first number parameter with a step).

    python benchmarks/subshape_reuse.py
    python benchmarks/subshape_reuse.py --designs solar-dryer-rack pedal-mill-drive --json
"""

from __future__ import annotations

import argparse
import functools
import inspect
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
from renderers.sandbox import job as job_module  # noqa: E402

#: Kinds whose model.py defines build(params) and helpers to memoise.
KINDS = ("cadquery", "build123d")


def load(source: str, memoise: bool):
    """``build`` of a freshly executed module; with *memoise*, its helpers keep their results by arguments."""
    build = job_module.load_build(source)
    namespace = build.__globals__  # the module load_build executed: build() looks its helpers up here
    if memoise:
        for name, value in list(namespace.items()):
            if inspect.isfunction(value) and value is not build and value.__module__ == "model":
                namespace[name] = _memoised(value)
    return build


def _memoised(function):
    results: dict[str, object] = {}

    @functools.wraps(function)
    def call(*args, **kwargs):
        key = repr((args, sorted(kwargs.items())))  # shapes and floats have no hash; their repr does
        if key not in results:
            results[key] = function(*args, **kwargs)
        return results[key]

    return call


def neighbour(spec, default):
    """A value one step from *default*, inside the bounds."""
    step = spec.step or (1 if spec.type == "int" else (spec.max - spec.min) / 20)
    value = default + step if default + step <= spec.max else default - step
    return int(value) if spec.type == "int" else round(value, 6)


def volume(result, parts) -> float:
    return round(job_module.normalise(result, parts)[0].Volume(), 3)


def bench(snap, rounds: int) -> list[dict]:
    source = snap.files["model.py"].decode()
    defaults = service.canonical_parameters(snap, {})
    parts = list(snap.parts)
    report_param = next((s.name for s in snap.specs if s.type in ("int", "float") and s.step), None)
    rows = []
    for spec in snap.specs:
        if spec.type not in ("int", "float") or spec.min is None or spec.max is None:
            continue
        moved = service.canonical_parameters(snap, {spec.name: neighbour(spec, defaults[spec.name])})
        plain, reused, same = [], [], True
        for _ in range(rounds):
            build = load(source, memoise=False)
            started = time.perf_counter()
            plain_result = build(dict(moved))
            plain.append(time.perf_counter() - started)
            build = load(source, memoise=True)
            build(dict(defaults))  # the render before: fills the helpers' memory
            started = time.perf_counter()
            reused_result = build(dict(moved))
            reused.append(time.perf_counter() - started)
            same = same and volume(plain_result, parts) == volume(reused_result, parts)
        p, r = statistics.median(plain), statistics.median(reused)
        rows.append({"design": snap.slug, "parameter": spec.name, "report": spec.name == report_param,
                     "plain_ms": p * 1000, "reused_ms": r * 1000, "ratio": r / p, "same_volume": same})
    return rows


def print_table(rows: list[dict]) -> None:
    print("sub-shape reuse — build() of a value one step from the default; medians; unsandboxed")
    head = f"{'design':40} {'parameter':24} {'plain':>7} {'reused':>7} {'ratio':>6}  same"
    print(head)
    print("-" * len(head))
    for r in rows:
        mark = " (report)" if r["report"] else ""
        print(f"{r['design']:40} {r['parameter'] + mark:24} {r['plain_ms']:>5.0f}ms {r['reused_ms']:>5.0f}ms "
              f"{r['ratio']:>6.2f}  {'yes' if r['same_volume'] else 'NO'}")
    med = statistics.median
    ratios = [r["ratio"] for r in rows]
    reported = [r["ratio"] for r in rows if r["report"]]
    print()
    print(f"  every parameter ({len(rows)}): median ratio {med(ratios):.2f}; "
          f"{sum(x < 0.8 for x in ratios) / len(ratios):.0%} under 0.80, {sum(x < 0.5 for x in ratios) / len(ratios):.0%} under 0.50")
    if reported:
        print(f"  the speed report's parameters ({len(reported)}): median ratio {med(reported):.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--designs", nargs="+", help="slugs (default: every seed design)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="opendesign-bench-") as tmp:
        settings = load_settings(environ={}, home=str(Path(tmp) / "home"))
        db = Database(settings)
        db.migrate()
        report = import_designs(db, [ROOT / "designs"])
        slugs = args.designs or sorted(r.slug for r in report.results if r.status != "invalid")
        rows = []
        for slug in slugs:
            snap = service.with_files(db, service.snapshot(db, slug))
            if snap.kind in KINDS:
                rows.extend(bench(snap, args.rounds))
                print(f"  {slug}: {len([r for r in rows if r['design'] == slug])} parameters", file=sys.stderr)
    if args.json:
        print(json.dumps({"rows": rows}, indent=2))
    else:
        print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
