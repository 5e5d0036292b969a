"""The OKH fields a design taken in from a manifest keeps beyond its design.toml.

They are read again from the manifest the design holds among its files, by the
same mapping that imported it, for the design page (:func:`okh_view`) and for
the manifests its bundles carry (:func:`merge_extras`): what the catalogue has
no field for goes back out as the author wrote it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ManifestError
from .manifest import LOSH_NAMES, V1_NAMES, parse_manifest
from .mapping import Description, describe

#: Facts the bundle's manifest takes from the original rather than its own defaults.
_FACT_KEYS = ("organization", "documentation-language", "technology-readiness-level",
              "documentation-readiness-level", "attestation", "mass", "outer-dimensions")


def stored_manifest(files: dict[str, bytes]) -> tuple[str, bytes] | None:
    """The original OKH manifest among a design's files, if it has one."""
    for name in LOSH_NAMES + V1_NAMES:
        if name in files:
            return name, files[name]
    return None


def description_of(files: dict[str, bytes]) -> Description | None:
    found = stored_manifest(files)
    if found is None:
        return None
    name, data = found
    try:
        return describe(parse_manifest(data, Path(name), name))
    except ManifestError:
        return None


def okh_view(files: dict[str, bytes]) -> dict[str, Any] | None:
    """What the design page shows of the OKH manifest: its file, the facts, the unmapped fields."""
    desc = description_of(files)
    if desc is None:
        return None
    name, _ = stored_manifest(files)
    return {"manifest": name, "dialect": desc.dialect, "facts": desc.facts, "unmapped": desc.unmapped,
            "parts": [p.facts for p in desc.parts], "warnings": [str(w) for w in desc.warnings]}


def merge_extras(manifest: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
    """*manifest* (a bundle's okh.toml as data) with the original's facts and unmapped fields added.

    Fields the bundle writes itself win, except the facts the original states
    (its organization, languages, readiness levels, attestations, measures).
    """
    desc = description_of(files)
    if desc is None:
        return manifest
    out = dict(manifest)
    for key in _FACT_KEYS:
        if key in desc.facts:
            out[key] = desc.facts[key]
    if "okhv" in desc.facts:
        out.setdefault("opendesign", {})["source-okhv"] = desc.facts["okhv"]
    for key, value in desc.unmapped.items():
        if key not in out:
            out[key] = _plain(value)
    by_name = {p.ident: p.facts for p in desc.parts}
    for entry in out.get("part") or []:
        facts = by_name.get(entry.get("name"))
        if not facts:
            continue
        for key in ("mass", "outer-dimensions", "tsdc", "manufacturing-process", "printing-process"):
            if key in facts and key not in entry:
                entry[key] = facts[key]
        for key, value in (facts.get("unmapped") or {}).items():
            entry.setdefault(key, _plain(value))
    return out


def _plain(value: Any) -> Any:
    """YAML dates and other scalars TOML and JSON both take."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value if v is not None]
    if value is None or not isinstance(value, str | int | float | bool):
        return "" if value is None else str(value)
    return value
