"""``okh.toml``: an Open Know-How manifest (OKH-LOSH v1.0) for a bundle.

Field names and shapes follow the OKH-LOSH JSON schema
(iop-alliance/OpenKnowHow ``src/schema/okh.schema.json``): the required
fields are :data:`REQUIRED`, ``repo`` is an http(s) URL, file references are
paths relative to ``okh.toml``, ``outer-dimensions`` is ``{width, depth,
height}`` in mm and ``mass`` a number of grams. ``fork-of`` (``okh:forkOf`` in
the OKH ontology) points at the parent design's page for derivatives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import tomlkit

OKHV = "OKH-LOSHv1.0"
REQUIRED = ("okhv", "name", "repo", "version", "license", "licensor", "function")
#: Fields the bundles issue asks for on top of the schema's required ones.
EXPECTED = REQUIRED + ("documentation-language", "bom", "manufacturing-instructions", "source", "export", "part")

#: Technology-specific documentation criteria (DIN SPEC 3105-1) of each process.
TSDC = {"fdm": "3DP", "sla": "3DP", "sls": "3DP", "cnc": "CNC", "laser": "LAS"}
PRINTING_PROCESS = {"fdm": "FDM", "sla": "SLA", "sls": "SLS"}

#: Typical densities in g/cm³, matched as whole words in a part's material text.
#: The first material the text names wins ("PETG or nylon" is PETG).
DENSITY = {
    "pla": 1.24, "petg": 1.27, "pet": 1.38, "abs": 1.04, "asa": 1.07, "pc": 1.20, "polycarbonate": 1.20,
    "tpu": 1.21, "pp": 0.90, "polypropylene": 0.90, "hdpe": 0.95, "ldpe": 0.92, "pe": 0.95,
    "nylon": 1.14, "pa6": 1.14, "pa12": 1.01, "pa": 1.14, "resin": 1.18, "pmma": 1.18, "acrylic": 1.18,
    "plywood": 0.60, "mdf": 0.75, "hardboard": 0.90, "oak": 0.75, "pine": 0.50, "bamboo": 0.70,
    "cork": 0.24, "wood": 0.60,
    "aluminium": 2.70, "aluminum": 2.70, "steel": 7.85, "stainless": 8.00, "brass": 8.50, "copper": 8.96,
    "concrete": 2.40, "clay": 1.80, "ceramic": 2.30, "glass": 2.50,
}
_MATERIAL_RE = re.compile(r"\b(" + "|".join(sorted(DENSITY, key=len, reverse=True)) + r")\b", re.I)


def density(material: str) -> float | None:
    """g/cm³ of the first known material *material* names, or ``None``."""
    match = _MATERIAL_RE.search(material or "")
    return DENSITY[match[1].lower()] if match else None


@dataclass
class PartInfo:
    """A part as the bundle knows it: manifest data, its files, and measures from the render."""

    name: str
    material: str = ""
    process: str = ""
    quantity: int = 1
    files: list[str] = field(default_factory=list)
    #: Extents along x, y, z in mm.
    size: tuple[float, float, float] | None = None
    #: mm³
    volume: float | None = None

    def mass(self) -> float | None:
        rho = density(self.material)
        if rho is None or not self.volume:
            return None
        return round(self.volume / 1000.0 * rho, 1)


def _licensor(authors: list[dict[str, Any]]) -> str | list[str]:
    names = [f"{a['name']} <{a['contact']}>" if a.get("contact") else a["name"] for a in authors]
    if not names:
        return "unknown"
    return names[0] if len(names) == 1 else names


def okh_manifest(detail: dict[str, Any], *, repo: str, parent_urls: list[str], source: list[str],
                 export: list[str], parts: list[PartInfo], image: str | None = None,
                 parameters: dict[str, Any] | None = None, custom: bool = False,
                 release: str | None = None) -> dict[str, Any]:
    """The manifest as plain data, keys in the order they are written.

    :param detail: :func:`opendesign.catalogue.queries.version_detail` of the version.
    :param repo: the design's public page (http(s) URL).
    :param parent_urls: pages of the parent versions, for ``fork-of``.
    """
    data: dict[str, Any] = {
        "okhv": OKHV,
        "name": detail["title"],
        "repo": repo,
        "version": detail["version"],
        "license": detail["license"],
        "licensor": _licensor(detail["authors"]),
        "function": detail["summary"],
        "documentation-language": "en",
        "readme": "README.md",
        "bom": "BOM.csv",
        "manufacturing-instructions": "README.md",
        "source": source,
        "export": export,
    }
    if release:
        data["release"] = release
    if image:
        data["image"] = image
    if parent_urls:
        # okh:forkOf has cardinality one; a design with several parents lists them all.
        data["fork-of"] = parent_urls[0] if len(parent_urls) == 1 else parent_urls
    data["part"] = [_part(p, source) for p in parts]
    data["opendesign"] = {
        "slug": detail["slug"],
        "category": detail["category"],
        "content-hash": detail["content_hash"],
        "custom-parameters": custom,
        "parameters": dict(parameters or {}),
    }
    if detail.get("derived_from"):
        data["opendesign"]["derived-from"] = list(detail["derived_from"])
    return data


def _part(part: PartInfo, source: list[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": part.name, "source": source[0] if source else "model.py"}
    if part.files:
        entry["export"] = part.files
    if part.material:
        entry["material"] = part.material
    if part.process in TSDC:
        entry["tsdc"] = TSDC[part.process]
    if part.process in PRINTING_PROCESS:
        entry["printing-process"] = PRINTING_PROCESS[part.process]
    if part.size:
        width, depth, height = (round(float(v), 2) for v in part.size)
        entry["outer-dimensions"] = {"width": width, "depth": depth, "height": height}
    mass = part.mass()
    if mass is not None:
        entry["mass"] = mass
    entry["quantity"] = part.quantity
    return entry


def dumps(data: dict[str, Any]) -> str:
    """TOML text; the same data always gives the same bytes."""
    return tomlkit.dumps(data)


def missing_fields(data: dict[str, Any]) -> list[str]:
    """Required or expected fields that are absent or empty, and schema rules broken."""
    problems = [f"{key}: missing" for key in EXPECTED if data.get(key) in (None, "", [])]
    if data.get("okhv") not in (None, OKHV):
        problems.append(f"okhv: must be {OKHV!r}")
    if data.get("repo") and not re.match(r"^https?://", str(data["repo"])):
        problems.append("repo: must be an http(s) URL")
    for index, part in enumerate(data.get("part") or []):
        if not part.get("name"):
            problems.append(f"part[{index}].name: missing")
        if not (part.get("source") or part.get("export")):
            problems.append(f"part[{index}]: needs source or export")
        dims = part.get("outer-dimensions")
        if dims is not None and set(dims) != {"width", "depth", "height"}:
            problems.append(f"part[{index}].outer-dimensions: needs width, depth and height")
    return problems
