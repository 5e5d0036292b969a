"""A manifest that references its design's source: the design restored from it, not a static copy.

Our own manifests (a bundle's ``okh.toml``, ``opendesign okh export``) list
``design.toml`` and the model file(s) under ``source``. When that
``design.toml`` is beside the manifest, the design is the folder those files
make, validated by the same loader as any design folder: the same kind,
parameters, presets, parts, lineage and model code, byte for byte. The model
code is only stored: the loader parses it (``ast``) and never runs it; it runs
only in the render sandbox. The manifest is kept among the design's files, so
its OKH facts and unmapped fields go back out as they came in
(:mod:`.extras`). Files the manifest lists under ``export`` are renders of the
model and are not taken in: the catalogue renders the model itself.

A referenced ``design.toml`` that is not there leaves the static import of the
exported files, with a warning naming it; one that is invalid refuses the
manifest, each error naming the file and field.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..errors import FieldError, ManifestError
from ..manifests import DesignFolder, DesignManifest, load_design_folder
from ..manifests.bom import read_bom_csv
from ..manifests.loader import BOM_CSV, MANIFEST, README
from ..manifests.schema import SLUG_RE
from ..manifests.textfiles import TextError, parse_toml
from .mapping import Description
from .references import Found, Missing, RefusedReference, confined, resolve

#: Take a referenced file, or ``None`` (missing, remote, refused: recorded by the caller).
Take = Callable[[str, str], Found | None]


def design_source(root: Path, desc: Description) -> Found | None:
    """The ``design.toml`` the manifest's top-level ``source`` names, when it is beside the manifest."""
    for key, reference in desc.references:
        if key != "source":
            continue
        try:
            found = resolve(root, reference)
        except RefusedReference:
            continue  # the materialiser refuses it, with the reason
        if isinstance(found, Found) and found.path == MANIFEST:
            return found
        if isinstance(found, Missing) and found.path == MANIFEST:
            desc.warn("source", f"{reference!r}: {root / MANIFEST} is not beside the manifest; the design was "
                                "imported as a static copy of its exported files, without its model code and "
                                "parameters")
    return None


def _path(reference: str) -> str | None:
    """The path *reference* names, ``None`` for a URL or one refused (``take`` then refuses it, with the reason)."""
    try:
        return confined(reference)
    except RefusedReference:
        return None


def restore(root: Path, desc: Description, design_toml: Found, take: Take,
            files: dict[str, bytes]) -> DesignFolder | None:
    """Add the design's source files to *files* and load them as a design folder.

    :returns: the validated :class:`~opendesign.manifests.DesignFolder`, or
        ``None`` with the problems in ``desc.errors``.
    """
    where = str(root / MANIFEST)
    try:
        data = parse_toml(design_toml.data, where)
    except TextError as exc:
        desc.errors.append(exc.error)
        return None
    renders: set[str] = set()
    for key, reference in _all_references(desc):
        if key == "export" or key.endswith(".export"):
            try:
                renders.add(confined(reference) or reference)
            except RefusedReference as exc:  # not read, but a manifest reaching outside is refused all the same
                desc.refuse(key, str(exc))
    files[MANIFEST] = design_toml.data
    for key, reference in _all_references(desc):
        if key == "export" or key.endswith(".export") or _path(reference) in renders:
            continue
        found = take(key, reference)
        if found is None or found.path == MANIFEST:
            continue
        if key == "readme" and README not in files:
            files[README] = found.data
        elif key == "bom":
            # A bundle's BOM.csv is written from design.toml's [[bom]] when it has one; otherwise it
            # is the design's own bom.csv (an empty one means the design lists no BOM).
            problems: list[FieldError] = []
            if not data.get("bom") and read_bom_csv(found.data, found.path, problems) and not problems:
                files[BOM_CSV] = found.data
            elif problems:
                desc.warn(key, f"{found.path!r} is not an item,quantity,unit,note CSV ({problems[0].reason}); "
                               "not taken in")
        else:
            files.setdefault(found.path, found.data)
    # The manifest's part tables describe renders; design.toml's parts are the design's.
    desc.warnings = [w for w in desc.warnings if not w.field.startswith("part[")]
    folder = _load(root, desc, data, files)
    if folder is not None:
        _adopt(desc, folder.manifest)
    return folder


def _all_references(desc: Description) -> list[tuple[str, str]]:
    return desc.references + [r for part in desc.parts for r in part.references]


def _load(root: Path, desc: Description, data: dict, files: dict[str, bytes]) -> DesignFolder | None:
    """The files as a design folder, validated by the loader (which parses model code, never runs it)."""
    slug = data.get("slug")
    name = slug if isinstance(slug, str) and re.match(SLUG_RE, slug) else (desc.slug or "design")
    with tempfile.TemporaryDirectory(prefix="okh-source-") as tmp:
        folder_path = Path(tmp) / name
        folder_path.mkdir()
        for rel, blob in files.items():
            target = folder_path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob)
        try:
            return load_design_folder(folder_path, display=str(root))
        except ManifestError as exc:
            desc.errors.extend(exc.errors)
            return None


def _adopt(desc: Description, manifest: DesignManifest) -> None:
    """design.toml is the design: its identity, text and lineage replace what the manifest mapped to."""
    for key, ours in (("name", manifest.slug), ("version", manifest.version)):
        theirs = desc.slug if key == "name" else desc.version
        if theirs and theirs != ours:
            what = "makes the slug" if key == "name" else "says version"
            desc.warn(key, f"{what} {theirs!r}, but {MANIFEST} beside it says {ours!r}; {MANIFEST} wins")
    desc.slug, desc.version, desc.title, desc.summary = manifest.slug, manifest.version, manifest.title, \
        manifest.summary
    desc.license, desc.category, desc.tags = manifest.license, manifest.category, list(manifest.tags)
    desc.authors = [a.model_dump(exclude_none=True) for a in manifest.authors]
    desc.links = dict(manifest.links)
    desc.parents = [(f"{MANIFEST}: derived_from[{i}]", ref) for i, ref in enumerate(manifest.derived_from)]

