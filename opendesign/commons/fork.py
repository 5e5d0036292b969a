"""Fork a catalogue version into a new design folder.

The new folder holds the parent version's stored files exactly (so what is
forked is what was published, not whatever sits in the parent's folder now),
with ``design.toml`` edited in place (comments and layout kept) to the new
slug, version ``0.1.0``, ``derived_from = ["<parent>"]`` and a license the
parent allows. Nothing is imported: the designer edits, then runs
``opendesign import``.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import tomlkit
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..catalogue.queries import get_version
from ..errors import LicenseConflict, OpenDesignError
from ..licenses.compatibility import allowance, check_derivative, default_license
from ..licenses.spdx import LicenseExpressionError, normalise_expression
from ..manifests import load_design_folder
from ..manifests.loader import MANIFEST
from ..manifests.schema import SLUG_RE
from ..models import Design, DesignVersion
from .edges import parent_ref

FORK_VERSION = "0.1.0"


class ForkError(OpenDesignError):
    """A fork that cannot be made (bad slug, target exists)."""


@dataclass(frozen=True)
class Fork:
    """A fork written to disk."""

    path: Path
    slug: str
    parent: str
    license: str
    title: str
    files: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"path": str(self.path), "slug": self.slug, "version": FORK_VERSION, "derived_from": [self.parent],
                "license": self.license, "title": self.title, "files": list(self.files)}


def choose_license(parent: DesignVersion, requested: str | None) -> str:
    """The fork's license: *requested* if the parent allows it, else the parent's default.

    :raises LicenseConflict: for a no-derivatives parent, or a *requested*
        license the parent does not allow; the message names the parent, its
        license, the rule and the licenses that would be allowed.
    """
    ref = parent_ref(parent)
    allowed = allowance([ref])
    if not allowed.possible:
        raise LicenseConflict(f"{parent.ref} cannot be forked: {allowed.reason}")
    if requested is None:
        return default_license([ref])
    try:
        requested = normalise_expression(requested)
    except LicenseExpressionError as exc:
        raise LicenseConflict(f"--license: {exc}") from None
    problems = check_derivative(requested, [ref])
    if problems:
        raise LicenseConflict(f"license {requested} is not allowed for a fork of {parent.ref}: "
                              + " ".join(p.message for p in problems))
    return requested


def _edit_manifest(text: str, slug: str, parent: str, license_: str, title: str | None) -> str:
    doc = tomlkit.parse(text)
    doc["slug"] = slug
    doc["version"] = FORK_VERSION
    doc["license"] = license_
    if title is not None:
        doc["title"] = title
    doc["derived_from"] = [parent]
    # The parent's [reciprocity] weighs the parent's own parents; a fork has one parent and starts at the default.
    doc.pop("reciprocity", None)
    return tomlkit.dumps(doc)


def fork_files(parent: DesignVersion, new_slug: str, license_: str, title: str | None = None) -> dict[str, bytes]:
    """The files of a fork of *parent*, in memory (for publishing paths that write no folder).

    *license_* must already be allowed (see :func:`choose_license`).
    """
    files = {}
    for stored in parent.files:
        data = stored.data
        if stored.path == MANIFEST:
            data = _edit_manifest(data.decode("utf-8"), new_slug, parent.ref, license_, title).encode("utf-8")
        files[stored.path] = data
    return files


def _safe_relpath(path: str) -> PurePosixPath:
    rel = PurePosixPath(path)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise ForkError(f"stored file {path!r} has an unsafe path; refusing to write it")
    return rel


def fork(session: Session, source: str, new_slug: str, designs_dir: str | Path, *, title: str | None = None,
         license: str | None = None) -> Fork:
    """Write a fork of *source* (``slug`` or ``slug@version``) to ``designs_dir/new_slug``.

    The result is validated like any design folder before it is moved into
    place, so a fork is either complete and valid or not there at all.

    :raises ForkError: bad or taken slug, or the target folder exists.
    :raises LicenseConflict: the parent forbids derivatives or the license.
    :raises ManifestError: the fork would not be a valid design (e.g. a bad ``--title``).
    """
    if not re.match(SLUG_RE, new_slug) or not 2 <= len(new_slug) <= 64:
        raise ForkError(f"{new_slug!r} is not a valid slug (lower-case letters, digits and single hyphens, "
                        "2-64 characters, e.g. 'solar-dryer-xl')")
    parent = get_version(session, source)
    designs_dir = Path(designs_dir)
    target = designs_dir / new_slug
    if target.exists():
        raise ForkError(f"{target} already exists; pick another slug or remove the folder")
    if session.scalar(select(Design.id).where(Design.slug == new_slug)) is not None:
        raise ForkError(f"{new_slug!r} is already a design in the catalogue; pick another slug")
    license_ = choose_license(parent, license)

    files = fork_files(parent, new_slug, license_, title)

    designs_dir.mkdir(parents=True, exist_ok=True)
    # Built in a hidden staging folder (the importer skips dot-folders), then
    # moved into place in one rename.
    staging = Path(tempfile.mkdtemp(prefix=f".fork-{new_slug}-", dir=designs_dir))
    try:
        root = staging / new_slug
        for path, data in files.items():
            out = root.joinpath(*_safe_relpath(path).parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
        folder = load_design_folder(root, display=str(target))
        root.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Fork(target, new_slug, parent.ref, license_, folder.manifest.title, tuple(files))
