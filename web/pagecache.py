"""Per-process caches behind the design page, and how they stay fresh.

Two kinds of data, cached differently:

- A released version never changes (re-publishing it with other content is
  refused), so :func:`version_view` keeps a plain copy of what the page shows
  of it — fields, parameters, parts, BOM, authors, tags, the README as
  sanitised HTML, license badges, the fork allowance — keyed by (version id,
  content hash, slug) and the database. Nothing ever invalidates it; it is only
  bounded.
- What changes over time — a design's versions and latest version, owner,
  lineage, attribution, productions and contributions — is kept per slug (and
  database) by :func:`design_facts`. The whole of it is dropped whenever a catalogue change
  commits in this process (:mod:`opendesign.events`; a fork changes its
  parents' pages too, so dropping everything is the simple safe choice), and
  an entry is recomputed after :data:`FACTS_TTL` seconds at most, so a change
  committed by another process (``opendesign import`` on the same database)
  shows within that time.

An entry computed from a transaction that began before a change committed
would be stale, so entries are stored only if the catalogue generation
(:func:`web.db.generation`) has not moved since the request opened its
session.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, exists, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from opendesign.catalogue import origins
from opendesign.catalogue.refs import version_key
from opendesign.errors import NotFound
from opendesign.manifests import kinds
from opendesign.manifests.kind_labels import kind_label
from opendesign.models import (Author, BomItem, Contribution, Design, DesignFile, DesignVersion, Lineage, Parameter, Part,
                               Production, Tag, User)
from opendesign.models.catalogue import version_tag

from . import db as webdb
from . import licensing
from .markdown import render_markdown

FACTS_TTL = 10.0
MAX_VERSIONS = 4096
MAX_DESIGNS = 4096

#: What the page shows of a version, for views that need the ORM object itself (renders, the API).
VERSION_LOADS = (selectinload(DesignVersion.authors), selectinload(DesignVersion.tags),
                 selectinload(DesignVersion.parameters), selectinload(DesignVersion.parts),
                 selectinload(DesignVersion.bom_items))

# Statements built once: plain column queries skip the ORM's identity map and statement building,
# which cost more than SQLite itself on these small look-ups.
_VERSION_ROW = select(DesignVersion.id, DesignVersion.design_id, DesignVersion.version, DesignVersion.title,
                      DesignVersion.summary, DesignVersion.license, DesignVersion.category, DesignVersion.readme,
                      DesignVersion.content_hash, DesignVersion.created_at, DesignVersion.manifest,
                      DesignVersion.origin).where(DesignVersion.id == bindparam("vid"))
#: The OKH manifest a version taken in from one keeps among its files.
_OKH_FILES = (select(DesignFile.path, DesignFile.data)
              .where(DesignFile.version_id == bindparam("vid"), DesignFile.path.in_(("okh.toml", "okh.yml", "okh.yaml"))))


def _children(model, *names: str):
    return (select(*(getattr(model, n) for n in names)).where(model.version_id == bindparam("vid"))
            .order_by(model.position))


_VERSION_CHILDREN = {
    "parameters": _children(Parameter, "id", "position", "name", "type", "default", "min", "max", "step", "unit",
                            "label", "help", "choices"),
    "parts": _children(Part, "id", "position", "name", "material", "process", "quantity"),
    "bom_items": _children(BomItem, "id", "position", "item", "quantity", "unit", "note"),
    "authors": _children(Author, "id", "position", "name", "contact"),
    "tags": select(Tag.id, Tag.name).join(version_tag, version_tag.c.tag_id == Tag.id)
    .where(version_tag.c.version_id == bindparam("vid")).order_by(Tag.name),
}


def _facts_statement():
    dv = aliased(DesignVersion)
    in_design = select(dv.id).where(dv.design_id == Design.id).correlate(Design)
    lineage = exists().where(or_(Lineage.child_id.in_(in_design), Lineage.parent_id.in_(in_design)))
    produced = exists().where(Production.version_id.in_(in_design))
    contributed = exists().where(Contribution.design_id == Design.id)
    return (select(Design.id, Design.latest_version_id, User.username, lineage, produced, contributed,
                   DesignVersion.id, DesignVersion.version, DesignVersion.created_at, DesignVersion.license,
                   DesignVersion.content_hash)
            .outerjoin(User, User.id == Design.owner_id)
            .outerjoin(DesignVersion, DesignVersion.design_id == Design.id)
            .where(Design.slug == bindparam("slug")))


_FACTS = _facts_statement()


class _LRU:
    """A small thread-safe LRU map."""

    def __init__(self, size: int):
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_versions = _LRU(MAX_VERSIONS)
_designs = _LRU(MAX_DESIGNS)
webdb.on_change(_designs.clear)


# -- immutable: one released version ------------------------------------------------------------

def _fork_allowance(version) -> dict[str, Any]:
    from .adapters import commons

    possible, licenses, reason = commons.allowed_fork_licenses(version)
    return {"possible": possible, "licenses": licenses, "reason": reason}


def version_view(session: Session, slug: str, version_id: int, content_hash: str) -> SimpleNamespace:
    """What the page shows of one released version, as plain data (duck-types a DesignVersion)."""
    key = (webdb.database().url, version_id, content_hash, slug)
    view = _versions.get(key)
    if view is not None:
        return view
    row = session.execute(_VERSION_ROW, {"vid": version_id}).first()
    if row is None or row.content_hash != content_hash:
        raise NotFound(f"design {slug!r} changed while the page was built; reload it")
    view = SimpleNamespace(
        **row._asdict(), ref=f"{slug}@{row.version}", design=SimpleNamespace(slug=slug),
        # parents=[]: the view stands for the version only where it has no lineage (see lineage_and_attribution).
        parents=[],
        **{rel: [SimpleNamespace(**r._asdict()) for r in session.execute(stmt, {"vid": version_id})]
           for rel, stmt in _VERSION_CHILDREN.items()},
    )
    view.kind_label = kind_label(row.manifest)
    view.kind = view.kind_label.kind
    # A design of mesh files has no STEP: the page says why instead of linking a render that must fail.
    view.no_step = kinds.no_step_reason(row.manifest or {})
    view.readme_html = render_markdown(row.readme or "")
    view.licenses = licensing.badges(row.license)
    view.fork = _fork_allowance(view)
    view.okh = None
    if row.origin == origins.OKH:
        from opendesign.okh.extras import okh_view

        view.okh = okh_view({r.path: r.data for r in session.execute(_OKH_FILES, {"vid": version_id})})
    _versions.put(key, view)
    return view


# -- changing: a design, its lineage, makers and contributions ----------------------------------

@dataclass
class DesignFacts:
    id: int
    slug: str
    latest_version_id: int | None
    owner: SimpleNamespace | None
    #: (id, version, created_at, license, content_hash), newest version first.
    versions: list[SimpleNamespace]
    has_lineage: bool
    productions: list[dict[str, Any]]
    reciprocity: dict[str, Any]
    #: The design's reciprocity ledger: totals, flows through the lineage, qualified producers.
    ledger: dict[str, Any] = field(default_factory=dict)
    stamp: float = field(default_factory=time.monotonic)
    #: version id -> lineage SVG, attribution chain and text (filled per version on first view).
    per_version: dict[int, dict[str, Any]] = field(default_factory=dict)

    def find(self, version: str | None) -> SimpleNamespace:
        for v in self.versions:
            if (version is None and v.id == self.latest_version_id) or v.version == version:
                return v
        if version is None:
            raise NotFound(f"design {self.slug!r} has no published version")
        known = ", ".join(v.version for v in reversed(self.versions))
        raise NotFound(f"design {self.slug!r} has no version {version!r} (published: {known})")


def _no_reciprocity(slug: str) -> dict[str, Any]:
    # What opendesign.commons.reciprocity.design_reciprocity answers for a design nobody produces or
    # contributes to (most of a large catalogue), without its queries; a test keeps the two equal.
    from opendesign.commons.reciprocity import summarise

    return {"slug": slug, "productions": 0, "producing_makers": 0, "giving_back": 0, "makers": [],
            "contributions": summarise([]), "claimed": summarise([]), "contributors": [], "contribution_list": []}


def _no_ledger(slug: str) -> dict[str, Any]:
    # What opendesign.commons.ledger.reports.design_ledger answers for a design outside any lineage that nobody
    # produces or contributes to; a test keeps the two equal.
    from opendesign.commons.ledger.totals import Sums

    empty = Sums().as_dict()
    return {"slug": slug, "received_directly": empty, "through_derivatives": empty, "passed_upstream": empty,
            "kept": empty, "flows_in": [], "flows_out": [], "confirmed": [], "claimed": [], "disputed": [],
            "corrected": [], "qualified_producers": []}


def _load_facts(session: Session, slug: str) -> DesignFacts:
    from .adapters import commons

    rows = session.execute(_FACTS, {"slug": slug}).all()
    if not rows:
        raise NotFound(f"no design {slug!r} in the catalogue")
    design_id, latest_id, owner, has_lineage, has_productions, has_contributions = rows[0][:6]
    versions = sorted((SimpleNamespace(id=r[6], version=r[7], created_at=r[8], license=r[9], content_hash=r[10])
                       for r in rows if r[6] is not None), key=lambda v: version_key(v.version), reverse=True)
    design = SimpleNamespace(id=design_id, slug=slug)
    busy = has_productions or has_contributions
    return DesignFacts(id=design_id, slug=slug, latest_version_id=latest_id,
                       owner=SimpleNamespace(username=owner) if owner else None, versions=versions,
                       has_lineage=bool(has_lineage),
                       productions=commons.productions_of_design(session, design) if has_productions else [],
                       reciprocity=commons.design_reciprocity(session, slug) if busy else _no_reciprocity(slug),
                       # Value reaches a design through its derivatives, so any lineage may carry some.
                       ledger=commons.design_ledger(session, slug) if busy or has_lineage else _no_ledger(slug))


def design_facts(session: Session, slug: str) -> DesignFacts:
    """The changing facts of design *slug* (:class:`NotFound` if there is none)."""
    key = (webdb.database().url, slug)
    facts = _designs.get(key)
    if facts is not None and time.monotonic() - facts.stamp < FACTS_TTL:
        return facts
    generation = webdb.session_generation()
    facts = _load_facts(session, slug)
    if generation == webdb.generation():
        _designs.put(key, facts)
    return facts


def lineage_and_attribution(session: Session, facts: DesignFacts, view, version_url) -> dict[str, Any]:
    """The lineage SVG (None for an original design) and attribution chain of one version of *facts*."""
    from opendesign.commons.attribution import entry

    from .adapters import commons
    from .lineage_svg import render_family
    from .pages import find_version

    cached = facts.per_version.get(view.id)
    if cached is not None:
        return cached
    base_url = current_app.config["SETTINGS"].base_url
    svg = None
    if facts.has_lineage:
        family = commons.family(session, facts.slug)
        svg = render_family(family, view.id, version_url) if family.edges else None
        chain = commons.attribution(session, find_version(session, facts.slug, view.version), base_url)
    else:
        chain = [entry(view, base_url, 0)]
    result = {"lineage_svg": svg, "attribution": chain, "attribution_text": commons.attribution_text(chain)}
    if webdb.session_generation() == webdb.generation():
        facts.per_version[view.id] = result
    return result
