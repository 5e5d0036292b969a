"""The ``[[part]]`` tables of an OKH manifest, and the measures and file references parts and manifests share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from . import values
from .manifest import PART_KEYS, normalise_keys

#: More parts than any real project lists; a manifest beyond it is refused, not truncated.
MAX_PARTS = 500
PART_FILE_KEYS = ("source", "export", "image", "auxiliary")
_PROCESS_WORDS = (
    ("fdm", r"fdm|fff|3dp|3d[- ]?print|extrusion"), ("sla", r"sla|resin|dlp|stereolith"), ("sls", r"sls|sinter"),
    ("cnc", r"cnc|mill|lathe|machin|rout"), ("laser", r"laser|\blas\b"),
)


@dataclass
class PartDescription:
    """One ``[[part]]`` of the manifest, before its files are read."""

    index: int
    name: str
    ident: str
    material: str
    process: str
    quantity: int
    #: (key, reference as written) for every file the part names, in the manifest's order.
    references: list[tuple[str, str]]
    facts: dict[str, Any]


def measures(desc, table: dict[str, Any], facts: dict[str, Any], where: str) -> None:
    """``mass`` and ``outer-dimensions`` of *table* into *facts*; guesses and failures warned on *desc*."""
    if "mass" in table:
        grams, why = values.mass(table["mass"])
        if why:
            desc.warn(f"{where}mass", why)
        if grams is not None:
            facts["mass"] = grams
    if "outer-dimensions" in table:
        dims, why = values.dimensions(table["outer-dimensions"])
        if why:
            desc.warn(f"{where}outer-dimensions", why)
        if dims is not None:
            facts["outer-dimensions"] = dims


def reference_text(item: Any) -> str | None:
    if isinstance(item, dict):  # OKH v1 file tables: {path, title} or {url}
        item = item.get("path") or item.get("url")
    return values.text(item) if isinstance(item, str) else None


def describe_parts(desc, value: Any) -> None:
    tables = values.as_list(value)
    if len(tables) > MAX_PARTS:
        desc.refuse("part", f"lists {len(tables)} parts; the limit is {MAX_PARTS}")
        return
    idents: set[str] = set()
    for index, table in enumerate(tables):
        where = f"part[{index}]"
        if isinstance(table, str):
            table = {"name": table}
        if not isinstance(table, dict):
            desc.warn(where, f"{type(table).__name__} is not a part table; skipped")
            continue
        known, unknown, _ = normalise_keys(table, "losh", PART_KEYS, desc.display, where, desc.warnings)
        name = values.text(known.get("name"))
        if name is None:
            desc.warn(f"{where}.name", "missing; the part is named by its place")
            name = f"part {index + 1}"
        ident = base = values.identifier(name)
        counter = 2
        while ident in idents:
            ident, counter = f"{base}_{counter}", counter + 1
        idents.add(ident)
        facts: dict[str, Any] = {"name": name}
        if unknown:
            facts["unmapped"] = unknown
        measures(desc, known, facts, f"{where}.")
        for key in ("tsdc", "manufacturing-process", "printing-process"):
            if key in known:
                facts[key] = known[key]
        material = values.text(known.get("material"))
        if material is None:
            desc.warn(f"{where}.material", "missing; recorded as 'unspecified'")
        texts = [t for t in (values.text(known.get(k)) for k in ("manufacturing-process", "printing-process", "tsdc"))
                 if t]
        process_text = " ".join(texts)
        # The most specific source first: "SLA" as printing process beats the 3DP of its tsdc.
        process = next((p for t in texts for p, pattern in _PROCESS_WORDS if re.search(pattern, t.lower())), None)
        if process is None:
            desc.warn(f"{where}.manufacturing-process", f"{process_text!r} names no process the catalogue knows "
                                                        "(fdm, sla, sls, cnc, laser); recorded as 'manual'"
                      if process_text else "missing; recorded as 'manual'")
        quantity = known.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 100_000:
            desc.warn(f"{where}.quantity", f"{quantity!r} is not a count from 1 to 100000; recorded as 1")
            quantity = 1
        references = []
        for key in PART_FILE_KEYS:
            for item in values.as_list(known.get(key)):
                ref = reference_text(item)
                if ref is None:
                    desc.warn(f"{where}.{key}", f"{item!r} is not a file path or URL")
                else:
                    references.append((f"{where}.{key}", ref))
        desc.parts.append(PartDescription(index, name, ident, material or "unspecified", process or "manual",
                                          quantity, references, facts))
