"""``opendesign okh import``: OKH manifests into the catalogue, as designs of origin ``okh``.

A manifest whose folder holds the ``design.toml`` and model source it references
(a bundle, an exported folder) gives back that design (:mod:`.source`); any
other becomes a ``static`` design of the files it references.

Each manifest is described (:mod:`.mapping`), its files read from beside it
(:mod:`.materialise`), written to a private staging folder and validated by
the same loader as any design folder, then imported in a transaction of its
own by the same importer, with origin :data:`~opendesign.catalogue.origins.OKH`
(so it renders only where the sandbox isolates it). A refused manifest writes
nothing; the others go on. Parents named by ``fork-of`` / ``derivative-of``
must be in the catalogue (or earlier in the same run), and the derivative's
license is checked against them like any fork's.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import commons  # noqa: F401  (installs the license check on lineage edges)
from ..catalogue import origins
from ..catalogue.importer import CREATED, INVALID, UNCHANGED, UPDATED, import_folder
from ..catalogue.refs import version_key
from ..db import Database
from ..errors import FieldError, ManifestError, OpenDesignError, VersionConflict
from ..manifests import content_hash, load_design_folder
from ..manifests.loader import MANIFEST
from ..models import Design, DesignVersion
from .manifest import NO_SUCH_PATH, RawManifest, discover_manifests, read_manifest
from .mapping import Description, describe
from .materialise import Materialised, materialise

STATUSES = (CREATED, UPDATED, UNCHANGED, INVALID)


@dataclass
class OkhResult:
    path: str
    status: str
    slug: str | None = None
    version: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"path": self.path, "status": self.status, "slug": self.slug, "version": self.version,
                "errors": self.errors, "warnings": self.warnings, "missing": self.missing}


@dataclass
class OkhReport:
    results: list[OkhResult] = field(default_factory=list)
    #: Problems of the run itself (a path that does not exist, a skipped duplicate manifest).
    notes: list[str] = field(default_factory=list)
    #: Paths given that name no file or folder: the run did not do what was asked.
    unreadable: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def ok(self) -> bool:
        return self.count(INVALID) == 0 and not self.unreadable

    def as_dict(self) -> dict:
        return {**{s: self.count(s) for s in STATUSES}, "notes": self.notes,
                "manifests": [r.as_dict() for r in self.results]}


@dataclass
class _Prepared:
    raw: RawManifest
    desc: Description
    made: Materialised

    @property
    def ref(self) -> str:
        return f"{self.desc.slug}@{self.desc.version}"


def prepare(path: Path) -> _Prepared:
    """Read, describe and materialise one manifest. :raises ManifestError: it cannot make a design."""
    raw = read_manifest(path)
    desc = describe(raw)
    made = materialise(raw, desc) if not desc.errors else Materialised({}, {})
    if desc.errors:
        raise ManifestError(desc.errors)
    return _Prepared(raw, desc, made)


def repo_index(session: Session) -> dict[str, str]:
    """Repository URL -> slug of every design that names one (what an OKH ``fork-of`` usually points at)."""
    index: dict[str, str] = {}
    rows = session.execute(select(Design.slug, DesignVersion.links).join(DesignVersion.design))
    for slug, links in rows:
        repo = (links or {}).get("repo")
        if isinstance(repo, str):
            index.setdefault(repo.rstrip("/"), slug)
    return index


def resolve_parents(session: Session, prepared: _Prepared, base_url: str,
                    repos: dict[str, str] | None = None) -> list[str]:
    """``slug@version`` of each parent the manifest names. :raises ManifestError: one is not in the catalogue."""
    refs: list[str] = []
    errors: list[FieldError] = []
    repos = repo_index(session) if repos is None else repos
    for key, text in prepared.desc.parents:
        ref = parent_ref(session, text, base_url, repos)
        if ref is None:
            errors.append(FieldError(prepared.desc.display, key,
                                     f"{text!r} names no design in the catalogue; import the parent first "
                                     "(a derivative is license-checked against its parent)"))
        elif ref.split("@")[0] == prepared.desc.slug:
            errors.append(FieldError(prepared.desc.display, key, f"{text!r} is this design itself"))
        elif ref not in refs:
            refs.append(ref)
    if errors:
        raise ManifestError(errors)
    return refs


def parent_ref(session: Session, text: str, base_url: str, repos: dict[str, str]) -> str | None:
    """The catalogue version *text* names: ``slug@version``, ``slug``, a design page URL, or a repo URL
    (*repos*: :func:`repo_index`)."""
    value = text.strip().rstrip("/")
    base = base_url.rstrip("/") + "/designs/"
    if value.startswith(base):
        value = value[len(base):].replace("/", "@", 1)
    slug, _, version = value.partition("@")
    design = session.scalar(select(Design).where(Design.slug == slug)) if "/" not in slug else None
    if design is None and value in repos:
        design = session.scalar(select(Design).where(Design.slug == repos[value]))
        version = ""
    if design is None:
        return None
    if version:
        return f"{design.slug}@{version}" if any(v.version == version for v in design.versions) else None
    latest = max(design.versions, key=lambda v: version_key(v.version), default=None)
    return f"{design.slug}@{latest.version}" if latest else None


def stage_and_import(session: Session, prepared: _Prepared, parents: list[str]) -> str:
    """Write the design folder to a private staging folder, validate it, import it; return the status."""
    import tomlkit

    desc, made = prepared.desc, prepared.made
    files = dict(made.files)
    if parents and made.folder is None:
        files[MANIFEST] = tomlkit.dumps({**made.design, "derived_from": parents}).encode()
    design = session.scalar(select(Design).where(Design.slug == desc.slug))
    if design is not None and not any(v.origin == origins.OKH for v in design.versions):
        raise ManifestError([FieldError(desc.display, "name", f"the slug {desc.slug!r} belongs to a design that "
                                                              "was not taken in from OKH; rename the project")])
    if design is not None and "repo" in desc.links:
        # Two projects whose names make one slug must not become versions of one design.
        repos = {v.links.get("repo") for v in design.versions if v.origin == origins.OKH and v.links.get("repo")}
        if repos and desc.links["repo"] not in repos:
            raise ManifestError([FieldError(desc.display, "name", (
                f"makes the slug {desc.slug!r}, which belongs to another OKH project ({', '.join(sorted(repos))}); "
                f"this manifest's repo is {desc.links['repo']}; rename the project"))])
    if design is not None:
        # Unchanged content needs no staging: the same bytes make the same folder (the loader's hash).
        same = next((v for v in design.versions if v.version == desc.version), None)
        if same is not None and same.content_hash == content_hash(files):
            return UNCHANGED
    if made.folder is not None:
        return _import_restored(session, prepared)
    with tempfile.TemporaryDirectory(prefix="okh-") as tmp:
        folder_path = Path(tmp) / desc.slug
        for rel, data in files.items():
            target = folder_path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        try:
            folder = load_design_folder(folder_path, display=str(prepared.raw.path.parent))
        except ManifestError as exc:
            raise ManifestError([_renamed(e, prepared) for e in exc.errors]) from None
    try:
        return import_folder(session, folder, desc.display, origin=origins.OKH)
    except VersionConflict:
        raise VersionConflict(
            f"{desc.display}: version: {desc.version} of {desc.slug!r} is already in the catalogue with different "
            f"content (the manifest or a file it references changed); released versions are immutable — bump "
            f"the version in the manifest (e.g. to {version_key(desc.version).bump_patch()})") from None
    except ManifestError as exc:
        raise ManifestError([_renamed(e, prepared) for e in exc.errors]) from None


def _import_restored(session: Session, prepared: _Prepared) -> str:
    """Import the design restored from its source (:mod:`.source`): its design.toml, as written, is the
    design, so errors name that file (and its ``derived_from`` the parents) rather than the manifest."""
    desc = prepared.desc
    try:
        return import_folder(session, prepared.made.folder, str(prepared.raw.path.parent), origin=origins.OKH)
    except VersionConflict:
        raise VersionConflict(
            f"{desc.display}: version: {desc.version} of {desc.slug!r} is already in the catalogue with different "
            f"content (design.toml, the model or a file the manifest references changed); released versions are "
            f"immutable — bump the version in design.toml (e.g. to {version_key(desc.version).bump_patch()})"
        ) from None


def _renamed(error: FieldError, prepared: _Prepared) -> FieldError:
    """An error about the generated design.toml, told about the manifest it came from."""
    if error.file.endswith(f"/{MANIFEST}"):
        field_name = error.field.replace("derived_from", "fork-of")
        head, dot, rest = field_name.partition(".")
        if head in prepared.made.part_keys:  # parts[i].file -> part[j].file: the manifest's own numbering
            field_name = prepared.made.part_keys[head] + dot + rest
        return FieldError(prepared.desc.display, field_name, error.reason)
    return error


def _order(prepared: list[_Prepared], base_url: str) -> list[_Prepared]:
    """Parents first when a parent's manifest is in the same run (by slug@version, page URL or repo)."""
    keys: dict[str, _Prepared] = {}
    for item in prepared:
        keys[item.ref] = item
        keys.setdefault(item.desc.slug, item)
        if "repo" in item.desc.links:
            keys.setdefault(item.desc.links["repo"].rstrip("/"), item)
    base = base_url.rstrip("/") + "/designs/"
    ordered: list[_Prepared] = []
    state: dict[int, int] = {}

    def visit(item: _Prepared) -> None:
        if state.get(id(item)):
            return
        state[id(item)] = 1
        for _, text in item.desc.parents:
            value = text.strip().rstrip("/")
            if value.startswith(base):
                value = value[len(base):].replace("/", "@", 1)
            parent = keys.get(value)
            if parent is not None and parent is not item:
                visit(parent)
        ordered.append(item)

    for item in prepared:
        visit(item)
    return ordered


def import_manifests(db: Database, paths: Iterable[str | Path],
                     progress: Callable[[OkhResult], None] | None = None) -> OkhReport:
    """Import every manifest named by *paths* (files, or folder trees holding them)."""
    report = OkhReport()
    manifests, notes = discover_manifests(list(paths))
    report.notes = [str(n) for n in notes]
    report.unreadable = [n.file for n in notes if n.reason == NO_SUCH_PATH]
    base_url = db.settings.base_url
    ready: list[_Prepared] = []
    seen: dict[str, str] = {}

    def record(result: OkhResult) -> None:
        report.results.append(result)
        if progress:
            progress(result)

    for path in manifests:
        try:
            item = prepare(path)
        except ManifestError as exc:
            record(OkhResult(str(path), INVALID, errors=[str(e) for e in exc.errors]))
            continue
        if item.desc.slug in seen:
            record(OkhResult(str(path), INVALID, item.desc.slug, item.desc.version, errors=[
                f"{path}: name: makes the slug {item.desc.slug!r}, as {seen[item.desc.slug]} does; "
                "slugs must be unique"]))
            continue
        seen[item.desc.slug] = str(path)
        ready.append(item)

    with db.session() as session:
        repos = repo_index(session)
    for item in _order(ready, base_url):
        result = OkhResult(item.desc.display, INVALID, item.desc.slug, item.desc.version,
                           warnings=[str(w) for w in item.desc.warnings],
                           missing=[str(m) for m in item.made.missing])
        try:
            with db.session() as session:
                # A restored design's parents are its design.toml's derived_from, resolved by the importer.
                parents = [] if item.made.folder is not None else resolve_parents(session, item, base_url, repos)
                result.status = stage_and_import(session, item, parents)
            if "repo" in item.desc.links:
                repos.setdefault(item.desc.links["repo"].rstrip("/"), item.desc.slug)
        except ManifestError as exc:
            result.errors = [str(e) for e in exc.errors]
        except OpenDesignError as exc:
            result.errors = [str(exc)]
        except IntegrityError:
            result.errors = [f"{item.desc.display}: {item.ref} was imported concurrently by another run; "
                             "run the import again"]
        record(result)
    return report

