"""Search benchmark: Whoosh and PostgreSQL full-text (the two backends) against SQLite FTS5 on the same corpus.

Builds deterministic synthetic catalogues from a vocabulary of sustainability
hardware, indexes them through the real document schema
(:class:`opendesign.search.SearchDocument` -> :class:`WhooshSearchIndex`), and
times a fixed mix of queries (one term, several terms, phrase, facet filter,
typo). The same documents go through :class:`PostgresSearchIndex` into a
scratch schema of the PostgreSQL at ``--postgres`` (dropped afterwards), and
into an SQLite FTS5 table as the reference. Prints one table; ``--json`` for machines.

    python benchmarks/search.py                 # 1k, 10k, 100k
    python benchmarks/search.py --sizes 1k,10k  # a quicker run
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from opendesign.search import SearchDocument, SearchQuery, WhooshSearchIndex  # noqa: E402

# Vocabulary ----------------------------------------------------------------

THINGS = [
    ("solar", "dryer"), ("solar", "cooker"), ("rainwater", "diverter"), ("biosand", "filter"),
    ("ceramic", "filter"), ("rocket", "stove"), ("spur", "gear"), ("savonius", "rotor"),
    ("compost", "bin"), ("beehive", "frame"), ("soil", "blocker"), ("hydroponic", "pot"),
    ("panel", "bracket"), ("bicycle", "generator"), ("pedal", "pump"), ("hand", "mill"),
    ("seed", "planter"), ("grain", "thresher"), ("water", "wheel"), ("wind", "turbine"),
    ("drip", "emitter"), ("greenhouse", "clip"), ("cargo", "rack"), ("wheelchair", "hub"),
    ("prosthetic", "hand"), ("splint", "clamp"), ("plastic", "shredder"), ("brick", "press"),
    ("roof", "gutter"), ("window", "hinge"), ("battery", "holder"), ("charge", "controller"),
    ("fish", "feeder"), ("chicken", "waterer"), ("oil", "press"), ("rope", "pump"),
    ("fog", "collector"), ("evaporative", "cooler"), ("biogas", "valve"), ("pipe", "coupler"),
]
QUALIFIERS = ["compact", "modular", "heavy-duty", "folding", "stackable", "parametric", "low-cost",
              "community", "portable", "reinforced", "adjustable", "printable", "field-repairable", "mk2"]
FILLER = """
print layer infill wall perimeter nozzle bed support bridge overhang tolerance clearance bolt nut screw
washer bearing shaft axle bore hub flange rib fillet chamfer slot groove thread insert glue seal gasket
weatherproof outdoor sunlight uv resistant food safe durable repair spare replace assemble disassemble
test measure calibrate sand drill tap cut fold bend weld rivet clamp mount frame base lid cover tray
rack shelf mesh screen net grid panel plate sheet tube pipe hose valve pump tank barrel bucket bottle
cap funnel nozzle spout handle crank lever pedal chain sprocket belt pulley spring latch hook strap
village farm garden workshop school clinic household cooperative community market kitchen field
energy water food shelter mobility health waste recycling heat cool dry store carry grind press
filter pump lift tilt track rotate spin generate charge light cook bake boil preserve irrigate harvest
""".split()
MATERIALS = ["PETG", "PLA", "ASA", "nylon", "plywood", "bamboo", "steel", "aluminium", "stainless steel",
             "acrylic", "HDPE", "recycled HDPE", "oak", "pine", "copper", "TPU", "cork", "concrete"]
PROCESSES = ["fdm", "sla", "sls", "cnc", "laser", "manual"]
CATEGORIES = ["energy", "water", "food-agriculture", "shelter", "mobility", "tools-fabrication", "health",
              "waste-recycling"]
LICENSES = [("CERN-OHL-S-2.0", "strongly-reciprocal"), ("CERN-OHL-W-2.0", "weakly-reciprocal"),
            ("CERN-OHL-P-2.0", "permissive"), ("CC-BY-SA-4.0", "strongly-reciprocal"),
            ("CC-BY-4.0", "permissive"), ("CC0-1.0", "permissive"), ("LicenseRef-PPL", "copyfair"),
            ("CC-BY-NC-SA-4.0", "non-commercial"), ("TAPR-OHL-1.0", "weakly-reciprocal"), ("MIT", "permissive")]
COUNTRIES = ["DE", "FR", "KE", "IN", "BR", "US", "ES", "NL", "GH", "PE", "ID", "PH", "MX", "ZA", "PL"]
FIRST = ["Ada", "Kofi", "Mei", "Ravi", "Lena", "Tomas", "Amara", "Jonas", "Priya", "Sami", "Ines", "Yuki"]
LAST = ["Okafor", "Schmidt", "Nguyen", "Silva", "Haddad", "Kowalski", "Mensah", "Garcia", "Ito", "Rossi"]
MAKER_WORDS = ["Fab", "Works", "Commons", "Collective", "Lab", "Makers", "Guild", "Foundry"]
LEGAL = ["worker cooperative", "for profit", "social enterprise", "non profit", "individual"]
PARAMETERS = ["width", "height", "depth", "diameter", "thickness", "teeth", "module", "angle", "spacing",
              "count", "wall", "clearance", "length", "radius", "holes", "slots", "tilt", "capacity"]


def _zipf_picker(words: list[str], s: float = 1.1):
    cum = list(itertools.accumulate(1.0 / (i + 1) ** s for i in range(len(words))))

    def pick(rng: random.Random, k: int) -> list[str]:
        return [words[bisect.bisect(cum, rng.random() * cum[-1])] for _ in range(k)]

    return pick


_filler = _zipf_picker(FILLER)
EPOCH = datetime(2019, 1, 1, tzinfo=UTC)


def make_document(i: int) -> SearchDocument:
    """The i-th synthetic design; the same i always gives the same design."""
    rng = random.Random(i)
    what, thing = rng.choice(THINGS)
    qualifier = rng.choice(QUALIFIERS)
    title = f"{qualifier.capitalize()} {what} {thing}" + (f" {rng.randint(2, 9)}" if rng.random() < 0.3 else "")
    category = rng.choice(CATEGORIES)
    summary = (f"A {qualifier} {what} {thing} for {rng.choice(['village', 'farm', 'garden', 'workshop', 'clinic'])} "
               f"use: {' '.join(_filler(rng, rng.randint(10, 22)))}.")
    sentences = []
    for _ in range(rng.randint(6, 14)):
        words = _filler(rng, rng.randint(8, 16))
        if rng.random() < 0.3:
            words.insert(rng.randrange(len(words)), thing)
        sentences.append(" ".join(words).capitalize() + ".")
    licence, family = rng.choice(LICENSES)
    parts = []
    processes = []
    for p in range(rng.randint(1, 4)):
        process = rng.choice(PROCESSES)
        processes.append(process)
        parts.append(f"{rng.choice([thing, 'base', 'lid', 'arm', 'clip', 'plate'])} {rng.choice(MATERIALS)}")
    makers, countries, productions = [], [], 0
    if rng.random() < 0.25:
        for _ in range(rng.randint(1, 3)):
            country = rng.choice(COUNTRIES)
            makers.append(f"{rng.choice(LAST)} {rng.choice(MAKER_WORDS)} {rng.choice(LEGAL)} {country}")
            countries.append(country)
            productions += 1
    return SearchDocument(
        slug=f"{what}-{thing}-{i}",
        version=f"{rng.randint(0, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}",
        title=title,
        summary=summary,
        category=category,
        license=licence,
        readme=" ".join(sentences),
        tags=tuple(dict.fromkeys([what, thing, category, *rng.sample(FILLER, 2)])),
        licenses=(licence,),
        families=(family,),
        parts=tuple(parts),
        processes=tuple(dict.fromkeys(processes)),
        parameters=tuple(f"{n} {n.capitalize()}" for n in rng.sample(PARAMETERS, rng.randint(3, 7))),
        authors=(f"{rng.choice(FIRST)} {rng.choice(LAST)}",),
        makers=tuple(makers),
        maker_countries=tuple(sorted(set(countries))),
        forks=int(rng.paretovariate(1.5)) - 1,
        productions=productions,
        published=EPOCH + timedelta(seconds=rng.randrange(7 * 365 * 86400)),
        content_hash=f"{i:064x}",
    )


# The fixed query mix -----------------------------------------------------------

QUERIES: list[tuple[str, str, dict]] = [
    ("one term", "solar", {}),
    ("one term", "filter", {}),
    ("one term", "gear", {}),
    ("one term", "bamboo", {}),
    ("several terms", "solar dryer rack", {}),
    ("several terms", "water filter ceramic", {}),
    ("several terms", "bicycle generator mount", {}),
    ("several terms", "compost bin garden", {}),
    ("phrase", '"solar dryer"', {}),
    ("phrase", '"spur gear"', {}),
    ("phrase", '"rocket stove"', {}),
    ("facet filter", "filter", {"category": ("water",)}),
    ("facet filter", "gear", {"process": ("cnc",)}),
    ("facet filter", "stove", {"family": ("strongly-reciprocal",)}),
    ("typo", "sollar dryer", {}),
    ("typo", "compst bin", {}),
    ("typo", "hydroponc pot", {}),
]


# Whoosh ---------------------------------------------------------------------

def whoosh_run(docs: list[SearchDocument], root: Path, rounds: int) -> dict:
    index = WhooshSearchIndex(root / "whoosh", time_limit=5.0)
    started, cpu = time.perf_counter(), time.process_time()
    index.rebuild(docs)
    build, build_cpu = time.perf_counter() - started, time.process_time() - cpu
    first = time.perf_counter()
    index.search(SearchQuery("solar"))  # opens the searcher and reads the facet tables once
    warm = time.perf_counter() - first
    def run(text, filters):
        return index.search(SearchQuery(text, filters=filters, limit=20))

    def run_cold(text, filters):
        index._postings.clear()  # every term decoded from disk again, as on a first search
        return run(text, filters)

    timings = _time_queries(run, rounds)
    cold = _time_queries(run_cold, max(1, rounds // 3))
    sample = index.search(SearchQuery("sollar dryer"))
    started = time.perf_counter()
    index.apply([make_document(len(docs))])
    update = time.perf_counter() - started
    started = time.perf_counter()
    index.search(SearchQuery("solar"))
    after_update = time.perf_counter() - started
    index.close()
    size = sum(p.stat().st_size for p in (root / "whoosh").rglob("*") if p.is_file())
    return {"build_s": build, "build_cpu_s": build_cpu, "first_query_s": warm, "update_s": update, "query_after_update_s": after_update,
            "size_mb": size / 1e6, "suggestion": sample.suggestion, "cold_p50_ms": cold["p50_ms"],
            "cold_p95_ms": cold["p95_ms"], **timings}


# PostgreSQL -------------------------------------------------------------------


def postgres_run(docs: list[SearchDocument], base_url: str, rounds: int) -> dict:
    """The same service path on the PostgreSQL backend, in a schema of its own."""
    import os

    from sqlalchemy import text

    from opendesign.config import load_settings
    from opendesign.db import Database
    from opendesign.search.pg_index import PostgresSearchIndex

    schema = f"bench_search_{os.getpid()}"
    url = f"{base_url}{'&' if '?' in base_url else '?'}options=-csearch_path%3D{schema}%2Cpublic"
    with tempfile.TemporaryDirectory(prefix="opendesign-bench-pg-") as home:
        db = Database(load_settings(environ={}, database_url=url, home=home))
        with db.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        try:
            db.migrate()
            index = PostgresSearchIndex(db.engine, time_limit=5.0)
            started, cpu = time.perf_counter(), time.process_time()
            index.rebuild(docs)
            with db.engine.begin() as conn:
                conn.execute(text("ANALYZE search_document"))
                conn.execute(text("ANALYZE search_word"))
            build, build_cpu = time.perf_counter() - started, time.process_time() - cpu

            def run(text_, filters):
                return index.search(SearchQuery(text_, filters=filters, limit=20))

            timings = _time_queries(run, rounds)
            sample = index.search(SearchQuery("sollar dryer"))
            started = time.perf_counter()
            index.apply([make_document(len(docs))])
            update = time.perf_counter() - started
            with db.engine.connect() as conn:
                size = conn.execute(text("SELECT pg_total_relation_size('search_document') + "
                                         "pg_total_relation_size('search_word')")).scalar_one()
        finally:
            with db.engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            db.dispose()
    return {"build_s": build, "build_cpu_s": build_cpu, "update_s": update, "size_mb": size / 1e6,
            "suggestion": sample.suggestion, **timings}


# SQLite FTS5 ------------------------------------------------------------------

FTS_COLUMNS = ("title", "summary", "readme", "tags", "parts", "parameters", "authors", "makers", "meta")
FTS_WEIGHTS = (4.0, 1.5, 1.0, 2.0, 1.0, 0.7, 1.0, 1.0, 1.0)


def _fts_row(doc: SearchDocument) -> tuple:
    meta = " ".join([doc.category, *doc.licenses, *doc.families, *doc.processes])
    return (doc.slug, doc.title, doc.summary, doc.readme, " ".join(doc.tags), " ".join(doc.parts),
            " ".join(doc.parameters), " ; ".join(doc.authors), " ; ".join(doc.makers), meta)


def _fts_facets(doc: SearchDocument):
    yield "category", doc.category
    for value in doc.licenses:
        yield "license", value
    for value in doc.families:
        yield "family", value
    for value in doc.processes:
        yield "process", value
    yield "has_makers", "yes" if doc.productions else "no"
    for value in doc.maker_countries:
        yield "country", value


def fts_run(docs: list[SearchDocument], root: Path, rounds: int) -> dict:
    path = root / "fts.db"
    db = sqlite3.connect(path)
    started, cpu = time.perf_counter(), time.process_time()
    db.execute(f"CREATE VIRTUAL TABLE doc USING fts5(slug UNINDEXED, {', '.join(FTS_COLUMNS)}, "
               "tokenize='porter unicode61')")
    db.execute("CREATE TABLE facet (docid INTEGER, field TEXT, value TEXT)")
    with db:
        db.executemany(f"INSERT INTO doc(rowid, slug, {', '.join(FTS_COLUMNS)}) VALUES (?, ?{', ?' * 9})",
                       ((i, *_fts_row(d)) for i, d in enumerate(docs)))
        db.executemany("INSERT INTO facet VALUES (?, ?, ?)",
                       ((i, f, v) for i, d in enumerate(docs) for f, v in _fts_facets(d)))
        db.execute("CREATE INDEX facet_value ON facet(field, value, docid)")
        db.execute("CREATE INDEX facet_doc ON facet(docid)")
    db.execute("INSERT INTO doc(doc) VALUES ('optimize')")
    build, build_cpu = time.perf_counter() - started, time.process_time() - cpu
    weights = ", ".join(map(str, FTS_WEIGHTS))

    def search(text: str, filters: dict):
        match = text if text.startswith('"') else " ".join(text.split())
        where, args = "doc MATCH ?", [match]
        for field, values in filters.items():
            where += (f" AND doc.rowid IN (SELECT docid FROM facet WHERE field = ? AND value IN "
                      f"({', '.join('?' * len(values))}))")
            args += [field, *values]
        hits = db.execute(f"SELECT slug, highlight(doc, 1, '<mark>', '</mark>') FROM doc WHERE {where} "
                          f"ORDER BY bm25(doc, 0, {weights}) LIMIT 20", args).fetchall()
        total = db.execute(f"SELECT count(*) FROM doc WHERE {where}", args).fetchone()[0]
        facets = db.execute(f"SELECT field, value, count(*) FROM facet WHERE docid IN "
                            f"(SELECT rowid FROM doc WHERE {where}) GROUP BY field, value", args).fetchall()
        return hits, total, facets

    timings = _time_queries(search, rounds)
    db.close()
    return {"build_s": build, "build_cpu_s": build_cpu, "size_mb": path.stat().st_size / 1e6, **timings}


# Timing -----------------------------------------------------------------------

def _time_queries(run, rounds: int) -> dict:
    for _kind, text, filters in QUERIES:  # warm-up round, not timed
        run(text, filters)
    samples: dict[str, list[float]] = {}
    for _ in range(rounds):
        for kind, text, filters in QUERIES:
            started = time.perf_counter()
            run(text, filters)
            samples.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
    every = [t for ts in samples.values() for t in ts]
    return {"p50_ms": _pct(every, 50), "p95_ms": _pct(every, 95),
            "by_kind": {k: {"p50_ms": _pct(v, 50), "p95_ms": _pct(v, 95)} for k, v in samples.items()}}


def _pct(values: list[float], pct: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def _size(text: str) -> int:
    text = text.strip().lower()
    return int(float(text[:-1]) * 1000) if text.endswith("k") else int(text)


TARGETS = {10_000: {"p50_ms": 10, "p95_ms": 50, "build_s": 30}, 100_000: {"p50_ms": 50}}
#: Issue 10: PostgreSQL p50 <= 20 ms at 100k designs.
POSTGRES_TARGETS = {100_000: {"p50_ms": 20}}
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1k,10k,100k", help="catalogue sizes, e.g. 1k,10k (default 1k,10k,100k)")
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds over the query mix (default 10)")
    parser.add_argument("--no-fts", action="store_true", help="skip the SQLite FTS5 reference")
    parser.add_argument("--postgres", default=PG_URL, help=f"PostgreSQL for the postgres backend (default {PG_URL})")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL backend")
    parser.add_argument("--no-whoosh", action="store_true", help="skip the Whoosh backend")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    results = []
    for size in map(_size, args.sizes.split(",")):
        docs = [make_document(i) for i in range(size)]
        with tempfile.TemporaryDirectory(prefix="opendesign-bench-") as tmp:
            row = {"size": size}
            if not args.no_whoosh:
                row["whoosh"] = whoosh_run(docs, Path(tmp), args.rounds)
            if not args.no_postgres:
                row["postgres"] = postgres_run(docs, args.postgres, args.rounds)
            if not args.no_fts:
                row["fts5"] = fts_run(docs, Path(tmp), args.rounds)
        results.append(row)
        if not args.json:
            print(f"  done {size:,} designs", file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print_table(results)
    return 0


def print_table(results: list[dict]) -> None:
    head = (f"{'designs':>8} {'engine':<8} {'build s':>8} {'cpu s':>6} {'MB':>6} {'p50 ms':>7} {'p95 ms':>7}  "
            + "  ".join(f"{k[:12]:>12}" for k in dict.fromkeys(k for k, _, _ in QUERIES)) + "  targets")
    print(head)
    print("-" * len(head))
    for row in results:
        for engine in ("whoosh", "postgres", "fts5"):
            r = row.get(engine)
            if r is None:
                continue
            kinds = "  ".join(f"{r['by_kind'][k]['p50_ms']:>5.1f}/{r['by_kind'][k]['p95_ms']:<6.1f}"
                              for k in dict.fromkeys(k for k, _, _ in QUERIES))
            target = {"whoosh": TARGETS, "postgres": POSTGRES_TARGETS}.get(engine, {}).get(row["size"], {})
            verdict = ", ".join(f"{k.removesuffix('_ms').removesuffix('_s')}<={v} {'ok' if r[k] <= v else 'MISS'}"
                                for k, v in target.items())
            print(f"{row['size']:>8,} {engine:<8} {r['build_s']:>8.2f} {r['build_cpu_s']:>6.1f} {r['size_mb']:>6.1f} {r['p50_ms']:>7.2f} "
                  f"{r['p95_ms']:>7.2f}  {kinds}  {verdict}")
    print("\nbuild s is wall time, cpu s the process's CPU time (steadier on a shared machine);")
    print("per kind: p50/p95 ms. Whoosh times are the full service path (parse, match, top hits,")
    print("facet counts, highlights, suggestion); so are PostgreSQL's (websearch_to_tsquery, ts_rank_cd, facet")
    print("counts in SQL, ts_headline for the page, pg_trgm suggestion). FTS5 runs top-20 with bm25 + highlight,")
    print("count and facet counts.")
    for row in results:
        p = row.get("postgres")
        if p:
            print(f"{row['size']:>8,}: postgres one-design update {p['update_s'] * 1000:.0f} ms, "
                  f"'sollar dryer' -> {p['suggestion']!r}")
        w = row.get("whoosh")
        if not w:
            continue
        print(f"{row['size']:>8,}: cold posting cache p50/p95 {w['cold_p50_ms']:.1f}/{w['cold_p95_ms']:.1f} ms, "
              f"first query after open {w['first_query_s'] * 1000:.0f} ms, "
              f"one-design update {w['update_s'] * 1000:.0f} ms, next query {w['query_after_update_s'] * 1000:.0f} ms, "
              f"'sollar dryer' -> {w['suggestion']!r}")


if __name__ == "__main__":
    sys.exit(main())
