"""Document mapping: what the search index knows about a design.

A :class:`SearchDocument` is built from a design's latest version plus a few
catalogue-wide numbers (forks, productions, makers). It is plain data, so the
index implementations (Whoosh now, PostgreSQL full-text later) and the
benchmark's synthetic catalogues all go through the same shape.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..models import Design, DesignVersion, Lineage, Maker, Production, as_utc
from .countries import country_name
from .licensing import license_families, license_ids

_MARKDOWN_NOISE = re.compile(r"```.*?```|`[^`]*`|!\[[^\]]*\]\([^)]*\)|\]\([^)]*\)|[#*_>|\[\]~-]{1,}", re.S)


@dataclass(frozen=True)
class SearchDocument:
    """One design as the search index sees it (its latest version)."""

    slug: str
    version: str
    title: str
    summary: str
    category: str
    license: str
    readme: str = ""
    tags: tuple[str, ...] = ()
    licenses: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    #: ``"name material"`` per part.
    parts: tuple[str, ...] = ()
    processes: tuple[str, ...] = ()
    #: ``"name label"`` per parameter.
    parameters: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    #: ``"name legal-form"`` per maker producing any version of the design.
    makers: tuple[str, ...] = ()
    maker_countries: tuple[str, ...] = ()
    forks: int = 0
    productions: int = 0
    published: datetime = field(default_factory=lambda: datetime(1970, 1, 1, tzinfo=UTC))
    #: sha256 of the version's folder (DesignVersion.content_hash).
    content_hash: str = ""
    #: Slugs of the designs this one derives from; their fork counts change with it.
    parents: tuple[str, ...] = ()

    @property
    def doc_hash(self) -> str:
        """A digest of every indexed value, to tell a stale entry from a current one."""
        return hashlib.sha256(repr(self).encode()).hexdigest()

    @property
    def fingerprint(self) -> tuple[str, str, str]:
        return (self.slug, self.version, self.content_hash)


def readme_text(markdown: str) -> str:
    """README Markdown reduced to words: code blocks, link targets and markup removed."""
    return " ".join(_MARKDOWN_NOISE.sub(" ", markdown or "").split())


def _utc(value: datetime | None) -> datetime:
    if value is None:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return as_utc(value)


@dataclass
class _DesignStats:
    forks: set[int] = field(default_factory=set)
    #: Slugs of every design any version of this one derives from.
    parents: set[str] = field(default_factory=set)
    productions: int = 0
    makers: dict[str, Maker] = field(default_factory=dict)


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def document_for(version: DesignVersion, *, forks: int = 0, productions: int = 0,
                 makers: Iterable[Maker] = (), parents: Iterable[str] = ()) -> SearchDocument:
    """Map *version* (a design's latest) and its catalogue-wide numbers to a document."""
    makers = list(makers)
    ids = license_ids(version.license)
    return SearchDocument(
        slug=version.design.slug,
        version=version.version,
        title=version.title,
        summary=version.summary,
        category=version.category,
        license=version.license,
        readme=readme_text(version.readme),
        tags=_unique(t.name for t in version.tags),
        licenses=ids,
        families=license_families(ids),
        parts=tuple(f"{p.name.replace('_', ' ')} {p.material}" for p in version.parts),
        processes=_unique(p.process for p in version.parts),
        parameters=tuple(f"{p.name.replace('_', ' ')} {p.label}" for p in version.parameters),
        authors=_unique(a.name for a in version.authors),
        makers=_unique(f"{m.name} {m.legal_form.replace('-', ' ')} {country_name(m.country)}" for m in makers),
        maker_countries=_unique(sorted(m.country.upper() for m in makers if m.country)),
        forks=forks,
        productions=productions,
        published=_utc(version.created_at),
        content_hash=version.content_hash,
        parents=_unique(sorted(parents)),
    )


def _stats(session: Session, design_ids: list[int] | None) -> dict[int, _DesignStats]:
    """Forks, productions and makers per design id, in three queries."""
    stats: dict[int, _DesignStats] = defaultdict(_DesignStats)
    parent = DesignVersion.__table__.alias("parent")
    child = DesignVersion.__table__.alias("child")
    fork_q = (
        select(parent.c.design_id, child.c.design_id)
        .select_from(Lineage.__table__)
        .join(parent, parent.c.id == Lineage.parent_id)
        .join(child, child.c.id == Lineage.child_id)
        .where(parent.c.design_id != child.c.design_id)
    )
    prod_q = (
        select(DesignVersion.design_id, Production.maker_id)
        .join(Production, Production.version_id == DesignVersion.id)
    )
    parent_q = fork_q.add_columns(Design.slug).join(Design, Design.id == parent.c.design_id)
    if design_ids is not None:
        parent_q = parent_q.where(child.c.design_id.in_(design_ids))
        fork_q = fork_q.where(parent.c.design_id.in_(design_ids))
        prod_q = prod_q.where(DesignVersion.design_id.in_(design_ids))
    for parent_id, child_id in session.execute(fork_q):
        stats[parent_id].forks.add(child_id)
    for _parent_id, child_id, parent_slug in session.execute(parent_q):
        stats[child_id].parents.add(parent_slug)
    maker_ids: dict[int, list[int]] = defaultdict(list)
    for design_id, maker_id in session.execute(prod_q):
        stats[design_id].productions += 1
        maker_ids[design_id].append(maker_id)
    wanted = {m for ids in maker_ids.values() for m in ids}
    if wanted:
        makers = {m.id: m for m in session.scalars(select(Maker).where(Maker.id.in_(wanted)))}
        for design_id, ids in maker_ids.items():
            for maker_id in ids:
                maker = makers[maker_id]
                stats[design_id].makers[maker.slug] = maker
    return stats


_LOAD_OPTIONS = (
    selectinload(Design.latest_version).selectinload(DesignVersion.tags),
    selectinload(Design.latest_version).selectinload(DesignVersion.parts),
    selectinload(Design.latest_version).selectinload(DesignVersion.parameters),
    selectinload(Design.latest_version).selectinload(DesignVersion.authors),
)


def load_documents(session: Session, slugs: Iterable[str] | None = None,
                   batch: int = 500) -> Iterator[SearchDocument]:
    """Documents for *slugs* (every design when None) that have a published version.

    Loads in batches so a full rebuild of a large catalogue keeps memory flat.
    """
    id_query = select(Design.id).where(Design.latest_version_id.is_not(None)).order_by(Design.id)
    if slugs is not None:
        slugs = list(slugs)
        if not slugs:
            return
        id_query = id_query.where(Design.slug.in_(slugs))
    ids = list(session.scalars(id_query))
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        stats = _stats(session, chunk)
        designs = session.scalars(select(Design).where(Design.id.in_(chunk)).options(*_LOAD_OPTIONS))
        for design in designs:
            s = stats.get(design.id) or _DesignStats()
            yield document_for(design.latest_version, forks=len(s.forks), productions=s.productions,
                               makers=s.makers.values(), parents=s.parents)


def catalogue_fingerprints(session: Session) -> set[tuple[str, str, str]]:
    """(slug, version, content hash) of every design's latest version, in one query."""
    rows = session.execute(
        select(Design.slug, DesignVersion.version, DesignVersion.content_hash)
        .join(DesignVersion, DesignVersion.id == Design.latest_version_id)
    )
    return {tuple(r) for r in rows}


def count_designs(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Design).where(Design.latest_version_id.is_not(None)))
