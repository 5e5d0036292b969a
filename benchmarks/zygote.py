"""Zygote benchmark: start time and memory of the render zygote with and without build123d preloaded.

Starts a one-worker pool (bubblewrap when available, as in production) with
``render_preload_build123d`` on and off, alternately, and measures:

- **start**: seconds from spawning the zygote to its "ready" message (its imports);
- **RSS / PSS** of the zygote process (``/proc/<pid>/smaps_rollup``); PSS splits
  pages shared with its forked spares, so it is what the zygote itself costs;
- **first build123d render**: one build123d job right after start — with the
  preload it runs on imported modules, without it the worker imports build123d
  itself (inside its CPU limit).

Reported as medians and as ratios with/without, measured in the same run::

    python benchmarks/zygote.py              # 3 rounds
    python benchmarks/zygote.py --rounds 5 --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from opendesign.config import load_settings  # noqa: E402
from renderers.pool import RenderJob, WarmPool  # noqa: E402
from renderers.sandbox import confine  # noqa: E402

B123D_JOB = b"from build123d import Box\n\ndef build(params):\n    return Box(10, 10, 10)\n"


def _zygote_pid(pool: WarmPool) -> int:
    top = pool.zygote_pid
    for pid in [top, *confine.descendants(top)]:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        if "renderers.sandbox.zygote" in cmd and not cmd.split(" ")[0].endswith("bwrap"):
            return pid
    raise RuntimeError("no zygote process found")


def _memory(pid: int) -> dict[str, float]:
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("Rss", "Pss"):
            out[key.lower() + "_mb"] = round(int(rest.split()[0]) / 1024, 1)
    return out


def measure(preload: bool) -> dict:
    home = tempfile.mkdtemp(prefix="opendesign-zygote-bench-")
    settings = load_settings(environ={}, home=home, render_pool_size=1, render_timeout=120, render_cpu_seconds=120,
                             render_preload_build123d=preload)
    pool = WarmPool(settings)
    try:
        started = time.perf_counter()
        pool.start()
        start_seconds = time.perf_counter() - started
        time.sleep(0.5)  # let the spare fork settle
        memory = _memory(_zygote_pid(pool))
        began = time.perf_counter()
        pool.render(RenderJob(files={"model.py": B123D_JOB}, params={}, kind="build123d"))
        first = time.perf_counter() - began
        return {"start_seconds": round(start_seconds, 3), **memory, "first_build123d_render_seconds": round(first, 3),
                "sandbox": pool.sandbox.mode}
    finally:
        pool.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    runs: dict[str, list[dict]] = {"with": [], "without": []}
    for _ in range(args.rounds):
        for label, preload in (("without", False), ("with", True)):
            runs[label].append(measure(preload))
    keys = ("start_seconds", "rss_mb", "pss_mb", "first_build123d_render_seconds")
    medians = {label: {k: statistics.median(r[k] for r in rs) for k in keys} for label, rs in runs.items()}
    ratios = {k: round(medians["with"][k] / medians["without"][k], 2) for k in keys if medians["without"][k]}
    report = {"rounds": args.rounds, "sandbox": runs["with"][0]["sandbox"], "median": medians,
              "ratio_with_over_without": ratios, "runs": runs}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"zygote ({report['sandbox']}), median of {args.rounds} rounds:")
    print(f"{'':34}{'without build123d':>20}{'with build123d':>18}{'ratio':>8}")
    for k in keys:
        print(f"{k:34}{medians['without'][k]:>20}{medians['with'][k]:>18}{ratios.get(k, ''):>8}")


if __name__ == "__main__":
    main()
