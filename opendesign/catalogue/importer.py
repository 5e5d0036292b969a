"""``opendesign import``: sync design folders into the catalogue.

Every design is imported in its own transaction, so one invalid design never
stops the others and a failure leaves the catalogue exactly as it was for that
design. Parents are imported before their derivatives within one run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import Database
from ..errors import FieldError, ManifestError, OpenDesignError, VersionConflict
from ..manifests import DesignFolder, load_design_folder
from ..manifests.loader import MANIFEST
from ..models import Author, BomItem, Design, DesignFile, DesignVersion, Lineage, Parameter, Part, Tag
from . import origins
from .refs import parse_ref, version_key

#: Folders under a designs directory that are not designs.
RESERVED_FOLDERS = {"makers"}

CREATED, UPDATED, UNCHANGED, INVALID = "created", "updated", "unchanged", "invalid"


@dataclass
class ImportResult:
    path: str
    status: str
    slug: str | None = None
    version: str | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    """What one import run did; shared by the design and the maker imports."""

    results: list[ImportResult] = field(default_factory=list)
    #: Name of the per-item list in :meth:`as_dict`: ``designs`` or ``makers``.
    kind: str = "designs"

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def ok(self) -> bool:
        return self.count(INVALID) == 0

    def as_dict(self) -> dict:
        return {
            CREATED: self.count(CREATED),
            UPDATED: self.count(UPDATED),
            UNCHANGED: self.count(UNCHANGED),
            INVALID: self.count(INVALID),
            "errors": [{"path": r.path, "slug": r.slug, "errors": r.errors} for r in self.results if r.errors],
            self.kind: [{"path": r.path, "slug": r.slug, "status": r.status,
                         **({"version": r.version} if self.kind == "designs" else {})} for r in self.results],
        }


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """Design folders named by *paths*: a folder with a design.toml, or every subfolder of one without."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if (path / MANIFEST).exists() or not path.is_dir():
            found.append(path)
            continue
        for child in sorted(path.iterdir()):
            if child.is_dir() and not child.name.startswith((".", "_")) and child.name not in RESERVED_FOLDERS:
                found.append(child)
    return found


def _order_parents_first(folders: list[DesignFolder]) -> list[DesignFolder]:
    """Topological order over derived_from within the batch; stable otherwise."""
    by_ref = {f"{f.slug}@{f.version}": f for f in folders}
    ordered: list[DesignFolder] = []
    state: dict[str, int] = {}

    def visit(folder: DesignFolder) -> None:
        ref = f"{folder.slug}@{folder.version}"
        if state.get(ref) == 2:
            return
        if state.get(ref) == 1:  # a cycle; lineage checks report it on import
            return
        state[ref] = 1
        for parent in folder.manifest.derived_from:
            if parent in by_ref:
                visit(by_ref[parent])
        state[ref] = 2
        ordered.append(folder)

    for folder in folders:
        visit(folder)
    return ordered


def _get_or_create_tags(session: Session, names: list[str]) -> list[Tag]:
    if not names:
        return []
    existing = {t.name: t for t in session.scalars(select(Tag).where(Tag.name.in_(names)))}
    tags = []
    for name in names:
        tag = existing.get(name)
        if tag is None:
            tag = Tag(name=name)
            session.add(tag)
        tags.append(tag)
    return tags


def _resolve_parents(session: Session, folder: DesignFolder, display: str) -> list[DesignVersion]:
    parents: list[DesignVersion] = []
    errors: list[FieldError] = []
    for i, text in enumerate(folder.manifest.derived_from):
        ref = parse_ref(text)
        where = f"derived_from[{i}]"
        if ref.slug == folder.slug:
            errors.append(FieldError(display, where, f"{text!r}: a design cannot derive from itself"))
            continue
        design = session.scalar(select(Design).where(Design.slug == ref.slug))
        if design is None:
            errors.append(FieldError(display, where, f"{text!r}: no design {ref.slug!r} in the catalogue"))
            continue
        version = next((v for v in design.versions if v.version == ref.version), None)
        if version is None:
            known = ", ".join(sorted((v.version for v in design.versions), key=version_key)) or "none"
            errors.append(FieldError(display, where,
                                     f"{text!r}: design {ref.slug!r} has no version {ref.version} (published: {known})"))
            continue
        parents.append(version)
    if errors:
        raise ManifestError(errors)
    return parents


#: Checks run on every new version before it is written, each returning the
#: problems it found. The commons layer (license compatibility along lineage
#: edges) registers here; see :func:`register_check`.
NewVersionCheck = Callable[[Session, DesignFolder, list[DesignVersion], str], list[FieldError]]
_checks: list[NewVersionCheck] = []


def register_check(check: NewVersionCheck) -> NewVersionCheck:
    if check not in _checks:
        _checks.append(check)
    return check


def build_version(session: Session, folder: DesignFolder, parents: list[DesignVersion],
                  origin: str = origins.FOLDER) -> DesignVersion:
    """Create the rows of a new version (not yet added to a design)."""
    m = folder.manifest
    version = DesignVersion(
        version=m.version, title=m.title, summary=m.summary, license=m.license, category=m.category,
        readme=folder.readme, links=dict(m.links), manifest=m.model_dump(mode="json"),
        content_hash=folder.content_hash, origin=origin,
    )
    version.files = [DesignFile(path=p, sha256=hashlib.sha256(b).hexdigest(), size=len(b), data=b)
                     for p, b in sorted(folder.files.items())]
    version.parameters = [
        Parameter(position=i, name=p.name, type=p.type, default=p.default, min=p.min, max=p.max, step=p.step,
                  unit=p.unit, label=p.label, help=p.help, choices=p.choices)
        for i, p in enumerate(m.parameters)
    ]
    version.parts = [Part(position=i, name=p.name, material=p.material, process=p.process, quantity=p.quantity)
                     for i, p in enumerate(m.parts)]
    version.bom_items = [BomItem(position=i, item=b.item, quantity=b.quantity, unit=b.unit, note=b.note)
                         for i, b in enumerate(folder.bom)]
    version.authors = [Author(position=i, name=a.name, contact=a.contact) for i, a in enumerate(m.authors)]
    version.tags = _get_or_create_tags(session, list(m.tags))
    version.parents = [Lineage(parent=p, position=i) for i, p in enumerate(parents)]
    return version


def refresh_latest(design: Design) -> None:
    design.latest_version = max(design.versions, key=lambda v: version_key(v.version)) if design.versions else None


def import_folder(session: Session, folder: DesignFolder, display: str, origin: str = origins.FOLDER) -> str:
    """Write *folder* into the catalogue in *session*; return created/updated/unchanged.

    :param origin: where the folder came from (:mod:`.origins`). Identical content
        found again in the operator's designs folder makes an existing version
        :data:`~.origins.SEED`: the operator vouches for it.
    :raises OpenDesignError: when the folder cannot be imported; nothing is written.
    """
    manifest_file = f"{display}/{MANIFEST}"
    design = session.scalar(select(Design).where(Design.slug == folder.slug))
    if design is not None:
        existing = next((v for v in design.versions if v.version == folder.version), None)
        if existing is not None:
            if existing.content_hash == folder.content_hash:
                if origin == origins.SEED and existing.origin != origins.SEED:
                    existing.origin = origins.SEED
                return UNCHANGED
            raise VersionConflict(
                f"{manifest_file}: version: {folder.version} is already published with different content "
                f"(published sha256 {existing.content_hash[:12]}, folder sha256 {folder.content_hash[:12]}); "
                f"released versions are immutable — bump the version (e.g. to "
                f"{version_key(folder.version).bump_patch()}) to publish the change"
            )
    parents = _resolve_parents(session, folder, manifest_file)
    problems = [p for check in _checks for p in check(session, folder, parents, manifest_file)]
    if problems:
        raise ManifestError(problems)
    status = UPDATED if design is not None else CREATED
    with session.no_autoflush:
        if design is None:
            design = Design(slug=folder.slug)
            session.add(design)
        version = build_version(session, folder, parents, origin)
        design.versions.append(version)
    session.flush()
    refresh_latest(design)
    return status


def import_designs(db: Database, paths: Iterable[str | Path],
                   progress: Callable[[ImportResult], None] | None = None) -> ImportReport:
    """Validate and import every design folder under *paths*, one transaction each.

    Folders inside the configured ``designs_dir`` are recorded as the operator's
    seed (:data:`~.origins.SEED`), any other as :data:`~.origins.FOLDER`.
    """
    report = ImportReport()
    loaded: list[tuple[DesignFolder, str]] = []
    seen: dict[str, str] = {}

    def record(result: ImportResult) -> None:
        report.results.append(result)
        if progress:
            progress(result)

    for path in discover(paths):
        display = str(path).rstrip("/")
        try:
            folder = load_design_folder(path, display=display)
        except ManifestError as exc:
            record(ImportResult(display, INVALID, slug=path.name, errors=[str(e) for e in exc.errors]))
            continue
        if folder.slug in seen:
            record(ImportResult(display, INVALID, slug=folder.slug, errors=[
                f"{display}/{MANIFEST}: slug: {folder.slug!r} is also the slug of {seen[folder.slug]}; "
                "slugs must be unique"]))
            continue
        seen[folder.slug] = display
        loaded.append((folder, display))

    displays = {id(f): d for f, d in loaded}
    for folder in _order_parents_first([f for f, _ in loaded]):
        display = displays[id(folder)]
        try:
            with db.session() as session:
                status = import_folder(session, folder, display,
                                       origins.folder_origin(folder.path, db.settings.designs_dir))
        except ManifestError as exc:
            record(ImportResult(display, INVALID, folder.slug, folder.version, [str(e) for e in exc.errors]))
        except OpenDesignError as exc:
            record(ImportResult(display, INVALID, folder.slug, folder.version, [str(exc)]))
        except IntegrityError:
            # Another writer published the same slug or version between our
            # check and our commit; ours was rolled back whole.
            record(ImportResult(display, INVALID, folder.slug, folder.version, [
                f"{display}/{MANIFEST}: {folder.slug}@{folder.version} was published concurrently by another "
                "import; run the import again"]))
        else:
            record(ImportResult(display, status, folder.slug, folder.version))
    return report
