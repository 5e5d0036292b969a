"""``opendesign okh export``: the okh.toml a version's bundles carry, without rendering.

It is made by the same function as the bundle's (:func:`opendesign.bundles.builder.bundle_manifest`),
with the bundle's file layout but no measured sizes or masses (those come from a render).
"""

from __future__ import annotations

from typing import Any

from ..bundles import okh
from ..bundles.artifacts import COMBINED_FORMATS, PART_FORMATS
from ..bundles.builder import DEFAULT_QUALITY, bundle_manifest, safe_name, snapshot


def export_manifest(db, settings, ref: str) -> dict[str, Any]:
    """The manifest of *ref* (``slug`` or ``slug@version``) as data."""
    snap = snapshot(db, settings, ref)
    d = snap.detail
    exports: list[str] = []
    parts: list[okh.PartInfo] = []
    # A design of mesh files has no STEP, so its bundle holds none (manifests.kinds.no_step_reason).
    formats = [f for f in PART_FORMATS if f != "step" or not d.get("no_step")]
    for spec in d["parts"]:
        info = okh.PartInfo(spec["name"], spec["material"], spec["process"], spec["quantity"])
        info.files = [f"export/{safe_name(spec['name'])}.{fmt}" for fmt in formats]
        exports += info.files
        parts.append(info)
    exports += [f"export/{safe_name(d['slug'])}.{fmt}" for fmt in COMBINED_FORMATS]
    return bundle_manifest(snap, exports, parts, DEFAULT_QUALITY, None)


def render_toml(data: dict[str, Any]) -> str:
    return okh.dumps(data)
