"""Render workers on Celery: throughput with 1 vs 2 workers, previews during a batch flood.

Everything is real and started here: a private ``redis-server``, ``opendesign
worker`` subprocesses (one render slot each, their own bubblewrap zygote), the
catalogue in a temporary home (SQLite, or ``OPENDESIGN_DATABASE_URL``). Jobs go
through the seam the web API uses (``renderers.jobs.enqueue`` + the Celery
dispatcher); a job's latency is from the request to the ``done`` row (its ``updated_at``, so the
benchmark's polling every 50 ms does not round it up).

(1) throughput — 20 distinct parameter sets of a small design, all queued at
    once on the preview queue (where API renders go), with 1 worker and then with 2 workers: ratio = time(1) / time(2),
    target >= 1.8. Both measured in one run, in rounds taken in turns (the second worker stops and
    starts taking preview jobs: Celery's cancel/add_consumer), the median round reported, so
    machine load hits both. Each phase also
    reports the CPU the whole machine spent per job (``/proc/stat``, so other people's load
    counts too) and the cores that kept busy: one worker that keeps more than one core busy
    cannot be doubled on two cores.
(2) previews   — the latency of 20 preview renders (distinct parameters, one at
    a time) on the idle pair of workers, then again while 22 bundle renders
    (every seed design, the bundle's five formats) wait on the batch queue:
    p50/p95, target loaded p95 within 1.5x of idle. ``--layout reserved`` (the
    default, as ``make cluster`` runs): the second worker serves previews only;
    ``--layout shared``: both workers serve both queues.

The probe is a tiny filleted block: its render is mostly the sandbox's fixed
cost per job. ``--design SLUG`` renders a seed design instead (its bounded
number parameter with the most steps, values scattered over its range), for a
render with real geometry to mesh.

    python benchmarks/scale_render.py            # prints a table
    python benchmarks/scale_render.py --json
    python benchmarks/scale_render.py --nap 1    # each build also sleeps 1 s (isolates dispatch from CPU)
    python benchmarks/scale_render.py --design hand-mill-spur-gear
    python benchmarks/scale_render.py --parallel-mesh off   # the workers' render_parallel_mesh
    python benchmarks/scale_render.py --pin      # worker n runs on core n-1 only (a host of its own)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from opendesign.catalogue.importer import import_designs  # noqa: E402
from opendesign.config import load_settings  # noqa: E402
from opendesign.db import Database  # noqa: E402
from opendesign.manifests.kinds import offered_formats  # noqa: E402
from opendesign.models import RenderJobRow, as_utc, utcnow  # noqa: E402
from renderers import jobs  # noqa: E402
from renderers.celery_dispatch import CeleryDispatcher  # noqa: E402
from tests.celery_support import RedisServer, Worker, wait_for, wait_for_workers  # noqa: E402

TARGETS = {"throughput_ratio": 1.8, "preview_p95_ratio": 1.5}
#: Distinct parameter sets per throughput phase (the issue's 20).
THROUGHPUT_JOBS = 20
BUNDLE_FORMATS = ["stl", "3mf", "step", "glb", "svg"]

PROBE_TOML = """slug = "scale-probe"
title = "Scale probe"
summary = "A small filleted block rendered by the scale benchmark."
version = "1.0.0"
license = "CERN-OHL-S-2.0"
category = "tools-fabrication"
tags = ["benchmark"]
derived_from = []
authors = [{ name = "Benchmark", contact = "https://example.org" }]
parameters = [
  { name = "width", type = "float", default = 20.0, min = 5.0, max = 500.0, label = "Width" },
  { name = "nap", type = "float", default = 0.0, min = 0.0, max = 30.0, label = "Nap" },
]
parts = [{ name = "body", material = "PETG", process = "fdm", quantity = 1 }]
"""

PROBE_MODEL = """import time

import cadquery as cq


def build(params):
    time.sleep(params["nap"])
    return cq.Workplane("XY").box(params["width"], 20, 10).edges("|Z").fillet(2).faces(">Z").hole(4)
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy since boot (every process, every core)."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:8]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # minus idle and iowait


class Bench:
    def __init__(self, home: Path, nap: float, design: str | None = None, parallel_mesh: str | None = None,
                 pin: bool = False):
        self.nap = nap
        self.redis = RedisServer(home).start()
        self.env = {"OPENDESIGN_HOME": str(home / "var"), "OPENDESIGN_BROKER_URL": self.redis.url,
                    "OPENDESIGN_RENDER_POOL_SIZE": "1"}
        if parallel_mesh:
            self.env["OPENDESIGN_RENDER_PARALLEL_MESH"] = "true" if parallel_mesh == "on" else "false"
        if os.environ.get("OPENDESIGN_DATABASE_URL"):
            self.env["OPENDESIGN_DATABASE_URL"] = os.environ["OPENDESIGN_DATABASE_URL"]
        (home / "var").mkdir()
        self.settings = load_settings(environ=self.env)
        self.db = Database(self.settings)
        self.db.migrate()
        probe = home / "designs" / "scale-probe"
        probe.mkdir(parents=True)
        (probe / "design.toml").write_text(PROBE_TOML)
        (probe / "model.py").write_text(PROBE_MODEL)
        (probe / "README.md").write_text("# Scale probe\n")
        report = import_designs(self.db, [str(home / "designs"), str(ROOT / "designs")])
        if not report.ok:
            raise SystemExit(f"import failed: {report}")
        with self.db.session() as session:
            from opendesign.catalogue import queries

            # Each seed with the bundle formats it offers (a mesh design has no STEP).
            self.seeds = [(d.latest_version.ref, list(offered_formats(d.latest_version.manifest, BUNDLE_FORMATS)))
                          for d in queries.list_designs(session)
                          if d.latest_version is not None and d.slug != "scale-probe"]
            self.design = design or "scale-probe"
            self.vary = None  # (parameter, its values in order of use) of a seed design; the probe varies width
            if design:
                version = queries.get_version(session, design)
                # The bounded number parameter with the most distinct values (on its step).
                numbers = sorted(((self._values(p), p) for p in version.parameters
                                  if p.type in ("float", "int") and p.min is not None and p.max is not None),
                                 key=lambda vp: -len(vp[0]))
                if not numbers or len(numbers[0][0]) < 60:
                    raise SystemExit(f"{design} has no bounded number parameter with 60 distinct values to vary")
                values, p = numbers[0]
                # A stride coprime with the count scatters the values, so each phase gets a spread of sizes.
                stride = next(s for s in (37, 41, 43, 47, 53) if len(values) % s)
                self.vary = (p.name, [values[(k * stride) % len(values)] for k in range(len(values))])
        self.dispatcher = CeleryDispatcher(self.settings, self.db)
        self.workers: list[Worker] = []
        self.pin = pin
        self.logs = home
        self.widths = iter(range(30, 10_000))
        self.steps = iter(range(10_000))

    @staticmethod
    def _values(p) -> list:
        step = p.step or (1 if p.type == "int" else (p.max - p.min) / 100)
        count = int(round((p.max - p.min) / step)) + 1
        values = [p.min + i * step for i in range(count) if p.min + i * step <= p.max + 1e-9]
        return [int(round(v)) if p.type == "int" else round(v, 6) for v in values]

    def start_worker(self, queues: str = "preview,batch") -> None:
        name = f"w{len(self.workers) + 1}"
        # --pin: worker n on core n-1 alone, as if each worker had a host of its own.
        cpus = str(len(self.workers) % os.cpu_count()) if self.pin else None
        self.workers.append(Worker(self.env, name, self.logs, queues=queues, cpus=cpus))
        wait_for_workers(self.dispatcher, [w.name for w in self.workers], timeout=300)

    def submit(self, ref: str, params: dict, formats: list[str], queue: str, quality: str = "draft") -> str:
        return jobs.enqueue(self.db, self.dispatcher, ref, params, formats, quality, None, queue)["id"]

    def probe(self, queue: str = "preview") -> str:
        if self.vary is None:
            return self.submit("scale-probe", {"width": float(next(self.widths)), "nap": self.nap}, ["stl"], queue)
        name, values = self.vary
        step = next(self.steps)
        if step >= len(values):  # every job must be a new render, never a cache hit
            raise SystemExit(f"{self.design}'s {name} has {len(values)} distinct values, used up: "
                             "ask for fewer --rounds (each takes 40)")
        return self.submit(self.design, {name: values[step]}, ["stl"], queue)

    def wait(self, ids: list[str], timeout: float = 1800) -> None:
        def all_finished():
            states = jobs.states(self.db, ids)  # one query a poll, however many jobs
            failed = [i for i in ids if states.get(i) == "failed"]
            if failed:
                raise SystemExit(f"render failed: {jobs.get_job(self.db, failed[0])}")
            return all(states.get(i) == "done" for i in ids)

        wait_for(all_finished, timeout, f"{len(ids)} jobs", interval=0.05)

    def finished_at(self, ids: list[str]) -> datetime:
        """When the last of *ids* was stored done: the job rows' own clock, not this poller's 50 ms one."""
        with self.db.session() as session:
            last = session.scalar(select(func.max(RenderJobRow.updated_at)).where(RenderJobRow.id.in_(ids)))
        return as_utc(last)

    def throughput(self, count: int = THROUGHPUT_JOBS) -> tuple[float, float]:
        """(seconds for *count* jobs, machine CPU seconds per job meanwhile)."""
        busy, started = machine_busy(), utcnow()
        ids = [self.probe("preview") for _ in range(count)]  # the queue API renders use
        self.wait(ids)
        return (self.finished_at(ids) - started).total_seconds(), (machine_busy() - busy) / count

    def consuming(self, worker: Worker, queue: str, on: bool) -> None:
        """Make *worker* take jobs from *queue* again, or stop taking them (Celery's add/cancel_consumer)."""
        control = self.dispatcher.app.control
        change = control.add_consumer if on else control.cancel_consumer
        replies = change(queue, destination=[worker.name], reply=True, timeout=10)
        if not replies:
            raise SystemExit(f"{worker.name} did not answer {'add' if on else 'cancel'}_consumer({queue})")

    def previews(self, count: int = 20) -> list[float]:
        """*count* previews one at a time (20: the p95 is then the 19th, not the slowest of a few)."""
        latencies = []
        for _ in range(count):
            started = utcnow()
            job = self.probe("preview")
            self.wait([job])
            latencies.append((self.finished_at([job]) - started).total_seconds())
        return latencies

    def flood(self) -> list[str]:
        return [self.submit(ref, {}, formats, "batch", quality="normal") for ref, formats in self.seeds[:22]]

    def close(self) -> None:
        for w in self.workers:
            w.stop()
        self.redis.stop()


def _throughput(rounds: list[dict[int, tuple[float, float]]]) -> dict:
    """Every round's ratio, and the seconds and CPU of the median round (by ratio)."""
    ratios = [r[1][0] / r[2][0] for r in rounds]
    median_round = sorted(rounds, key=lambda r: r[1][0] / r[2][0])[len(rounds) // 2]
    (one, one_cpu), (two, two_cpu) = median_round[1], median_round[2]
    return {"jobs": THROUGHPUT_JOBS, "rounds": len(rounds), "round_ratios": [round(x, 2) for x in ratios],
            "one_worker_seconds": round(one, 2), "two_workers_seconds": round(two, 2),
            "ratio": round(one / two, 2), "target": TARGETS["throughput_ratio"],
            "one_worker_cpu_per_job": round(one_cpu, 3), "two_workers_cpu_per_job": round(two_cpu, 3),
            # Cores kept busy: above 1 with one worker leaves less than 2x to gain on 2 cores.
            "one_worker_cores_busy": round(one_cpu * THROUGHPUT_JOBS / one, 2),
            "two_workers_cores_busy": round(two_cpu * THROUGHPUT_JOBS / two, 2)}


def run(nap: float, layout: str, design: str | None = None, parallel_mesh: str | None = None,
        previews: bool = True, pin: bool = False, rounds: int = 5) -> dict:
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="opendesign-scale-") as tmp:
        bench = Bench(Path(tmp), nap, design, parallel_mesh, pin)
        try:
            bench.start_worker()
            bench.wait([bench.probe()])  # warm: the first render pays the mesher's start-up
            # "reserved": the second worker serves previews only, so a batch flood never holds every slot.
            bench.start_worker("preview" if layout == "reserved" else "preview,batch")
            bench.wait([bench.probe(), bench.probe()])
            # Rounds of 1 worker (the second stops taking preview jobs) and 2 workers, in turns (1-2,
            # 2-1, ...) so that a change of the machine's load meanwhile hits both alike.
            rounds_ = []
            for n in range(rounds):
                measured = {}
                for workers in ((1, 2) if n % 2 == 0 else (2, 1)):
                    bench.consuming(bench.workers[1], "preview", on=workers == 2)
                    measured[workers] = bench.throughput()
                rounds_.append(measured)
            bench.consuming(bench.workers[1], "preview", on=True)
            if previews:
                idle = bench.previews()
                flood = bench.flood()
                loaded = bench.previews()
                queued_left = sum(jobs.get_job(bench.db, i)["state"] == "queued" for i in flood)
                bench.wait(flood)
        finally:
            bench.close()
    result = {
        "nap_seconds": nap, "layout": layout, "design": design or "scale-probe",
        "parallel_mesh": parallel_mesh or "default", "pinned": pin, "load_average_before": [round(x, 2) for x in load],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "throughput": _throughput(rounds_),
    }
    if not previews:
        return result
    result |= {
        "previews": {"count": len(idle), "flood": len(flood), "flood_still_queued_after": queued_left,
                     "idle_p50": round(statistics.median(idle), 3), "idle_p95": round(percentile(idle, 0.95), 3),
                     "loaded_p50": round(statistics.median(loaded), 3),
                     "loaded_p95": round(percentile(loaded, 0.95), 3)},
    }
    p = result["previews"]
    p["p50_ratio"] = round(p["loaded_p50"] / p["idle_p50"], 2)
    p["p95_ratio"] = round(p["loaded_p95"] / p["idle_p95"], 2)
    p["target"] = TARGETS["preview_p95_ratio"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nap", type=float, default=0.0, help="seconds each probe build sleeps")
    parser.add_argument("--layout", choices=["reserved", "shared"], default="reserved",
                        help="reserved: worker 2 serves previews only (as make cluster runs); shared: both serve both")
    parser.add_argument("--design", default=None, help="a seed design's slug to render instead of the probe")
    parser.add_argument("--parallel-mesh", choices=["on", "off"], default=None,
                        help="the workers' render_parallel_mesh (default: the setting's default)")
    parser.add_argument("--throughput-only", action="store_true", help="skip the preview latency part")
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds of 1 then 2 workers (in turns); the median round is reported (default 5)")
    parser.add_argument("--pin", action="store_true",
                        help="each worker on a core of its own (taskset -c), as on a host of its own")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    result = run(args.nap, args.layout, args.design, args.parallel_mesh, previews=not args.throughput_only,
                 pin=args.pin, rounds=args.rounds)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    t, p = result["throughput"], result.get("previews")
    print(f"{result['design']}, parallel mesh {result['parallel_mesh']}, "
          f"{'workers pinned to a core each' if result['pinned'] else 'workers share the cores'}, load average "
          f"{' '.join(f'{x:.2f}' for x in result['load_average_before'])} before, "
          f"{' '.join(f'{x:.2f}' for x in result['load_average_after'])} after")
    print(f"throughput, 20 distinct parameter sets (nap {args.nap:g} s): 1 worker {t['one_worker_seconds']:.2f} s, "
          f"2 workers {t['two_workers_seconds']:.2f} s, ratio {t['ratio']:.2f} (target >= {t['target']}; median of "
          f"{t['rounds']} rounds: {', '.join(f'{x:.2f}' for x in t['round_ratios'])})")
    print(f"machine CPU per job: 1 worker {t['one_worker_cpu_per_job'] * 1000:.0f} ms "
          f"({t['one_worker_cores_busy']:.2f} cores busy), 2 workers {t['two_workers_cpu_per_job'] * 1000:.0f} ms "
          f"({t['two_workers_cores_busy']:.2f} cores busy)")
    if args.throughput_only:
        return
    print(f"layout {result['layout']}")
    print(f"previews idle:   p50 {p['idle_p50'] * 1000:.0f} ms, p95 {p['idle_p95'] * 1000:.0f} ms")
    print(f"previews with {p['flood']} bundle renders queued ({p['flood_still_queued_after']} still queued after): "
          f"p50 {p['loaded_p50'] * 1000:.0f} ms, p95 {p['loaded_p95'] * 1000:.0f} ms "
          f"(x{p['p50_ratio']:.2f} / x{p['p95_ratio']:.2f} of idle; target p95 within {p['target']}x)")


if __name__ == "__main__":
    main()
