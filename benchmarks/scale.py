"""Scale benchmark: design pages and searches with 1 vs 2 web processes, on one PostgreSQL catalogue.

Builds a catalogue (the seed commons plus ``--designs`` synthetic designs, as
``benchmarks/web.py`` does) in a scratch schema of the PostgreSQL at
``--postgres`` (search on PostgreSQL), then serves it with
``opendesign serve --processes 1`` (waitress) and ``--processes 2``
(gunicorn), in interleaved rounds, and drives each with ``--clients``
concurrent clients: design pages never viewed before in the round, and
searches. Prints requests/s and p50/p95 per setup and the 2-process/1-process
ratio measured in the same run. The search backends themselves are compared
by ``benchmarks/search.py``.

    python benchmarks/scale.py                       # 2,000 designs, 8 clients, 3 rounds
    python benchmarks/scale.py --designs 10000 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from web import WORDS, free_port, hammer, synthesise, wait_healthy  # noqa: E402  (benchmarks/web.py)

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
CLI = [sys.executable, "-c", "from opendesign.cli import main; main()"]


def _catalogue(url: str, home: Path, designs: int) -> list[str]:
    from opendesign import search
    from opendesign.catalogue.importer import import_designs
    from opendesign.config import load_settings
    from opendesign.db import Database

    settings = load_settings(environ={}, database_url=url, home=str(home))
    db = Database(settings)
    db.migrate()
    import_designs(db, [str(REPO / "designs")])
    slugs = synthesise(db, designs)
    # synthesise() sets the latest versions with one bulk UPDATE, which no change event sees: index it all.
    with db.session() as session:
        search.rebuild_index(search.get_index(settings), session)
    db.dispose()
    return slugs


def _serve(env: dict, processes: int, threads: int):
    port = free_port()
    server = subprocess.Popen([*CLI, "serve", "--port", str(port), "--no-warm", "--threads", str(threads),
                               "--processes", str(processes)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    wait_healthy(port)
    return server, port


def _stop(server) -> None:
    os.killpg(server.pid, 15)
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, 9)
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--designs", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=400, help="requests per scenario and round")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--threads", type=int, default=8, help="threads per web process")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default=PG_URL)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from sqlalchemy import create_engine, text

    schema = f"bench_scale_{os.getpid()}"
    url = f"{args.postgres}{'&' if '?' in args.postgres else '?'}options=-csearch_path%3D{schema}%2Cpublic"
    admin = create_engine(args.postgres.replace("postgresql://", "postgresql+psycopg://", 1))
    home = Path(tempfile.mkdtemp(prefix="opendesign-scale-bench-"))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        started = time.perf_counter()
        slugs = _catalogue(url, home, args.designs)
        print(f"catalogue: {len(slugs)} synthetic designs + seed commons in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("OPENDESIGN_")},
               "OPENDESIGN_HOME": str(home), "OPENDESIGN_DATABASE_URL": url, "PYTHONPATH": str(REPO)}
        rnd = random.Random(7)
        unseen = rnd.sample(slugs, len(slugs))
        results: dict[int, dict[str, list[dict]]] = {1: {}, 2: {}}
        for round_ in range(args.rounds):
            for processes in ((1, 2) if round_ % 2 == 0 else (2, 1)):  # interleaved: load drifts
                server, port = _serve(env, processes, args.threads)
                try:
                    pages, unseen = unseen[:args.requests], unseen[args.requests:] or rnd.sample(slugs, len(slugs))
                    scenarios = {
                        "design page": [f"/designs/{s}" for s in pages],
                        "search": [f"/search?q={a}+{b}" for a, b in (rnd.sample(WORDS, 2) for _ in range(50))],
                    }
                    hammer(port, ["/", *scenarios["search"][:10]], 40, 2)  # warm-up: templates, searchers
                    for name, paths in scenarios.items():
                        results[processes].setdefault(name, []).append(
                            hammer(port, paths, args.requests, args.clients))
                finally:
                    _stop(server)
                print(f"round {round_ + 1}, {processes} process(es): load {os.getloadavg()[0]:.1f}",
                      file=sys.stderr)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()
        shutil.rmtree(home, ignore_errors=True)

    summary = {}
    for name in results[1]:
        one = {k: statistics.median(r[k] for r in results[1][name]) for k in ("req_per_s", "p50_ms", "p95_ms")}
        two = {k: statistics.median(r[k] for r in results[2][name]) for k in ("req_per_s", "p50_ms", "p95_ms")}
        errors = sum(r["errors"] for p in (1, 2) for r in results[p][name])
        summary[name] = {"1 process": one, "2 processes": two, "ratio": two["req_per_s"] / one["req_per_s"],
                         "errors": errors}
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"\n{args.designs} designs on PostgreSQL, {args.clients} clients, {args.requests} requests per scenario, "
          f"{args.rounds} interleaved rounds (medians); load average now {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores\n")
    print(f"{'scenario':<14}{'1 proc req/s':>14}{'p50/p95 ms':>16}{'2 proc req/s':>14}{'p50/p95 ms':>16}"
          f"{'ratio':>8}{'errors':>8}")
    for name, s in summary.items():
        one, two = s["1 process"], s["2 processes"]
        print(f"{name:<14}{one['req_per_s']:>14.0f}{one['p50_ms']:>8.1f}/{one['p95_ms']:<7.1f}"
              f"{two['req_per_s']:>14.0f}{two['p50_ms']:>8.1f}/{two['p95_ms']:<7.1f}{s['ratio']:>8.2f}"
              f"{s['errors']:>8}")


if __name__ == "__main__":
    main()
