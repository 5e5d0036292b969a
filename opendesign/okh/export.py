"""``opendesign okh export``: the okh.toml a version's bundles carry, without rendering.

It is made by the same function as the bundle's (:func:`opendesign.bundles.builder.bundle_manifest`),
with the bundle's file layout but no measured sizes or masses (those come from a render).
"""

from __future__ import annotations

from typing import Any

from ..bundles import okh
from ..bundles.artifacts import COMBINED_FORMATS, PART_FORMATS
from ..manifests.schema import MESH_SUFFIXES
from ..bundles.builder import DEFAULT_QUALITY, bundle_manifest, safe_name, snapshot


def export_manifest(db, settings, ref: str) -> dict[str, Any]:
    """The manifest of *ref* (``slug`` or ``slug@version``) as data."""
    snap = snapshot(db, settings, ref)
    d = snap.detail
    exports: list[str] = []
    parts: list[okh.PartInfo] = []
    meshes = {p["name"] for p in snap.manifest.get("parts", [])
              if str(p.get("file") or "").lower().endswith(MESH_SUFFIXES)}
    for spec in d["parts"]:
        info = okh.PartInfo(spec["name"], spec["material"], spec["process"], spec["quantity"])
        # A mesh part has no B-rep, so its bundle holds no STEP of it.
        formats = [f for f in PART_FORMATS if not (f == "step" and spec["name"] in meshes)]
        info.files = [f"export/{safe_name(spec['name'])}.{fmt}" for fmt in formats]
        exports += info.files
        parts.append(info)
    exports += [f"export/{safe_name(d['slug'])}.{fmt}" for fmt in COMBINED_FORMATS]
    return bundle_manifest(snap, exports, parts, DEFAULT_QUALITY, None)


def render_toml(data: dict[str, Any]) -> str:
    return okh.dumps(data)
