"""Removing designs or versions from the catalogue (an administrator's act).

Versions are immutable but not undeletable: a design published by mistake can
be withdrawn. A version that others derive from cannot be removed, because the
derivatives' attribution chain would lose a link.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import LineageError
from ..models import Contribution, DesignVersion
from .importer import refresh_latest
from .queries import get_design, get_version
from .refs import parse_ref


def _refuse_if_derived(versions: list[DesignVersion]) -> None:
    removed = {v.id for v in versions}
    for version in versions:
        children = sorted(edge.child.ref for edge in version.children if edge.child_id not in removed)
        if children:
            raise LineageError(f"cannot remove {version.ref}: {', '.join(children)} derive from it; "
                               "remove the derivatives first")


def _refuse_if_in_ledger(session: Session, versions: list[DesignVersion], whole_design: bool) -> None:
    """The reciprocity ledger is append-only: what makers gave to a design stays on record, and so does it."""
    ids = [v.id for v in versions]
    where = Contribution.version_id.in_(ids)
    if whole_design and versions:
        where = where | (Contribution.design_id == versions[0].design_id)
    entries = session.scalar(select(func.count()).select_from(Contribution).where(where)) or 0
    if entries:
        names = ", ".join(sorted(v.ref for v in versions))
        raise LineageError(f"cannot remove {names}: the reciprocity ledger records {entries} contribution(s) to it, "
                           "and the ledger is append-only")


def remove(session: Session, ref: str) -> list[str]:
    """Remove ``slug`` (every version) or ``slug@version``; return the removed refs."""
    parsed = parse_ref(ref)
    if parsed.version is None:
        design = get_design(session, parsed.slug)
        versions = list(design.versions)
        _refuse_if_derived(versions)
        _refuse_if_in_ledger(session, versions, whole_design=True)
        refs = sorted(v.ref for v in versions)
        design.latest_version = None
        session.flush()
        session.delete(design)
        return refs
    version = get_version(session, parsed)
    _refuse_if_derived([version])
    _refuse_if_in_ledger(session, [version], whole_design=len(version.design.versions) == 1)
    design = version.design
    removed = version.ref
    design.versions.remove(version)
    session.delete(version)
    session.flush()
    refresh_latest(design)
    if not design.versions:
        session.delete(design)
    return [removed]
