"""The derivation graph: a DAG over design *versions*.

An edge (a :class:`~opendesign.models.Lineage` row) says a child version
derives from a parent version. Versions of one design are not linked to each
other: ``rocket-stove@1.1.0`` is a new release, not a derivative, of
``rocket-stove@1.0.0``.

The graph is walked one level per query, so a question about one design
costs as many queries as its lineage is deep, never a load of the catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..catalogue.queries import get_design, get_version
from ..catalogue.refs import version_key
from ..errors import LineageError, OpenDesignError
from ..models import Design, DesignVersion, Lineage


@dataclass(frozen=True)
class Edge:
    """``child`` derives from ``parent``; ``position`` is the parent's place in ``derived_from``."""

    parent: DesignVersion
    child: DesignVersion
    position: int = 0


@dataclass
class Family:
    """A design's versions with every ancestor and descendant of them, and the edges among those."""

    slug: str
    versions: list[DesignVersion] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    @property
    def designs(self) -> list[str]:
        return sorted({v.design.slug for v in self.versions})


def _walk(session: Session, start: Iterable[int], upward: bool) -> list[int]:
    """Ids reachable from *start* (excluded), nearest first, breadth-first."""
    step_from, step_to = (Lineage.child_id, Lineage.parent_id) if upward else (Lineage.parent_id, Lineage.child_id)
    seen: set[int] = set(start)
    order: list[int] = []
    frontier = set(start)
    while frontier:
        rows = session.execute(
            select(step_to).where(step_from.in_(frontier)).order_by(step_from, Lineage.position)
        ).scalars()
        frontier = set()
        for vid in rows:
            if vid not in seen:
                seen.add(vid)
                order.append(vid)
                frontier.add(vid)
    return order


def _load(session: Session, ids: list[int]) -> list[DesignVersion]:
    """Versions by id, in the order of *ids*, with what listings and attribution read."""
    if not ids:
        return []
    stmt = (
        select(DesignVersion)
        .where(DesignVersion.id.in_(ids))
        .options(selectinload(DesignVersion.design), selectinload(DesignVersion.authors))
    )
    by_id = {v.id: v for v in session.scalars(stmt)}
    return [by_id[i] for i in ids]


def ancestors(session: Session, version: DesignVersion) -> list[DesignVersion]:
    """Every version *version* derives from, directly or not; nearest generation first."""
    return _load(session, _walk(session, [version.id], upward=True))


def descendants(session: Session, version: DesignVersion) -> list[DesignVersion]:
    """Every version deriving from *version*, directly or not; nearest generation first."""
    return _load(session, _walk(session, [version.id], upward=False))


def descendant_ids(session: Session, version_ids: Iterable[int]) -> list[int]:
    """Ids of every version deriving from any of *version_ids*, nearest generation first (none loaded)."""
    return _walk(session, list(version_ids), upward=False)


def parents(version: DesignVersion) -> list[DesignVersion]:
    """Direct parents in ``derived_from`` order."""
    return [edge.parent for edge in sorted(version.parents, key=lambda e: e.position)]


def fork_count(session: Session, slug: str) -> int:
    """How many other designs derive directly from some version of *slug*."""
    design = get_design(session, slug)
    child_version = DesignVersion.__table__.alias("child_version")
    parent_version = DesignVersion.__table__.alias("parent_version")
    stmt = (
        select(func.count(func.distinct(child_version.c.design_id)))
        .select_from(Lineage)
        .join(child_version, child_version.c.id == Lineage.child_id)
        .join(parent_version, parent_version.c.id == Lineage.parent_id)
        .where(parent_version.c.design_id == design.id, child_version.c.design_id != design.id)
    )
    return session.scalar(stmt) or 0


def fork_counts(session: Session) -> dict[str, int]:
    """:func:`fork_count` of every design that has forks, in one query (for listings)."""
    child_version = DesignVersion.__table__.alias("child_version")
    parent_version = DesignVersion.__table__.alias("parent_version")
    stmt = (
        select(Design.slug, func.count(func.distinct(child_version.c.design_id)))
        .select_from(Lineage)
        .join(child_version, child_version.c.id == Lineage.child_id)
        .join(parent_version, parent_version.c.id == Lineage.parent_id)
        .join(Design, Design.id == parent_version.c.design_id)
        .where(child_version.c.design_id != parent_version.c.design_id)
        .group_by(Design.slug)
    )
    return {slug: n for slug, n in session.execute(stmt)}


def family(session: Session, slug: str) -> Family:
    """Every version of *slug*, all their ancestors and descendants, and the edges among them.

    The other parents of a descendant are included too (but not their own
    ancestors), since a derivative's license answers to all its parents.
    Cousins (other children of a shared ancestor) are not: the family is what
    *slug* owes and what owes *slug*.
    """
    design = get_design(session, slug)
    own = [v.id for v in design.versions]
    below = _walk(session, own, upward=False)
    ids = list(dict.fromkeys(own + _walk(session, own, upward=True) + below))
    rows = session.execute(
        select(Lineage.parent_id, Lineage.child_id, Lineage.position).where(Lineage.child_id.in_(ids))
    ).all()
    below_set = set(below)
    co_parents = [row.parent_id for row in rows if row.child_id in below_set]
    ids = list(dict.fromkeys(ids + co_parents))
    versions = _load(session, ids)
    by_id = {v.id: v for v in versions}
    edges = [Edge(by_id[row.parent_id], by_id[row.child_id], row.position) for row in rows if row.parent_id in by_id]
    versions.sort(key=lambda v: (v.design.slug, version_key(v.version)))
    edges.sort(key=lambda e: (e.child.design.slug, version_key(e.child.version), e.position))
    return Family(slug=design.slug, versions=versions, edges=edges)


def check_edges(session: Session, child: DesignVersion | None, child_slug: str,
                new_parents: list[DesignVersion]) -> None:
    """Refuse derivation edges that would break the DAG.

    :param child: the child version if it already exists (``None`` for a
        version being created, which cannot close a cycle yet).
    :raises LineageError: naming every offending parent: self-derivation (a
        version of the same design), a repeated parent, or a cycle (the child
        is already an ancestor of the parent), with the path that closes it.
    """
    problems: list[str] = []
    seen: set[int] = set()
    for parent in new_parents:
        if parent.design.slug == child_slug:
            problems.append(f"{parent.ref}: a design cannot derive from itself (or from another of its versions)")
            continue
        if parent.id in seen:
            problems.append(f"{parent.ref}: listed twice as a parent")
            continue
        seen.add(parent.id)
        if child is not None and child.id in _walk(session, [parent.id], upward=True):
            problems.append(f"{parent.ref}: deriving {child.ref} from it would close a cycle "
                            f"({' -> '.join(_path(session, child, parent))})")
    if problems:
        raise LineageError("; ".join(problems))


def _path(session: Session, ancestor: DesignVersion, version: DesignVersion) -> list[str]:
    """Refs from *ancestor* down to *version* along derivation edges (breadth-first, shortest)."""
    previous: dict[int, int | None] = {version.id: None}
    frontier = [version.id]
    while frontier and ancestor.id not in previous:
        rows = session.execute(select(Lineage.child_id, Lineage.parent_id).where(Lineage.child_id.in_(frontier)))
        frontier = []
        for child_id, parent_id in rows:
            if parent_id not in previous:
                previous[parent_id] = child_id
                frontier.append(parent_id)
    chain: list[int] = []
    node: int | None = ancestor.id
    while node is not None:
        chain.append(node)
        node = previous.get(node)
    refs = {v.id: v.ref for v in _load(session, chain)}
    return [refs[i] for i in chain] + [ancestor.ref]


def link(session: Session, child: DesignVersion, new_parents: list[DesignVersion]) -> None:
    """Record that *child* derives from *new_parents* (after :func:`check_edges`).

    For publishing paths other than the importer, which writes edges itself.
    """
    existing = {edge.parent_id for edge in child.parents}
    check_edges(session, child, child.design.slug, [p for p in new_parents if p.id not in existing])
    position = max((edge.position for edge in child.parents), default=-1) + 1
    for parent in new_parents:
        if parent.id not in existing:
            child.parents.append(Lineage(parent=parent, position=position))
            position += 1
    session.flush()


def resolve(session: Session, refs: Iterable[str]) -> list[DesignVersion]:
    """The versions *refs* name (``slug@version``, or ``slug`` for the latest).

    :raises LineageError: naming every ref the catalogue does not hold.
    """
    found: list[DesignVersion] = []
    problems: list[str] = []
    for ref in refs:
        try:
            found.append(get_version(session, ref))
        except OpenDesignError as exc:  # NotFound, or a malformed ref
            problems.append(str(exc))
    if problems:
        raise LineageError("unknown parent: " + "; ".join(problems))
    return found
