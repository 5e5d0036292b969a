"""Reading the catalogue: look-ups by slug and version, and plain-data views for JSON."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..errors import NotFound
from ..manifests import kinds
from ..manifests.kind_labels import kind_label
from ..models import Design, DesignVersion
from ..presets.design import presets_of
from .refs import DesignRef, parse_ref, version_key


def get_design(session: Session, slug: str) -> Design:
    design = session.scalar(select(Design).where(Design.slug == slug))
    if design is None:
        raise NotFound(f"no design {slug!r} in the catalogue")
    return design


def get_version(session: Session, ref: str | DesignRef) -> DesignVersion:
    """The version *ref* names (``slug@version``), or the latest one for a bare slug."""
    ref = parse_ref(ref) if isinstance(ref, str) else ref
    design = get_design(session, ref.slug)
    if ref.version is None:
        if design.latest_version is None:
            raise NotFound(f"design {ref.slug!r} has no published version")
        return design.latest_version
    for version in design.versions:
        if version.version == ref.version:
            return version
    known = ", ".join(v.version for v in sorted(design.versions, key=lambda v: version_key(v.version)))
    raise NotFound(f"design {ref.slug!r} has no version {ref.version} (published: {known})")


def list_designs(session: Session) -> list[Design]:
    stmt = (
        select(Design)
        .options(selectinload(Design.latest_version).selectinload(DesignVersion.authors))
        .order_by(Design.slug)
    )
    return list(session.scalars(stmt))


def version_summary(version: DesignVersion) -> dict[str, Any]:
    """The fields a listing shows."""
    return {
        "slug": version.design.slug,
        "version": version.version,
        "title": version.title,
        "summary": version.summary,
        "license": version.license,
        "category": version.category,
        "authors": [a.name for a in version.authors],
    }


def version_detail(version: DesignVersion) -> dict[str, Any]:
    """Everything about one version, as plain data for ``--json`` and the API."""
    design = version.design
    files = {p["name"]: p["file"] for p in (version.manifest or {}).get("parts", []) if p.get("file")}
    label = kind_label(version.manifest)
    return {
        **version_summary(version),
        "versions": sorted((v.version for v in design.versions), key=version_key),
        "latest": design.latest_version is not None and design.latest_version.id == version.id,
        "content_hash": version.content_hash,
        "created_at": version.created_at.isoformat(),
        "tags": [t.name for t in version.tags],
        "authors": [{"name": a.name, "contact": a.contact} for a in version.authors],
        "derived_from": [edge.parent.ref for edge in sorted(version.parents, key=lambda e: e.position)],
        "derivatives": sorted(edge.child.ref for edge in version.children),
        "parameters": [
            {k: getattr(p, k) for k in ("name", "type", "default", "min", "max", "step", "unit", "label", "help",
                                        "choices")}
            for p in version.parameters
        ],
        "presets": [p.as_dict() for p in presets_of(version.manifest, version.parameters)],
        "kind": label.kind,
        "kind_label": label.label,
        "kind_explanation": label.explanation,
        "parts": [{"name": p.name, "material": p.material, "process": p.process, "quantity": p.quantity,
                   **({"file": files[p.name]} if p.name in files else {})}
                  for p in version.parts],
        "no_step": kinds.no_step_reason(version.manifest or {}),
        "bom": [{"item": b.item, "quantity": b.quantity, "unit": b.unit, "note": b.note} for b in version.bom_items],
        "links": version.links,
        "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in version.files],
    }
