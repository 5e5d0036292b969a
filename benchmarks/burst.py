"""Page latency during a burst of renders: p50 / p95 of the home page, idle and while 50 renders arrive at once.

Reproduces the attack of issue 14 (finding 3): a design whose model sleeps
(``--sleep`` seconds, in the real sandbox), and ``--renders`` anonymous API
requests for distinct parameter sets sent at the same moment, while
``--clients`` visitors keep loading the home page. The production server
(``opendesign serve``, waitress, 8 threads) runs on a free loopback port with
a throw-away home holding the seed commons and that design.

Reported, all measured in this run: the home page's p50/p95 idle and during
the burst (and their ratio), what the render requests got (200, 202 + job,
429) and how long each held its connection, and how long the queue took to
drain. The render limits are lifted for the run (``--keep-limits`` keeps
them), so every request of the burst is a render the server has to take.

``--baseline-repo /work/main`` runs the same scenario first against another
checkout (e.g. before the hand-off) so both are measured on the same machine
in the same minute.

    python benchmarks/burst.py [--renders 50] [--sleep 1] [--clients 4] [--baseline-repo PATH] [--json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SLEEPY_TOML = """\
slug = "sleepy-widget"
title = "Sleepy widget"
summary = "A benchmark design whose model sleeps before it builds: a stand-in for a slow render."
version = "1.0.0"
license = "CERN-OHL-S-2.0"
category = "tools-fabrication"
tags = ["benchmark"]
derived_from = []

[[authors]]
name = "Benchmark"

[[parts]]
name = "body"
material = "PETG"
process = "fdm"
quantity = 1

[[parameters]]
name = "width"
type = "float"
default = 20.0
min = 5.0
max = 500.0
step = 0.5
unit = "mm"
label = "Width"
"""

SLEEPY_MODEL = """\
import time

import cadquery as cq


def build(params):
    time.sleep({sleep})
    return cq.Workplane("XY").box(params["width"], 10, 5)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: Status recorded for a request that got no answer within its timeout (its time is then a lower bound).
NO_ANSWER = 0


def get(port: int, path: str, timeout: float = 120) -> tuple[int, bytes, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read(), time.perf_counter() - started
    except TimeoutError:
        return NO_ANSWER, b"", time.perf_counter() - started
    finally:
        conn.close()


def wait_up(port: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if get(port, "/healthz", 10)[0] in (200, 503):
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not come up")


def percentiles(values: list[float]) -> dict:
    """p50/p95/p99/max and mean in ms. A stall shows in the tail and the mean: a visitor stuck 20 s makes one slow
    load while the others make hundreds of fast ones."""
    if not values:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None, "mean_ms": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[max(0, int(len(ordered) * q) - 1)] * 1000, 1)

    return {"n": len(ordered), "p50_ms": round(statistics.median(ordered) * 1000, 1), "p95_ms": at(0.95),
            "p99_ms": at(0.99), "max_ms": round(ordered[-1] * 1000, 1),
            "mean_ms": round(statistics.fmean(ordered) * 1000, 1)}


def visitors(port: int, clients: int, stop: threading.Event, minimum: int) -> list[float]:
    """Home page loads by *clients* visitors until *stop* is set and *minimum* loads are done."""
    latencies: list[float] = []
    lock = threading.Lock()

    def visitor() -> None:
        while True:
            with lock:
                if stop.is_set() and len(latencies) >= minimum:
                    return
            status, _, seconds = get(port, "/")
            with lock:
                latencies.append(seconds)  # a failed or unanswered load counts with the time it took

    threads = [threading.Thread(target=visitor) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def prepare_home(home: Path, sleep: float) -> dict[str, str]:
    design = home / "bench-designs" / "sleepy-widget"
    design.mkdir(parents=True)
    (design / "design.toml").write_text(SLEEPY_TOML)
    (design / "model.py").write_text(SLEEPY_MODEL.format(sleep=sleep))
    (design / "README.md").write_text("# Sleepy widget\n\nA benchmark design.\n")
    return {"designs": str(REPO / "designs"), "sleepy": str(design.parent)}


def run_once(repo: Path, args, label: str) -> dict:
    home = Path(tempfile.mkdtemp(prefix="opendesign-burst-"))
    try:
        folders = prepare_home(home, args.sleep)
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENDESIGN_")}
        env.update({"OPENDESIGN_HOME": str(home), "OPENDESIGN_DESIGNS_DIR": folders["designs"],
                    "PYTHONPATH": str(repo)})
        if not args.keep_limits:
            env["OPENDESIGN_RENDER_LIMIT_PER_CLIENT"] = "100000 per minute"
            env["OPENDESIGN_RENDER_LIMIT_PER_DESIGN"] = "100000 per minute"
        cli = [sys.executable, "-c", "from opendesign.cli import main; main()"]
        # cwd=repo: ``python -c`` puts the working folder first on sys.path, ahead of PYTHONPATH.
        subprocess.run([*cli, "import", folders["designs"], folders["sleepy"]], env=env, check=True, cwd=repo,
                       stdout=subprocess.DEVNULL)
        port = free_port()
        server = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env, cwd=repo,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_up(port)
            for _ in range(20):  # warm-up: templates, caches, the first connection
                get(port, "/")
            idle = visitors(port, args.clients, _set(threading.Event()), args.idle_requests)

            answers: list[tuple[int, bytes, float]] = []
            lock = threading.Lock()

            def render(i: int) -> None:
                width = 20 + i * 0.5
                answer = get(port, f"/api/v1/designs/sleepy-widget/render?format=stl&width={width}")
                with lock:
                    answers.append(answer)

            stop = threading.Event()
            load = os.getloadavg()[0]
            burst_started = time.perf_counter()
            senders = [threading.Thread(target=render, args=(i,)) for i in range(args.renders)]
            pages: list[float] = []
            watcher = threading.Thread(target=lambda: pages.extend(
                visitors(port, args.clients, stop, args.idle_requests)))
            watcher.start()
            for t in senders:
                t.start()
            for t in senders:
                t.join()
            answered = time.perf_counter() - burst_started
            stop.set()
            watcher.join()
            left = drain(port, answers, args.drain_timeout)
            drain_seconds = time.perf_counter() - burst_started if not left else None
        finally:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
        codes: dict[str, int] = {}
        for status, _, _ in answers:
            codes[str(status)] = codes.get(str(status), 0) + 1
        idle_p, burst_p = percentiles(idle), percentiles(pages)
        return {"label": label, "repo": str(repo), "renders": args.renders, "sleep_s": args.sleep,
                "load_average_at_burst": round(load, 2), "home_idle": idle_p, "home_during_burst": burst_p,
                "p95_ratio_burst_to_idle": (round(burst_p["p95_ms"] / idle_p["p95_ms"], 2)
                                            if idle_p["p95_ms"] and burst_p["p95_ms"] else None),
                "render_answers": codes, "render_request_held": percentiles([a[2] for a in answers]),
                "all_render_requests_answered_s": round(answered, 2),
                "queue_drained_s": round(drain_seconds, 2) if drain_seconds else None,
                "jobs_pending_at_drain_timeout": left}
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _set(event: threading.Event) -> threading.Event:
    event.set()
    return event


def drain(port: int, answers: list[tuple[int, bytes, float]], timeout: float) -> int:
    """Poll every job a 202 handed out until it is done or failed; how many were still pending after *timeout*."""
    jobs = []
    for status, body, _ in answers:
        if status == 202:
            url = json.loads(body)["job"]
            jobs.append("/" + url.split("/", 3)[3])
    deadline = time.monotonic() + timeout
    while jobs and time.monotonic() < deadline:
        status, body, _ = get(port, jobs[0])
        if status == 200 and json.loads(body)["status"] != "pending":
            jobs.pop(0)
        else:
            time.sleep(0.5)
    return len(jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=50, help="render requests sent at once")
    parser.add_argument("--sleep", type=float, default=1.0, help="seconds the model sleeps per render")
    parser.add_argument("--clients", type=int, default=4, help="visitors loading the home page")
    parser.add_argument("--idle-requests", type=int, default=200, help="home page loads measured idle (and at least "
                        "as many during the burst)")
    parser.add_argument("--drain-timeout", type=float, default=600)
    parser.add_argument("--keep-limits", action="store_true", help="keep the render limits (default: lifted)")
    parser.add_argument("--baseline-repo", type=Path, help="measure this checkout first, in the same run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = []
    if args.baseline_repo:
        results.append(run_once(args.baseline_repo.resolve(), args, "baseline"))
    results.append(run_once(REPO, args, "this checkout"))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for r in results:
        print(f"\n{r['label']} ({r['repo']}): {r['renders']} renders of a model sleeping {r['sleep_s']} s, "
              f"load average {r['load_average_at_burst']}")
        for name in ("home_idle", "home_during_burst"):
            p = r[name]
            print(f"  {name:<20} p50 {p['p50_ms']} ms  p95 {p['p95_ms']} ms  p99 {p['p99_ms']} ms  "
                  f"max {p['max_ms']} ms  mean {p['mean_ms']} ms  ({p['n']} loads)")
        print(f"  p95 ratio burst/idle {r['p95_ratio_burst_to_idle']}")
        held = r["render_request_held"]
        print(f"  render answers {r['render_answers']}; each held its connection p50 {held['p50_ms']} ms, "
              f"p95 {held['p95_ms']} ms; all answered after {r['all_render_requests_answered_s']} s; "
              f"queue drained after {r['queue_drained_s']} s ({r['jobs_pending_at_drain_timeout']} jobs still "
              "pending at the drain timeout)")


if __name__ == "__main__":
    main()
