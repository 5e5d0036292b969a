"""A described manifest and the files beside it, as the files of a ``static`` design folder
(or, when the manifest references its ``design.toml`` and model source, the design they make: :mod:`.source`).

The folder holds the generated ``design.toml`` (``kind = "static"``, one part
per OKH part that has a STEP, STL, 3MF or OBJ file), the manifest itself under
its own name, ``README.md`` (the manifest's readme, or one written from its
name and function), and every other referenced file at the path the manifest
gives it. What it generates depends only on the manifest and those files, so
importing the same manifest twice gives the same content hash.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import tomlkit

from ..errors import FieldError
from ..manifests.bom import read_bom_csv
from ..manifests.loader import BOM_CSV, MANIFEST, MAX_FILES, README
from ..manifests.schema import BREP_SUFFIXES, PART_FILE_SUFFIXES
from ..manifests import DesignFolder
from .mapping import Description
from .references import Found, Missing, RefusedReference, Remote, resolve
from .manifest import RawManifest
from .source import design_source, restore

#: Preference among a part's geometry files: B-rep first (it renders to every format).
_SUFFIX_RANK = {suffix: rank for rank, suffix in enumerate(BREP_SUFFIXES + (".3mf", ".stl", ".obj"))}
#: Names the generated folder owns; a reference to one is kept out of the design.
_GENERATED = {MANIFEST, "model.py"}
#: Where a manifest's own BOM goes when it is not in the catalogue's ``item,quantity,unit,note`` shape.
FOREIGN_BOM = "bom-okh.csv"


@dataclass
class Materialised:
    """The design folder's files, and what could not be taken in."""

    design: dict[str, Any]
    files: dict[str, bytes]
    missing: list[FieldError] = field(default_factory=list)
    remote: list[str] = field(default_factory=list)
    #: ``parts[i]`` of the generated design.toml -> the manifest's key it came from (``part[j]``).
    part_keys: dict[str, str] = field(default_factory=dict)
    #: The design restored from the design.toml and model source beside the manifest (:mod:`.source`);
    #: ``None`` for a static copy.
    folder: DesignFolder | None = None


def materialise(raw: RawManifest, desc: Description) -> Materialised:
    """Read the files *desc* references; refused references go to ``desc.errors``."""
    root = raw.path.parent
    files: dict[str, bytes] = {raw.path.name.lower() if raw.path.name.lower().startswith("okh.") else
                               ("okh.yml" if raw.dialect == "v1" else "okh.toml"): raw.raw}
    out = Materialised(design={}, files=files)
    source = design_source(root, desc)

    def take(key: str, reference: str):
        try:
            found = resolve(root, reference)
        except RefusedReference as exc:
            desc.refuse(key, str(exc))
            return None
        if isinstance(found, Missing):
            out.missing.append(FieldError(desc.display, key, f"{found.path!r}: {found.reason}"))
            return None
        if isinstance(found, Remote):
            out.remote.append(found.url)
            return None
        if found.path in _GENERATED and source is None:
            desc.warn(key, f"{found.path!r} is a name the design folder reserves; not taken in")
            return None
        return found

    if source is not None:
        out.folder = restore(root, desc, source, take, files)
        out.files = dict(out.folder.files) if out.folder is not None else files
        return out
    readme_done = False
    for key, reference in desc.references:
        found = take(key, reference)
        if found is None:
            continue
        if key == "readme" and not readme_done:
            files[README] = found.data
            readme_done = True
            if found.path != README:
                desc.facts["readme"] = found.path
        elif key == "bom" and found.path.lower().endswith(".csv"):
            _take_bom(desc, key, found, files)
        elif not (found.path == README and readme_done):
            files.setdefault(found.path, found.data)
    if not readme_done:
        desc.warn("readme", "no readme beside the manifest; README.md was written from its name and function")
        files[README] = _generated_readme(desc).encode()

    parts = []
    for part in desc.parts:
        geometry: list[Found] = []
        for key, reference in part.references:
            found = take(key, reference)
            if found is None:
                continue
            files.setdefault(found.path, found.data)
            if found.path.lower().endswith(PART_FILE_SUFFIXES):
                geometry.append(found)
        if not geometry:
            desc.warn(f"part[{part.index}]", f"{part.name!r} has no STEP, STL, 3MF or OBJ file beside the "
                                             "manifest; listed in the OKH facts, not as a part")
            continue
        best = min(geometry, key=lambda f: _SUFFIX_RANK[PurePosixPath(f.path).suffix.lower()])
        out.part_keys[f"parts[{len(parts)}]"] = f"part[{part.index}]"
        parts.append({"name": part.ident, "material": part.material, "process": part.process,
                      "quantity": part.quantity, "file": best.path})
    if not parts:
        parts = _parts_from_top_level(desc, files)
    if not parts:
        desc.refuse("part", "no STEP, STL, 3MF or OBJ file that the manifest references exists beside it; "
                            "a design needs at least one part file")
    if len(files) > MAX_FILES:
        desc.refuse("", f"references {len(files)} files; a design holds at most {MAX_FILES}")
    out.design = _design_toml(desc, parts)
    files[MANIFEST] = tomlkit.dumps(out.design).encode()
    return out


def _take_bom(desc: Description, key: str, found: Found, files: dict[str, bytes]) -> None:
    problems: list[FieldError] = []
    lines = read_bom_csv(found.data, found.path, problems)
    if lines and not problems:
        files[BOM_CSV] = found.data
        if found.path != BOM_CSV:
            desc.facts["bom"] = found.path
        return
    # Kept byte for byte, but under a name the catalogue does not read as its own BOM.
    path = FOREIGN_BOM if found.path.lower() == BOM_CSV else found.path
    files.setdefault(path, found.data)
    reason = problems[0].reason if problems else "has no rows"
    desc.warn(key, f"{found.path!r} is not an item,quantity,unit,note CSV ({reason}); kept as {path!r}, "
                   "the design lists no bill of materials")


def _parts_from_top_level(desc: Description, files: dict[str, bytes]) -> list[dict[str, Any]]:
    """A manifest without usable ``[[part]]`` tables: each top-level geometry file is a part."""
    parts = []
    names: set[str] = set()
    from .values import identifier

    for key, reference in desc.references:
        if key not in ("export", "source"):
            continue
        normal = posixpath.normpath(reference.strip().replace("\\", "/").lstrip("/") or ".")
        if normal not in files or not normal.lower().endswith(PART_FILE_SUFFIXES):
            continue
        name = base = identifier(PurePosixPath(normal).stem)
        counter = 2
        while name in names:
            name, counter = f"{base}_{counter}", counter + 1
        names.add(name)
        parts.append({"name": name, "material": "unspecified", "process": "manual", "quantity": 1, "file": normal})
    if parts:
        desc.warn("part", f"no part table with a file; the {len(parts)} geometry file(s) of source/export became "
                          "the parts")
    return parts


def _design_toml(desc: Description, parts: list[dict[str, Any]]) -> dict[str, Any]:
    design: dict[str, Any] = {
        "slug": desc.slug, "kind": "static", "title": desc.title, "summary": desc.summary,
        "version": desc.version, "license": desc.license, "category": desc.category, "tags": desc.tags,
    }
    design["authors"] = [dict(a) for a in desc.authors]
    design["parts"] = parts
    if desc.links:
        design["links"] = dict(sorted(desc.links.items()))
    return design


def _generated_readme(desc: Description) -> str:
    lines = [f"# {desc.title}", "", desc.summary, ""]
    if "repo" in desc.links:
        lines += [f"Project repository: <{desc.links['repo']}>", ""]
    lines.append("This README was written by opendesign from the project's OKH manifest, which has no readme.")
    return "\n".join(lines) + "\n"
