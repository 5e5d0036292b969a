"""CLI start-up benchmark: ``opendesign --help``, ``--version`` and ``search`` against ``import click``.

Each scenario is a fresh interpreter, timed from start to exit (what a user
or a script waits for). The baseline, ``python -c "import click"``, runs in
the same rounds, interleaved with the others, so a busy machine slows them
alike; each command is reported as a ratio of its median to the baseline's
(target: 2x for ``--help`` and ``--version``). ``search`` runs against a
throw-away home holding the seed designs, with its index already built.

``search's libraries`` is a reference, not an opendesign command: a bare
interpreter importing what a search of an embedded catalogue cannot do
without (click, numpy for the engine, Whoosh's index, query parser and
searcher, pydantic building one validator as the settings do). It is the floor
below which removing opendesign's own imports cannot bring ``search``.
``click and Whoosh`` imports only click and those Whoosh modules: what a search
would cost even with an engine that needed neither numpy nor pydantic.

``PYTHONDONTWRITEBYTECODE`` (set in some environments) makes every run compile
opendesign's modules from source while the installed libraries keep their
bytecode; ``--bytecode`` gives every scenario bytecode cached in a private
folder (``PYTHONPYCACHEPREFIX``), as an installed opendesign has.

With ``--before PATH`` (a checkout of an older opendesign, e.g. the main
branch before the lazy CLI) the same commands are also timed from there.

    .venv/bin/python benchmarks/cli_start.py [--rounds 15] [--before /path/to/old/checkout] [--bytecode] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUN_CLI = "import sys; from opendesign.cli import main; sys.exit(main())"
TARGET = 2.0
#: What search must import: the engine's numpy, the Whoosh modules it opens and queries an index with, and
#: pydantic's validator machinery (plugins discovered through importlib.metadata) that Settings needs.
WHOOSH = "import click, whoosh.index, whoosh.qparser, whoosh.searching, whoosh.codec.whoosh3"
SEARCH_LIBRARIES = f"{WHOOSH}, numpy, pydantic; pydantic.TypeAdapter(float).validate_python('0.5')"

SCENARIOS = {
    "import click": ["-c", "import click"],
    "opendesign --help": ["-c", RUN_CLI, "--help"],
    "opendesign --version": ["-c", RUN_CLI, "--version"],
    "opendesign search solar dryer": ["-c", RUN_CLI, "search", "solar", "dryer"],
    "opendesign search --json": ["-c", RUN_CLI, "search", "solar", "dryer", "--json"],
    "search's libraries": ["-c", SEARCH_LIBRARIES],
    "click and Whoosh": ["-c", WHOOSH],
}
#: Scenarios that do not depend on the checkout: timed once, from this one.
REFERENCES = ("import click", "search's libraries", "click and Whoosh")


def _env(source: Path, home: Path, pycache: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(source), "OPENDESIGN_HOME": str(home)}
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def _prepare_home(home: Path, source: Path) -> None:
    """The seed commons imported (which builds the search index) into *home*."""
    out = subprocess.run([sys.executable, "-c", RUN_CLI, "import", str(REPO / "designs")], env=_env(source, home),
                         cwd=home.parent, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        sys.exit(f"setup failed: opendesign import exited {out.returncode}:\n{out.stderr[-2000:]}")


def _time_once(args: list[str], env: dict[str, str], cwd: Path) -> float:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, *args], env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, timeout=300)
    seconds = time.perf_counter() - t0
    if out.returncode != 0:
        sys.exit(f"{args}: exited {out.returncode}:\n{out.stderr[-2000:]}")
    return seconds


def _summary(samples: list[float], baseline: float) -> dict:
    ordered = sorted(samples)
    median = statistics.median(ordered)
    return {"median_ms": round(median * 1000, 1), "min_ms": round(ordered[0] * 1000, 1),
            "p90_ms": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))] * 1000, 1),
            "ratio_to_click": round(median / baseline, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="runs of each scenario (interleaved)")
    parser.add_argument("--before", type=Path, help="an older checkout to time the same commands from")
    parser.add_argument("--bytecode", action="store_true",
                        help="cache bytecode for every scenario in a private folder (as an install has)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="opendesign-cli-start-"))
    try:
        sources = {"this checkout": REPO}
        if args.before:
            sources["before"] = args.before.resolve()
        pycache = work / "pycache" if args.bytecode else None
        runs = []  # (label, scenario, env, cwd)
        for label, source in sources.items():
            home = work / f"home-{len(runs)}"
            home.mkdir()
            _prepare_home(home, source)
            for name, argv in SCENARIOS.items():
                if name in REFERENCES and label != "this checkout":
                    continue
                runs.append((label, name, argv, _env(source, home, pycache)))
        if pycache is not None:  # the first run of each writes its bytecode; none of the timed ones do
            for _label, _name, argv, env in runs:
                _time_once(argv, env, work)
        samples: dict[tuple[str, str], list[float]] = {(label, name): [] for label, name, _, _ in runs}
        for _ in range(args.rounds):
            for label, name, argv, env in runs:
                samples[(label, name)].append(_time_once(argv, env, work))
        baseline = statistics.median(samples[("this checkout", "import click")])
        results = [{"source": label, "command": name, **_summary(values, baseline)}
                   for (label, name), values in samples.items()]
        bytecode = "cached (--bytecode)" if args.bytecode else (
            "opendesign's compiled every run (PYTHONDONTWRITEBYTECODE)" if os.environ.get("PYTHONDONTWRITEBYTECODE")
            else "as Python writes it")
        report = {"rounds": args.rounds, "python": sys.version.split()[0], "load_average": os.getloadavg()[0],
                  "target_ratio": TARGET, "bytecode": bytecode, "results": results}
        if args.json:
            print(json.dumps(report, indent=2))
            return
        print(f"{args.rounds} rounds, interleaved; 1-min load average {report['load_average']:.2f}; "
              f"target: --help and --version within {TARGET:g}x of `import click`; bytecode: {bytecode}")
        print(f"{'source':<14} {'command':<32} {'median':>9} {'min':>9} {'p90':>9} {'x click':>8}")
        for r in results:
            print(f"{r['source']:<14} {r['command']:<32} {r['median_ms']:>7.1f}ms {r['min_ms']:>7.1f}ms "
                  f"{r['p90_ms']:>7.1f}ms {r['ratio_to_click']:>7.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
