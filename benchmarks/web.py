"""Web catalogue benchmark: p50 / p95 latency and requests/s with 8 concurrent clients.

Builds a throw-away catalogue of 10,000 synthetic designs (plus the seed
commons, one of which is rendered so a cached STL can be downloaded), starts
the production server (``opendesign serve``, waitress) on a free loopback
port, and hits the home page, a search, design pages and a cached STL
download. Every loop is bounded; only 127.0.0.1 is contacted. With
``--rounds N`` each scenario is measured N times and the range is shown (the
machine may be busy); the 1-minute load average is printed with each round.

Two search scenarios: ``search`` draws from 50 queries per round, so most
requests repeat a query (the popular-queries case the result cache serves);
``search-new`` sends a query no earlier request of the run has sent (distinct
word sets drawn deterministically from the catalogue's vocabulary), so every
request runs the engine and renders the page.

    .venv/bin/python benchmarks/web.py [--designs 10000] [--requests 400] [--clients 8] [--rounds 3]
                                       [--scenarios search,search-new]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
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
sys.path.insert(0, str(REPO))

WORDS = ("solar dryer rack frame gear mill water filter diffuser rotor wind compost bin panel beehive soil block "
         "pot hydroponic bracket tilt stove chamber diverter screen bicycle generator mount clamp hinge").split()
CATEGORIES = ("energy", "water", "food-agriculture", "shelter", "mobility", "tools-fabrication", "health",
              "waste-recycling")
LICENSES = ("CERN-OHL-S-2.0", "CERN-OHL-W-2.0", "CERN-OHL-P-2.0", "CC-BY-SA-4.0", "CC-BY-4.0", "CC0-1.0")


def synthesise(db, n: int) -> list[str]:
    """Insert *n* synthetic designs straight into the catalogue (no files: they are never rendered)."""
    from opendesign.models import Author, Design, DesignVersion, Parameter, Part

    rnd = random.Random(7)
    slugs = []
    batch = 1000
    for start in range(0, n, batch):
        with db.session() as s:
            for i in range(start, min(n, start + batch)):
                words = rnd.sample(WORDS, 3)
                slug = f"{'-'.join(words)}-{i}"
                title = " ".join(words).capitalize()
                manifest = {"slug": slug, "title": title, "version": "1.0.0"}
                design = Design(slug=slug)
                v = DesignVersion(version="1.0.0", title=title, summary=f"A synthetic {title.lower()} for the benchmark.",
                                  license=LICENSES[i % len(LICENSES)], category=CATEGORIES[i % len(CATEGORIES)],
                                  readme=f"# {title}\n\nBuild notes for **{title}**.\n", links={}, manifest=manifest,
                                  content_hash=f"{i:064x}")
                v.parameters = [Parameter(position=0, name="width", type="float", default=50.0, min=10.0, max=200.0,
                                          step=0.5, unit="mm", label="Width")]
                v.parts = [Part(position=0, name="body", material="PETG", process=("fdm", "cnc", "laser")[i % 3],
                                quantity=1)]
                v.authors = [Author(position=0, name=f"Collective {i % 97}")]
                design.versions.append(v)
                s.add(design)
                slugs.append(slug)
            s.flush()
            for design in s.new:
                pass
        with db.session() as s:
            from sqlalchemy import update

            s.execute(update(Design).values(latest_version_id=select_latest()))
    return slugs


def select_latest():
    from sqlalchemy import select

    from opendesign.models import Design, DesignVersion

    return select(DesignVersion.id).where(DesignVersion.design_id == Design.id).scalar_subquery()


class NewQueries:
    """Queries never sent before in this run: distinct sets of 2-3 vocabulary words, in a seeded order."""

    def __init__(self, seed: int = 13):
        self._rnd = random.Random(seed)
        self._seen: set[frozenset[str]] = set()

    def take(self, n: int) -> list[str]:
        out: list[str] = []
        while len(out) < n:  # 435 pairs + 4060 triples: far more than a run asks for
            words = self._rnd.sample(WORDS, self._rnd.choice((2, 2, 3)))
            if frozenset(words) in self._seen:
                continue
            self._seen.add(frozenset(words))
            out.append("/search?q=" + "+".join(words))
        return out


SCENARIOS = ("home", "search", "search-new", "design page", "cached STL download")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            # 503 is a degraded but answering server (e.g. low disk, no bwrap): up is all this waits for.
            if conn.getresponse().status in (200, 503):
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not come up")


def hammer(port: int, paths: list[str], total: int, clients: int) -> dict:
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = total // clients
    errors = [0]

    def client(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for i in range(per_client):
            path = paths[(k * per_client + i) % len(paths)]
            started = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"requests": len(latencies), "errors": errors[0], "p50_ms": statistics.median(latencies) * 1000,
            "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000, "req_per_s": len(latencies) / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--designs", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=400, help="requests per scenario")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1, help="measure each scenario this many times")
    parser.add_argument("--threads", type=int, default=None, help="waitress threads (default: serve's default)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"comma-separated subset of: {', '.join(SCENARIOS)}")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    args.scenarios = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    home = Path(tempfile.mkdtemp(prefix="opendesign-web-bench-"))
    try:
        run(args, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def run(args, home: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OPENDESIGN_")}, "OPENDESIGN_HOME": str(home)}
    os.environ.update(env)
    from opendesign.catalogue.importer import import_designs
    from opendesign.config import load_settings
    from opendesign.db import Database

    settings = load_settings()
    db = Database(settings)
    db.migrate()
    t = time.perf_counter()
    import_designs(db, [str(REPO / "designs")])
    slugs = synthesise(db, args.designs)
    print(f"catalogue: {args.designs} synthetic designs + seed commons in {time.perf_counter() - t:.1f} s",
          file=sys.stderr)
    # Render one seed STL into the cache (so the download is a cache hit), and build the search index.
    t = time.perf_counter()
    from renderers import service

    info = service.render(db, settings, "hand-mill-spur-gear", None, ["stl"], "normal")[0]
    stl = f"/files/{info.sha256}.stl"
    print(f"rendered {info.ref} STL ({info.bytes} bytes) in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    db.dispose()

    port = free_port()
    command = [str(REPO / ".venv/bin/opendesign"), "serve", "--port", str(port), "--no-warm"]
    if args.threads:
        command += ["--threads", str(args.threads)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t = time.perf_counter()
        wait_healthy(port)
        print(f"server up (index built) in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        rnd = random.Random(11)
        unseen = rnd.sample(slugs, len(slugs))
        new_queries = NewQueries()
        rounds: list[dict] = []
        for i in range(max(1, args.rounds)):
            # Fresh design pages every round, so each round sees as many first views as the first did.
            pages, unseen = unseen[:200], unseen[200:] or rnd.sample(slugs, len(slugs))
            scenarios = {
                "home": ["/"],
                "search": [f"/search?q={a}+{b}" for a, b in (rnd.sample(WORDS, 2) for _ in range(50))],
                # One new query per request (hammer sends paths[k] once when there are as many as requests).
                "search-new": new_queries.take(args.requests),
                "design page": [f"/designs/{s}" for s in pages],
                "cached STL download": [stl],
            }
            scenarios = {name: paths for name, paths in scenarios.items() if name in args.scenarios}
            warm_up = {**scenarios, "search-new": new_queries.take(40)} if "search-new" in scenarios else scenarios
            for paths in warm_up.values():  # warm-up: index searcher, templates, a few pages
                hammer(port, paths, min(40, len(paths) * 4), 2)
            load = os.getloadavg()[0]
            rounds.append({name: hammer(port, paths, args.requests, args.clients) for name, paths in scenarios.items()})
            print(f"round {i + 1}: load average {load:.2f} -> {os.getloadavg()[0]:.2f}", file=sys.stderr)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    if args.json:
        print(json.dumps(rounds if len(rounds) > 1 else rounds[0], indent=2))
        return
    print(f"\n{args.designs} designs, {args.clients} concurrent clients, {args.requests} requests per scenario, "
          f"opendesign serve (waitress), {len(rounds)} round(s): median [min-max]\n")
    print(f"{'scenario':<22}{'p50 ms':>20}{'p95 ms':>20}{'req/s':>18}{'errors':>8}")
    for name in rounds[0]:
        cells = [_spread([r[name][k] for r in rounds], fmt) for k, fmt in
                 (("p50_ms", ".1f"), ("p95_ms", ".1f"), ("req_per_s", ".0f"))]
        errors = sum(r[name]["errors"] for r in rounds)
        print(f"{name:<22}{cells[0]:>20}{cells[1]:>20}{cells[2]:>18}{errors:>8}")


def _spread(values: list[float], fmt: str) -> str:
    mid = format(statistics.median(values), fmt)
    return mid if len(values) == 1 else f"{mid} [{min(values):{fmt}}-{max(values):{fmt}}]"


if __name__ == "__main__":
    main()
