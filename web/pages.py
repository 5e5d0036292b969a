"""Assembling the design page: everything it shows about one version, as plain data."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from opendesign.catalogue.refs import version_key
from opendesign.errors import NotFound
from opendesign.models import Design, DesignVersion

from . import ledger_pages, pagecache
from .adapters import commons, render_service
from .adapters.render import RenderSet
from .presets_page import preset_context

DOWNLOAD_FORMATS = ("stl", "3mf", "step", "glb")


def find_version(session: Session, slug: str, version: str | None) -> DesignVersion:
    """The version named, or the latest; :class:`NotFound` for an unknown slug or version."""
    design = session.scalar(select(Design).where(Design.slug == slug).options(selectinload(Design.versions)))
    if design is None:
        raise NotFound(f"no design {slug!r} in the catalogue")
    wanted = design.latest_version_id if version is None else None
    for v in design.versions:
        if (wanted is not None and v.id == wanted) or (version is not None and v.version == version):
            # Everything the page shows of this version, in one round trip per relationship.
            return session.scalar(
                select(DesignVersion).where(DesignVersion.id == v.id).options(*pagecache.VERSION_LOADS))
    if version is None:
        raise NotFound(f"design {slug!r} has no published version")
    known = ", ".join(sorted((v.version for v in design.versions), key=version_key))
    raise NotFound(f"design {slug!r} has no version {version!r} (published: {known})")


#: What a render needs of a version (its snapshot: parameters, parts, authors, the design's slug).
_RENDER_LOADS = (joinedload(DesignVersion.design), selectinload(DesignVersion.parameters),
                 selectinload(DesignVersion.parts), selectinload(DesignVersion.authors))


def find_render_version(session: Session, slug: str, version: str | None) -> DesignVersion:
    """:func:`find_version` loading only what a render needs, in one query per relationship.

    A cached draft (the live preview going back to a value) is mostly this look-up, and the
    page's loads (every version of the design, tags, BOM) were two thirds of it.
    """
    stmt = select(DesignVersion).join(Design, Design.id == DesignVersion.design_id).where(Design.slug == slug)
    if version is None:
        stmt = stmt.where(DesignVersion.id == Design.latest_version_id)
    else:
        stmt = stmt.where(DesignVersion.version == version)
    found = session.scalar(stmt.options(*_RENDER_LOADS))
    return found if found is not None else find_version(session, slug, version)  # raises, naming what is missing


def version_url(v: DesignVersion) -> str:
    return url_for("designs.version_page", slug=v.design.slug, version=v.version)


def download_rows(version: DesignVersion, renders: RenderSet, query: dict[str, str]) -> list[dict[str, Any]]:
    """One row per part (and the whole model when there are several), one cell per format."""
    parts: list[tuple[str | None, str]] = []
    if len(version.parts) != 1:
        parts.append((None, "Whole model"))
    parts += [(p.name, f"{p.name} ({p.material}, {p.process}, ×{p.quantity})") for p in version.parts]
    rows = []
    for part, label in parts:
        cells = []
        for fmt in DOWNLOAD_FORMATS:
            if fmt == "step" and getattr(version, "no_step", None):
                cells.append({"format": fmt, "url": None, "unavailable": version.no_step, "size": None,
                              "sha256": None})
                continue
            rendered = renders.get(fmt, part) or (renders.get(fmt, None) if len(version.parts) == 1 else None)
            link = url_for("designs.download", slug=version.design.slug, version=version.version,
                           name=f"{part or 'model'}.{fmt}", **query)
            cells.append({"format": fmt, "url": url_for("files.serve", name=rendered.name) if rendered else link,
                          "size": rendered.size if rendered else None,
                          "sha256": rendered.sha256 if rendered else None})
        rows.append({"part": part, "label": label, "cells": cells})
    return rows


def design_context(session: Session, facts: pagecache.DesignFacts, version, values: dict[str, Any], custom: bool,
                   renders: RenderSet, param_errors: dict[str, list[str]]) -> dict[str, Any]:
    """Everything the design page shows: *version* is a :func:`pagecache.version_view`."""
    design = SimpleNamespace(id=facts.id, slug=facts.slug, owner=facts.owner, latest_version_id=facts.latest_version_id)
    query = {k: _query_value(v) for k, v in values.items()} if custom else {}
    reciprocity = facts.reciprocity
    return {
        "version": version,
        "design": design,
        "is_latest": facts.latest_version_id == version.id,
        "versions": facts.versions,
        "licenses": version.licenses,
        "values": values,
        "custom": custom,
        "query": query,
        "param_errors": param_errors,
        "renders": renders,
        "downloads": download_rows(version, renders, query),
        "render_available": render_service().available,
        "model_url": url_for("designs.download", slug=design.slug, version=version.version, name="model.glb",
                             **query),
        "drawing_url": url_for("designs.download", slug=design.slug, version=version.version, name="model.svg",
                               **query),
        **pagecache.lineage_and_attribution(session, facts, version, version_url),
        "productions": facts.productions,
        "reciprocity": reciprocity,
        "contribution_totals": commons.format_totals(reciprocity["contributions"]),
        "fork": version.fork,
        **preset_context(session, facts, version, values),
        **ledger_pages.design_context(session, facts.id, facts.ledger),
    }


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
