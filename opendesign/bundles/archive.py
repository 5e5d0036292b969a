"""Reproducible zips with a ``MANIFEST.sha256``, and their verification.

Every bundle is one top-level folder ``<name>/``. Entries are sorted, dated
1980-01-01 (the zip epoch), mode 0644, deflated at a fixed level, so the same
files always give the same bytes. ``MANIFEST.sha256`` lists every other file
in ``sha256sum`` format, so ``sha256sum -c MANIFEST.sha256`` works in the
unpacked folder too.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..home import public_mode

#: Bumped whenever the layout or any generated file changes shape (part of make's stamp).
BUNDLE_FORMAT = "1"
MANIFEST = "MANIFEST.sha256"
#: Files a bundle must hold besides the manifest.
REQUIRED = ("LICENSE", "ATTRIBUTION", "okh.toml")
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644
COMPRESS_LEVEL = 9


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_text(files: Mapping[str, bytes]) -> str:
    """``<sha256>  <path>`` per file, sorted by path (``sha256sum`` format)."""
    return "".join(f"{sha256(files[path])}  {path}\n" for path in sorted(files) if path != MANIFEST)


def zip_bytes(root: str, files: Mapping[str, bytes]) -> bytes:
    """The bundle zip of *files* (paths relative to the bundle) under ``root/``, with its manifest."""
    entries = {path: data for path, data in files.items() if path != MANIFEST}
    entries[MANIFEST] = manifest_text(entries).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(entries):
            _check_path(path)
            info = zipfile.ZipInfo(f"{root}/{path}", date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the mode below is honoured on extraction
            info.external_attr = FILE_MODE << 16
            archive.writestr(info, entries[path], compresslevel=COMPRESS_LEVEL)
    return out.getvalue()


def _check_path(path: str) -> None:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or "\\" in path:
        raise ValueError(f"unsafe path in bundle: {path!r}")


def write_atomic(path: Path, data: bytes) -> bool:
    """Write *data* to *path* via a temporary file and a rename; leave it alone if equal.

    :returns: whether the file was written (``False`` when it already held *data*,
        so a rebuild with identical output does not touch it).
    """
    path = Path(path)
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, public_mode(0o644))  # mkstemp made it 0600; a private home keeps it so
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


@dataclass
class VerifyReport:
    """Outcome of :func:`verify`: ``problems`` holds ``(file, reason)`` pairs."""

    path: str
    root: str = ""
    files: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, name: str, reason: str) -> None:
        self.problems.append((name, reason))

    def as_dict(self) -> dict:
        return {"path": self.path, "ok": self.ok, "root": self.root, "files": self.files,
                "problems": [{"file": f, "reason": r} for f, r in self.problems]}


def _parse_manifest(text: str, report: VerifyReport) -> dict[str, str]:
    expected: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest) or not name:
            report.add(MANIFEST, f"line {number} is not '<sha256>  <path>'")
            continue
        if name in expected:
            report.add(name, f"listed twice in {MANIFEST}")
        expected[name] = digest
    return expected


def verify(path: str | Path) -> VerifyReport:
    """Check a bundle: every hash in the manifest, no missing or extra file, required files present."""
    report = VerifyReport(str(path))
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        report.add(str(path), f"not a readable zip file: {exc}")
        return report
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        roots = {i.filename.split("/", 1)[0] for i in infos}
        if len(roots) != 1 or any("/" not in i.filename for i in infos):
            report.add(str(path), "a bundle holds exactly one top-level folder")
            return report
        report.root = root = roots.pop()
        members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename[len(root) + 1:]
            if name in members:
                report.add(name, "appears twice in the zip")
            members[name] = info
        report.files = len(members)
        if MANIFEST not in members:
            report.add(MANIFEST, "missing")
            return report
        try:
            expected = _parse_manifest(archive.read(members[MANIFEST]).decode("utf-8"), report)
        except (zipfile.BadZipFile, zlib.error, UnicodeDecodeError) as exc:
            report.add(MANIFEST, f"unreadable: {exc}")
            return report
        for name in sorted(expected):
            if name not in members:
                report.add(name, f"missing (listed in {MANIFEST})")
                continue
            try:
                digest = sha256(archive.read(members[name]))
            except (zipfile.BadZipFile, zlib.error, OSError) as exc:
                report.add(name, f"corrupt: {exc}")
                continue
            if digest != expected[name]:
                report.add(name, f"sha256 {digest} does not match {MANIFEST} ({expected[name]})")
        for name in sorted(set(members) - set(expected) - {MANIFEST}):
            report.add(name, f"extra file (not listed in {MANIFEST})")
        for name in REQUIRED:
            if name not in expected and name not in members:
                report.add(name, "missing (every bundle must hold it)")
    return report
