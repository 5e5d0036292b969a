"""Import maker files into the catalogue, one transaction per maker.

Idempotent like the design import: an unchanged file (same sha256) leaves its
maker as it is; a changed file replaces the maker's fields and productions,
and records the contributions and attestations the catalogue does not hold yet
(the ledger is append-only: see :mod:`..ledger.entries`). Verdicts are
re-evaluated on every import, changed or not, so they follow the current
license rules and dates.

A maker whose file was removed stays in the catalogue: a production record is
history, and removing it should be a deliberate act, not a side effect of a
missing file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...accounts import audit
from ...catalogue.importer import CREATED, INVALID, UNCHANGED, UPDATED, ImportReport, ImportResult
from ...db import Database
from ...errors import FieldError, ManifestError
from ...models import Maker, Production
from .. import compliance
from .loader import MakerSource, discover, load_maker_file, resolve


def _result(path: str, status: str, slug: str | None = None, errors: list[str] | None = None) -> ImportResult:
    return ImportResult(path, status, slug=slug, errors=errors or [])


def import_maker(session: Session, source: MakerSource) -> str:
    """Write one validated maker file in *session*; return created/updated/unchanged.

    :raises ManifestError: when the file names designs the catalogue lacks, or would edit the ledger.
    """
    # The ledger builds on this package's schema, so it is imported when used, not with the package.
    from ..ledger.attestations import sync_file_attestations
    from ..ledger.entries import sync_file_entries

    resolved = resolve(session, source)
    spec = source.spec
    maker = session.scalar(select(Maker).where(Maker.slug == spec.slug))
    if maker is not None and maker.owner_id is not None:
        # A maker registered on the web is managed by its owner; a file must
        # never overwrite what they claimed.
        raise ManifestError([FieldError(source.display, "slug",
                                        f"maker {spec.slug!r} is managed by its owner's account on the web; "
                                        "a maker file cannot replace it (rename or remove the file)")])
    if maker is not None and maker.source_hash == source.source_hash:
        for production in maker.productions:
            compliance.refresh(production)
        return UNCHANGED
    status = CREATED if maker is None else UPDATED
    if maker is None:
        maker = Maker(slug=spec.slug)
        session.add(maker)
    maker.name = spec.name
    maker.legal_form = spec.legal_form
    maker.country = spec.country
    maker.website = spec.website
    maker.description = spec.description
    maker.source_hash = source.source_hash
    # Rows reference catalogue objects already in the session; flushing
    # half-built rows would only warn, so build them all before the flush.
    with session.no_autoflush:
        maker.productions = [
            Production(design_version=version, modified=p.modified, modified_source=p.modified_source,
                       attribution=p.attribution, price=p.price, currency=p.currency, regions=list(p.regions),
                       units=p.units, period_start=p.period_start, period_end=p.period_end,
                       source_location=p.source_location, notice=p.notice)
            for p, version in zip(spec.productions, resolved.productions, strict=True)
        ]
        entries = sync_file_entries(session, maker, list(spec.contributions), resolved.contributions, source.display)
        attestations = sync_file_attestations(session, maker, list(spec.attestations), source.display)
    for production in maker.productions:
        compliance.refresh(production)
    session.flush()
    _audit(session, source.display, maker, entries, attestations)
    return status


def _audit(session: Session, display: str, maker: Maker, entries, attestations) -> None:
    """One AuditEvent per entry and attestation the file added: entering the ledger is a state change."""
    for e in entries:
        audit.record(session, "ledger.correct" if e.corrects is not None else "ledger.record", audit.OK,
                     target=f"{e.entry_id}: {maker.slug} -> {e.design.slug}",
                     detail={"entry": e.entry_id, "to": "claimed", "corrects": e.corrects.entry_id if e.corrects
                             else None, "via": "file", "file": display})
    for a in attestations:
        audit.record(session, "attestation.record", audit.OK, target=f"{maker.slug}: {a.key}",
                     detail={"attestation": a.key, "registry_id": a.registry_id, "valid_until": str(a.valid_until),
                             "via": "file", "file": display})


def import_makers(db: Database, paths: Iterable[str | Path],
                  progress: Callable[[ImportResult], None] | None = None) -> ImportReport:
    """Validate and import every maker file under *paths* (folders or files)."""
    report = ImportReport(kind="makers")
    seen: dict[str, str] = {}

    def record(result: ImportResult) -> None:
        report.results.append(result)
        if progress:
            progress(result)

    for path in discover(paths):
        display = str(path)
        try:
            source = load_maker_file(path, display)
        except ManifestError as exc:
            record(_result(display, INVALID, path.stem, [str(e) for e in exc.errors]))
            continue
        if source.slug in seen:
            record(_result(display, INVALID, source.slug, [
                str(FieldError(display, "slug", f"{source.slug!r} is also the slug of {seen[source.slug]}"))]))
            continue
        seen[source.slug] = display
        try:
            with db.session() as session:
                status = import_maker(session, source)
        except ManifestError as exc:
            record(_result(display, INVALID, source.slug, [str(e) for e in exc.errors]))
        except IntegrityError:
            record(_result(display, INVALID, source.slug, [
                f"{display}: maker {source.slug!r} was written concurrently by another import; run the import again"]))
        else:
            record(_result(display, status, source.slug))
    return report


def makers_dirs(paths: Iterable[str | Path]) -> list[Path]:
    """The makers folders that go with design *paths*: ``<path>/makers``, or *path* itself if it is one."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        candidate = path if path.name == "makers" else path / "makers"
        if candidate.is_dir() and candidate not in found:
            found.append(candidate)
    return found
