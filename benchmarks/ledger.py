"""Ledger benchmark: what the reciprocity ledger costs a design page, and how fast value is split up a lineage.

1. A synthetic catalogue (a chain of derivatives, each with two parents from the
   generation above, so every design sits in many diamonds) with confirmed
   contributions to the youngest generation. For designs at several depths it
   times the design page's changing facts (``web.pagecache``) with the ledger
   and, as the baseline in the same run, with the ledger left out.
2. ``allocate`` alone on that lineage: contributions split per second.

Prints one table; ``--json`` for machines.

    python benchmarks/ledger.py [--generations 8 --width 4 --entries 200 --rounds 30]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tomli_w  # noqa: E402
from sqlalchemy import select  # noqa: E402

from opendesign.catalogue.importer import import_designs  # noqa: E402
from opendesign.commons.ledger import review  # noqa: E402
from opendesign.commons.ledger.flows import allocate, load_graph  # noqa: E402
from opendesign.commons.makers import import_makers  # noqa: E402
from opendesign.config import load_settings  # noqa: E402
from opendesign.db import Database  # noqa: E402
from opendesign.models import Contribution  # noqa: E402

MODEL = "import cadquery as cq\n\n\ndef build(params):\n    return cq.Workplane('XY').box(10, 10, 2)\n"


def _design(root: Path, slug: str, parents: list[str]) -> None:
    folder = root / slug
    folder.mkdir(parents=True)
    (folder / "design.toml").write_text(tomli_w.dumps({
        "slug": slug, "title": f"Bench {slug}", "summary": "A synthetic design for the ledger benchmark.",
        "version": "1.0.0", "license": "CERN-OHL-P-2.0", "category": "tools-fabrication",
        "derived_from": [f"{p}@1.0.0" for p in parents], "authors": [{"name": "Bench"}],
        "parts": [{"name": "body", "material": "PLA", "process": "fdm"}]}))
    (folder / "model.py").write_text(MODEL)
    (folder / "README.md").write_text("# Bench\n")


def build(root: Path, generations: int, width: int, entries: int) -> tuple[Database, list[list[str]]]:
    designs = root / "designs"
    levels: list[list[str]] = []
    for g in range(generations):
        level = [f"g{g}-d{i}" for i in range(width)]
        for i, slug in enumerate(level):
            parents = [] if g == 0 else sorted({levels[-1][i], levels[-1][(i + 1) % width]})
            _design(designs, slug, parents)
        levels.append(level)
    db = Database(load_settings(environ={}, home=str(root / "var")))
    db.migrate()
    assert import_designs(db, [designs]).ok
    makers = designs / "makers"
    makers.mkdir()
    day = date.today() - timedelta(days=30)
    (makers / "bench-coop.toml").write_text(tomli_w.dumps({
        "slug": "bench-coop", "name": "Bench Coop", "legal_form": "worker-cooperative", "country": "DE",
        "contributions": [{"design": levels[-1][i % width], "kind": "money", "amount": 100 + i, "currency": "EUR",
                           "date": day.isoformat(), "evidence": f"https://bench.example/r/{i}"}
                          for i in range(entries)]}))
    assert import_makers(db, [makers]).ok
    with db.session() as s:
        for entry in s.scalars(select(Contribution)):
            review.confirm(s, entry, operator=True, via="cli")
    return db, levels


def time_facts(db: Database, slug: str, rounds: int, with_ledger: bool) -> float:
    from web import create_app, pagecache
    from web.adapters import commons

    app = create_app({"TESTING": True, "SETTINGS": db.settings, "DATABASE": db, "MIGRATE": False,
                      "SECRET_KEY": "bench", "SERVER_NAME": "localhost"})
    real = commons.design_ledger
    if not with_ledger:
        commons.design_ledger = lambda session, s: pagecache._no_ledger(s)
    samples = []
    try:
        with app.app_context():
            for _ in range(rounds):
                session = db.sessionmaker()
                started = time.perf_counter()
                pagecache._load_facts(session, slug)
                samples.append(time.perf_counter() - started)
                session.close()
    finally:
        commons.design_ledger = real
        app.extensions["opendesign.search"].close()
    return statistics.median(samples) * 1000


def time_allocate(db: Database, rounds: int) -> tuple[int, float]:
    with db.session() as s:
        rows = [(c.amount_minor, c.version_id) for c in s.scalars(select(Contribution))]
        graph = load_graph(s, {v for _, v in rows})
    started = time.perf_counter()
    for _ in range(rounds):
        for minor, version in rows:
            allocate(minor, version, graph)
    return len(graph), len(rows) * rounds / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--width", type=int, default=4)
    parser.add_argument("--entries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db, levels = build(Path(tmp), args.generations, args.width, args.entries)
        rows = []
        for depth in (args.generations - 1, args.generations // 2, 0):
            slug = levels[depth][0]
            with_ms = time_facts(db, slug, args.rounds, True)
            base_ms = time_facts(db, slug, args.rounds, False)
            rows.append({"design": slug, "generation": depth, "facts_ms": round(with_ms, 2),
                         "baseline_ms": round(base_ms, 2), "ratio": round(with_ms / base_ms, 2)})
        versions, per_second = time_allocate(db, 5)
        db.dispose()
    result = {"entries": args.entries, "versions_in_lineage": versions, "allocations_per_second": round(per_second),
              "design_facts": rows}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{args.entries} confirmed entries to generation {args.generations - 1} of a {args.generations}x"
          f"{args.width} lineage (two parents each)")
    print("| design | generation | facts with ledger | baseline (no ledger) | ratio |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['design']} | {r['generation']} | {r['facts_ms']} ms | {r['baseline_ms']} ms | {r['ratio']} |")
    print(f"allocate: {result['allocations_per_second']:,} contributions split per second over {versions} versions")


if __name__ == "__main__":
    main()
