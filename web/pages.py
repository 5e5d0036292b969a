"""Assembling the design page: everything it shows about one version, as plain data."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import current_app, url_for
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, selectinload

from opendesign.catalogue.refs import version_key
from opendesign.errors import NotFound
from opendesign.models import Design, DesignVersion, Lineage

from . import licensing
from .adapters import commons, render_service
from .adapters.render import RenderSet
from .lineage_svg import render_family

DOWNLOAD_FORMATS = ("stl", "3mf", "step", "glb")
_VERSION_LOADS = (selectinload(DesignVersion.authors), selectinload(DesignVersion.tags),
                  selectinload(DesignVersion.parameters), selectinload(DesignVersion.parts),
                  selectinload(DesignVersion.bom_items))


def _has_lineage(session: Session, design: Design) -> bool:
    ids = [v.id for v in design.versions]
    return bool(session.scalar(select(exists().where(or_(Lineage.child_id.in_(ids), Lineage.parent_id.in_(ids))))))


@lru_cache(maxsize=4096)
def _fork_allowance(license_expression: str, ref: str, slug: str, version: str) -> tuple[bool, list[str], str]:
    # Depends only on the parent's license (and names it in the reason): the same for every request.
    from types import SimpleNamespace

    fake = SimpleNamespace(design=SimpleNamespace(slug=slug), version=version, license=license_expression, ref=ref)
    return commons.allowed_fork_licenses(fake)


def find_version(session: Session, slug: str, version: str | None) -> DesignVersion:
    """The version named, or the latest; :class:`NotFound` for an unknown slug or version."""
    design = session.scalar(select(Design).where(Design.slug == slug).options(selectinload(Design.versions)))
    if design is None:
        raise NotFound(f"no design {slug!r} in the catalogue")
    wanted = design.latest_version_id if version is None else None
    for v in design.versions:
        if (wanted is not None and v.id == wanted) or (version is not None and v.version == version):
            # Everything the page shows of this version, in one round trip per relationship.
            return session.scalar(select(DesignVersion).where(DesignVersion.id == v.id).options(*_VERSION_LOADS))
    if version is None:
        raise NotFound(f"design {slug!r} has no published version")
    known = ", ".join(sorted((v.version for v in design.versions), key=version_key))
    raise NotFound(f"design {slug!r} has no version {version!r} (published: {known})")


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
            rendered = renders.get(fmt, part) or (renders.get(fmt, None) if len(version.parts) == 1 else None)
            link = url_for("designs.download", slug=version.design.slug, version=version.version,
                           name=f"{part or 'model'}.{fmt}", **query)
            cells.append({"format": fmt, "url": url_for("files.serve", name=rendered.name) if rendered else link,
                          "size": rendered.size if rendered else None,
                          "sha256": rendered.sha256 if rendered else None})
        rows.append({"part": part, "label": label, "cells": cells})
    return rows


def design_context(session: Session, version: DesignVersion, values: dict[str, Any], custom: bool,
                   renders: RenderSet, param_errors: dict[str, list[str]]) -> dict[str, Any]:
    design = version.design
    settings = current_app.config["SETTINGS"]
    query = {k: _query_value(v) for k, v in values.items()} if custom else {}
    versions = sorted(design.versions, key=lambda v: version_key(v.version), reverse=True)
    family = commons.family(session, design.slug) if _has_lineage(session, design) else None
    lineage_svg = render_family(family, version.id, version_url) if family and family.edges else None
    chain = commons.attribution(session, version, settings.base_url) if family else [
        _self_attribution(version, settings.base_url)]
    fork_ok, fork_licenses, fork_reason = _fork_allowance(version.license, version.ref, design.slug, version.version)
    reciprocity = commons.design_reciprocity(session, design.slug)
    return {
        "version": version,
        "design": design,
        "is_latest": design.latest_version_id == version.id,
        "versions": versions,
        "licenses": licensing.badges(version.license),
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
        "lineage_svg": lineage_svg,
        "family": family,
        "attribution": chain,
        "attribution_text": commons.attribution_text(chain),
        "productions": commons.productions_of_design(session, design),
        "reciprocity": reciprocity,
        "contribution_totals": commons.format_totals(reciprocity["contributions"]),
        "fork": {"possible": fork_ok, "licenses": fork_licenses, "reason": fork_reason},
    }


def _self_attribution(version: DesignVersion, base_url: str) -> dict[str, Any]:
    from opendesign.commons.attribution import entry

    return entry(version, base_url, 0)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
