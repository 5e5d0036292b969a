"""``make bundles`` end to end, through the real render service (slow).

Each run uses its own designs folder, dist folder and OPENDESIGN_HOME, passed
to make as variables, so the repository's own ``dist/`` and ``var/`` are
never touched.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from opendesign.bundles import verify
from tests.conftest import PG_URL, REPO, SEED_DESIGNS, _truncate

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("renderers.service") is None, reason="render service not installed"),
    pytest.mark.skipif(shutil.which("make") is None, reason="GNU make not installed"),
]

#: A parent and its derivative: small, and exercises fork-of.
DESIGNS = ("hand-mill-spur-gear", "hand-mill-double-gear")


class Workspace:
    def __init__(self, root: Path, env: dict[str, str], template_db: Path | None):
        self.root = root
        self.designs = root / "designs"
        self.dist = root / "dist"
        self.home = root / "var"
        self.home.mkdir(parents=True)
        self.env = {**os.environ, **env, "OPENDESIGN_HOME": str(self.home)}
        if template_db is not None:  # SQLite: a fresh catalogue of its own
            shutil.copy(template_db, self.home / "opendesign.db")
            self.env["OPENDESIGN_DATABASE_URL"] = f"sqlite:///{self.home / 'opendesign.db'}"
        self.designs.mkdir()
        for slug in DESIGNS:
            shutil.copytree(SEED_DESIGNS / slug, self.designs / slug)

    def make(self, *targets: str, jobs: int = 1) -> subprocess.CompletedProcess:
        cmd = ["make", "-C", str(REPO), f"-j{jobs}", *targets, f"DESIGNS_DIR={self.designs}",
               f"DIST={self.dist}", "BUNDLE_REQUIRES=", f"OPENDESIGN_HOME={self.home}"]
        result = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    def zips(self) -> dict[str, Path]:
        return {p.name: p for p in sorted(self.dist.glob("*.zip"))}

    def snapshot(self) -> dict[str, tuple[int, int]]:
        """(mtime_ns, inode) of every file make could write."""
        paths = [p for p in self.dist.rglob("*") if p.is_file()] + [p for p in self.home.glob(".*stamp")]
        return {str(p): (p.stat().st_mtime_ns, p.stat().st_ino) for p in paths}


def _version(ws: Workspace, slug: str) -> str:
    return re.search(r'^version = "([^"]+)"', (ws.designs / slug / "design.toml").read_text(), re.M)[1]


@pytest.fixture
def workspace(tmp_path, env, db, _template_db):
    def make_ws(name: str) -> Workspace:
        if PG_URL:
            _truncate(db)  # from scratch: an empty catalogue (and each workspace has its own cache)
        return Workspace(tmp_path / name, env, None if PG_URL else _template_db)
    return make_ws


def test_make_bundles(workspace):
    first = workspace("first")
    first.make("bundles")
    zips = first.zips()
    assert sorted(zips) == sorted(f"{slug}-{_version(first, slug)}.zip" for slug in DESIGNS)
    for path in zips.values():
        assert verify(path).ok

    # A second run does nothing and touches nothing.
    before = first.snapshot()
    rerun = first.make("bundles")
    assert "opendesign bundle" not in rerun.stdout
    assert first.snapshot() == before
    question = subprocess.run(["make", "-C", str(REPO), "-q", "bundles", f"DESIGNS_DIR={first.designs}",
                               f"DIST={first.dist}", "BUNDLE_REQUIRES=", f"OPENDESIGN_HOME={first.home}"],
                              env=first.env, capture_output=True, text=True)
    assert question.returncode == 0, question.stdout + question.stderr

    # Editing one design (a new version, as published versions are immutable) builds one bundle.
    edited = DESIGNS[1]
    toml = first.designs / edited / "design.toml"
    toml.write_text(toml.read_text().replace('version = "1.0.0"', 'version = "1.0.1"', 1))
    readme = first.designs / edited / "README.md"
    readme.write_text(readme.read_text() + "\nPrint the second gear with 4 perimeters.\n")
    before = first.snapshot()
    result = first.make("bundles")
    assert result.stdout.count("opendesign bundle build") == 1, result.stdout
    after = first.snapshot()
    new = str(first.dist / f"{edited}-1.0.1.zip")
    assert new in after and new not in before
    assert {k: v for k, v in after.items() if k.endswith(".zip") and k != new} == \
        {k: v for k, v in before.items() if k.endswith(".zip")}
    assert verify(new).ok

    # From scratch again, in parallel: byte-identical zips.
    second = workspace("second")
    second.make("bundles", jobs=2)
    assert sorted(second.zips()) == sorted(zips)
    for name, path in second.zips().items():
        assert path.read_bytes() == zips[name].read_bytes(), name


def test_make_one_bundle(workspace):
    ws = workspace("one")
    target = f"{ws.dist}/{DESIGNS[0]}-{_version(ws, DESIGNS[0])}.zip"
    ws.make(target)
    assert list(ws.zips()) == [Path(target).name]
