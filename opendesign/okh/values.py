"""Parsers for the values real OKH manifests hold, each lenient and precise.

Every parser returns the value it understood and, when it had to guess or
give up, a reason the caller turns into a warning naming the file and the key.
None of them raises: a manifest value is never worth a crash.
"""

from __future__ import annotations

import math
import re
from typing import Any

import semver

#: ``cube(size = [275,125,105])`` and ``cube([275, 125, 105], center=true)``, as OpenSCAD writes them.
_CUBE_RE = re.compile(r"^\s*cube\s*\(\s*(?:size\s*=\s*)?\[\s*([^\]]*)\]", re.I)
_UNIT_MM = {"mm": 1.0, "cm": 10.0, "dm": 100.0, "m": 1000.0, "in": 25.4, "inch": 25.4}
_MASS_G = {"g": 1.0, "gram": 1.0, "grams": 1.0, "kg": 1000.0, "mg": 0.001, "lb": 453.592, "lbs": 453.592}
_NUMBER_UNIT_RE = re.compile(r"^\s*([-+]?\d+(?:[.,]\d+)?)\s*([a-z]*)\s*$", re.I)
#: ``Name <contact>``, the way OKH-LOSH writes a licensor.
_PERSON_RE = re.compile(r"^\s*(.*?)\s*<\s*([^<>]+?)\s*>\s*$")
_URL_RE = re.compile(r"^https?://\S+$")
#: BCP 47 tags as OKH asks for them (``en``, ``de-DE``, ``zh-Hant``).
_LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")

#: Readiness levels of OKH-LOSH: technology (OTRL) and documentation (ODRL).
TECHNOLOGY_LEVELS = tuple(f"OTRL-{n}" for n in range(1, 9))
DOCUMENTATION_LEVELS = ("ODRL-1", "ODRL-2", "ODRL-2*", "ODRL-3", "ODRL-3*", "ODRL-4")


def text(value: Any) -> str | None:
    """A scalar as stripped text (numbers too: ``version = 1.0``); ``None`` for anything else or empty."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        out = str(value).strip()
        return out or None
    return None


def as_list(value: Any) -> list[Any]:
    """OKH writes one item or a list of them; always a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def is_url(value: str) -> bool:
    return bool(_URL_RE.match(value))


def semantic_version(value: Any) -> tuple[str, str | None]:
    """A semantic version for *value* (``1.0`` -> ``1.0.0``, ``v2.1`` -> ``2.1.0``), and why it was changed."""
    raw = text(value)
    if raw is None:
        return "0.1.0", "missing; imported as 0.1.0"
    if semver.Version.is_valid(raw):
        return raw, None
    candidate = raw.lstrip("vV").strip()
    if semver.Version.is_valid(candidate):
        return candidate, f"{raw!r} read as {candidate}"
    numbers = re.match(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?", candidate)
    if numbers:
        major, minor, patch = (int(n) if n else 0 for n in numbers.groups())
        coerced = f"{major}.{minor}.{patch}"
        return coerced, f"{raw!r} is not a semantic version; imported as {coerced}"
    return "0.1.0", f"{raw!r} is not a version; imported as 0.1.0"


def person(value: Any) -> tuple[dict[str, str] | None, str | None]:
    """An author ``{name, contact}`` from ``"Name <mail>"``, ``{name, email}`` or a plain name."""
    if isinstance(value, dict):
        name = text(value.get("name"))
        contact = text(value.get("email")) or text(value.get("contact")) or text(value.get("url"))
        if not name:
            return None, "a licensor table needs a name"
        return {"name": name, "contact": contact} if contact else {"name": name}, None
    raw = text(value)
    if raw is None:
        return None, f"{value!r} is not a name"
    match = _PERSON_RE.match(raw)
    if match and match[1]:
        return {"name": match[1], "contact": match[2]}, None
    return {"name": raw}, None


def dimensions(value: Any) -> tuple[dict[str, float] | None, str | None]:
    """``{width, depth, height}`` in mm from a table, a ``cube(size = [...])`` string or a list of three."""
    unit = 1.0
    if isinstance(value, dict):
        lowered = {str(k).lower(): v for k, v in value.items()}
        unit_name = text(lowered.get("unit"))
        if unit_name is not None:
            if unit_name.lower() not in _UNIT_MM:
                return None, f"unit {unit_name!r} is not a length unit (mm, cm, m, in)"
            unit = _UNIT_MM[unit_name.lower()]
        if "openscad" in lowered:
            value = lowered["openscad"]
        elif {"width", "depth", "height"} <= set(lowered):
            value = [lowered["width"], lowered["depth"], lowered["height"]]
        else:
            return None, "needs width, depth and height (in mm) or an OpenSCAD cube(size = [...])"
    if isinstance(value, str):
        match = _CUBE_RE.match(value)
        if not match:
            return None, f"{value[:60]!r} is neither a table nor an OpenSCAD cube(size = [x, y, z])"
        value = [part.strip() for part in match[1].split(",")]
    if not isinstance(value, list) or len(value) != 3:
        return None, "needs exactly three extents: width, depth and height"
    extents = []
    for item in value:
        number = _number(item)
        if number is None or number <= 0:
            return None, f"{item!r} is not a positive number"
        extents.append(round(number * unit, 3))
    return dict(zip(("width", "depth", "height"), extents)), None


def mass(value: Any) -> tuple[float | None, str | None]:
    """Grams from a number (OKH-LOSH's unit) or a string with a unit (``1.2 kg``)."""
    number = _number(value)
    if number is not None:
        return (number, None) if number > 0 else (None, f"{value!r} is not a positive mass")
    raw = text(value)
    match = _NUMBER_UNIT_RE.match(raw or "")
    if match and match[2].lower() in _MASS_G:
        grams = float(match[1].replace(",", ".")) * _MASS_G[match[2].lower()]
        if grams > 0:
            return round(grams, 3), f"{raw!r} read as {round(grams, 3)} g (OKH-LOSH gives mass as a number of grams)"
    return None, f"{value!r} is not a mass (a number of grams)"


def readiness(value: Any, levels: tuple[str, ...], prefix: str) -> tuple[str | None, str | None]:
    """An OTRL/ODRL level; common slips (``OTLR-5``, ``5``, ``otrl 5``) are read with a warning."""
    raw = text(value)
    if raw is None:
        return None, f"{value!r} is not a readiness level ({levels[0]} .. {levels[-1]})"
    if raw in levels:
        return raw, None
    match = re.match(r"^(?:[A-Za-z]{4})?[\s_-]*(\d)(\*?)$", raw)
    if match:
        candidate = f"{prefix}-{match[1]}{match[2]}"
        if candidate in levels:
            return candidate, f"{raw!r} read as {candidate}"
    return None, f"{raw!r} is not a readiness level ({', '.join(levels)})"


def language(value: Any) -> tuple[str | None, str | None]:
    raw = text(value)
    if raw and _LANGUAGE_RE.match(raw):
        return raw, None
    return None, f"{value!r} is not a BCP 47 language tag such as 'en' or 'de-DE'"


def slugify(name: str, max_length: int = 64) -> str:
    """A catalogue slug for a design name: lowercase words joined by hyphens."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    slug = slug[:max_length].rstrip("-")
    return slug if len(slug) >= 2 else f"okh-{slug or 'design'}"


def identifier(name: str) -> str:
    """A part name the catalogue accepts (a Python identifier, lowercase)."""
    ident = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")[:60]
    if not ident or not re.match(r"^[a-z_]", ident):
        ident = f"part_{ident}".rstrip("_")
    return ident


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None
