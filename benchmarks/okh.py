"""OKH import benchmark: a harvested tree of N manifests, against design folders of the same designs.

For each N it writes a tree of N OKH-LOSH manifests (each with a README, a BOM
CSV, an image and a STEP part beside it; every fourth one forks an earlier one)
and, as the baseline measured in the same run, N ordinary static design folders
holding the same files. It times a first import of each into an empty
catalogue and a second (all unchanged), and prints the ratios OKH / folders.

    python benchmarks/okh.py [--sizes 25 100 --json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tomli_w  # noqa: E402

from opendesign.catalogue.importer import import_designs  # noqa: E402
from opendesign.config import load_settings  # noqa: E402
from opendesign.db import Database  # noqa: E402
from opendesign.okh.importer import import_manifests  # noqa: E402

STEP = b"ISO-10303-21;\nHEADER;\nENDSEC;\nDATA;\nENDSEC;\nEND-ISO-10303-21;\n" + b"/* padding */\n" * 2000


def _files(folder: Path, i: int) -> None:
    (folder / "parts").mkdir(parents=True)
    (folder / "README.md").write_text(f"# Bench design {i}\n\nA synthetic design for the OKH benchmark.\n")
    (folder / "bom.csv").write_text("item,quantity,unit,note\nM4 bolt,4,pcs,stainless\n")
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(4096))
    (folder / "parts" / "frame.step").write_bytes(STEP)


def okh_tree(root: Path, n: int) -> Path:
    for i in range(n):
        folder = root / f"project-{i:04d}"
        _files(folder, i)
        fork = f'fork-of = "https://example.org/bench/{i - 3}"\n' if i % 4 == 3 else ""
        (folder / "okh.toml").write_text(
            f'okhv = "OKH-LOSHv1.0"\nname = "Bench design {i}"\nrepo = "https://example.org/bench/{i}"\n'
            f'version = "1.0.0"\nlicense = "CERN-OHL-S-2.0"\nlicensor = "Bench <bench@example.org>"\n'
            f'function = "A synthetic design for the OKH benchmark."\nreadme = "README.md"\nbom = "bom.csv"\n'
            f'image = "photo.png"\n{fork}'
            f'outer-dimensions = "cube(size = [100, 50, 20])"\n\n[[part]]\nname = "frame"\n'
            f'source = "parts/frame.step"\nmaterial = "PETG"\nmanufacturing-process = "FDM"\n')
    return root


def folder_tree(root: Path, n: int) -> Path:
    for i in range(n):
        slug = f"bench-design-{i}"
        folder = root / slug
        _files(folder, i)
        parents = [f"bench-design-{i - 3}@1.0.0"] if i % 4 == 3 else []
        (folder / "design.toml").write_text(tomli_w.dumps({
            "slug": slug, "kind": "static", "title": f"Bench design {i}",
            "summary": "A synthetic design for the OKH benchmark.", "version": "1.0.0", "license": "CERN-OHL-S-2.0",
            "category": "tools-fabrication", "derived_from": parents, "authors": [{"name": "Bench"}],
            "parts": [{"name": "frame", "material": "PETG", "process": "fdm", "file": "parts/frame.step"}]}))
    return root


def _timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def run(n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        results = {}
        for name, make, importer in (("folders", folder_tree, import_designs), ("okh", okh_tree, import_manifests)):
            home = root / f"home-{name}"
            home.mkdir()
            db = Database(load_settings(home=str(home)))
            db.migrate()
            tree = make(root / name, n)
            first, report = _timed(lambda: importer(db, [tree]))
            assert report.ok, [r.errors for r in report.results if r.errors][:3]
            second, _ = _timed(lambda: importer(db, [tree]))
            db.dispose()
            results[name] = {"first": first, "second": second}
    okh, base = results["okh"], results["folders"]
    return {"manifests": n, "okh_first_s": round(okh["first"], 3), "folders_first_s": round(base["first"], 3),
            "ratio_first": round(okh["first"] / base["first"], 2), "okh_second_s": round(okh["second"], 3),
            "folders_second_s": round(base["second"], 3), "ratio_second": round(okh["second"] / base["second"], 2),
            "okh_per_manifest_ms": round(okh["first"] / n * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[25, 100])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [run(n) for n in args.sizes]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'N':>5} {'okh s':>8} {'folders s':>10} {'ratio':>6} {'re-import ratio':>16} {'ms/manifest':>12}")
    for r in rows:
        print(f"{r['manifests']:>5} {r['okh_first_s']:>8} {r['folders_first_s']:>10} {r['ratio_first']:>6} "
              f"{r['ratio_second']:>16} {r['okh_per_manifest_ms']:>12}")


if __name__ == "__main__":
    main()
