"""Finding and reading OKH manifests: ``okh.toml`` (OKH-LOSH) and ``okh.yml`` (OKH v1).

A manifest is untrusted text from someone else's repository. It is size-capped,
parsed with TOML's and YAML's safe loaders (YAML aliases are refused: a few
hundred bytes of them expand into gigabytes), and its keys are brought to the
OKH-LOSH spelling here, so the mapping downstream reads one dialect. Keys that
are misspelt or retired are read under their current name with a warning;
every key, known or not, stays available to be kept as the author wrote it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import FieldError, ManifestError
from ..manifests.textfiles import TextError, decode_utf8, parse_toml, shape_problem

LOSH_NAMES = ("okh.toml",)
V1_NAMES = ("okh.yml", "okh.yaml")
MANIFEST_NAMES = LOSH_NAMES + V1_NAMES
NO_SUCH_PATH = "no such file or folder"
#: No real manifest comes near this; a bigger one is refused before parsing.
MAX_MANIFEST_BYTES = 1024 * 1024
#: Folders a harvested tree holds that never contain a project's manifest.
_SKIPPED_FOLDERS = {".git", "node_modules", "__pycache__", ".venv"}

#: Top-level keys of OKH-LOSH (iop-alliance/OpenKnowHow), and of its part tables.
LOSH_KEYS = frozenset({
    "okhv", "name", "repo", "version", "release", "license", "licensor", "organization", "readme",
    "contribution-guide", "image", "documentation-language", "technology-readiness-level",
    "documentation-readiness-level", "attestation", "publication", "function", "standard-compliance",
    "cpc-patent-class", "tsdc", "bom", "manufacturing-instructions", "user-manual", "outer-dimensions", "mass",
    "source", "export", "auxiliary", "part", "software", "fork-of", "derivative-of", "opendesign",
})
PART_KEYS = frozenset({
    "name", "image", "source", "export", "auxiliary", "tsdc", "material", "manufacturing-process",
    "printing-process", "mass", "outer-dimensions", "quantity",
})
#: Misspelt or retired keys seen in the wild -> the key OKH-LOSH uses now.
ALIASES = {
    "tsdc-id": "tsdc", "patent-class": "cpc-patent-class", "cpc-patent": "cpc-patent-class",
    "outer-dimension": "outer-dimensions", "outer-dimensions-mm": "outer-dimensions", "dimensions": "outer-dimensions",
    "licence": "license", "spdx-license": "license", "licensors": "licensor", "organisation": "organization",
    "images": "image", "readme-file": "readme", "documentation-languages": "documentation-language",
    "technology-readiness": "technology-readiness-level", "otrl": "technology-readiness-level",
    "documentation-readiness": "documentation-readiness-level", "odrl": "documentation-readiness-level",
    "forkof": "fork-of", "fork": "fork-of", "derived-from": "derivative-of", "variant-of": "derivative-of",
    "parts": "part", "process": "manufacturing-process", "weight": "mass",
}
#: OKH v1 (okh.yml) keys -> their OKH-LOSH counterparts. The rest are kept as written.
V1_KEYS = {
    "title": "name", "description": "function", "project-link": "repo", "documentation-home": "repo",
    "manufacturing-files": "export", "design-files": "source", "making-instructions": "manufacturing-instructions",
    "operating-instructions": "user-manual", "documentation-language": "documentation-language",
    "version": "version", "license": "license", "licensor": "licensor", "image": "image", "bom": "bom",
    "readme": "readme", "derivative-of": "derivative-of", "variant-of": "derivative-of",
    "okhv": "okhv", "sub-parts": "part",
}
#: okhv values found in real manifests; anything else is read as OKH-LOSH with a warning.
KNOWN_OKHV = ("OKH-LOSHv1.0", "2.0", "2.4", "1.0")


@dataclass
class RawManifest:
    """One manifest file, parsed; keys not yet brought to OKH-LOSH spelling."""

    path: Path
    #: How errors and warnings name the file (as the user gave the path).
    display: str
    dialect: str  # "losh" | "v1"
    data: dict[str, Any]
    raw: bytes = field(repr=False, default=b"")


class _NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader; aliases are refused by :func:`_refuse_aliases` before it runs."""


def _refuse_aliases(text: str, display: str) -> None:
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            line = event.start_mark.line + 1 if event.start_mark else 0
            raise ManifestError([FieldError(display, f"line {line}",
                                            "uses a YAML alias (*name); aliases are refused in OKH manifests")])


def _parse_yaml(data: bytes, display: str) -> Any:
    try:
        text = decode_utf8(data, display)
    except TextError as exc:
        raise ManifestError([exc.error]) from None
    try:
        _refuse_aliases(text, display)
        value = yaml.load(text, Loader=_NoAliasLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}" if mark else ""
        raise ManifestError([FieldError(display, where, f"is not valid YAML: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise ManifestError([FieldError(display, "", f"is not valid YAML: {exc}")]) from None
    except RecursionError:
        raise ManifestError([FieldError(display, "", "is nested too deeply")]) from None
    return value


def read_manifest(path: str | Path, display: str | None = None) -> RawManifest:
    """Parse the manifest at *path*.

    :raises ManifestError: unreadable, too big, not TOML / not YAML, or not a table at the top.
    """
    path = Path(path)
    display = display or str(path)
    size = path.stat().st_size
    if size > MAX_MANIFEST_BYTES:
        raise ManifestError([FieldError(display, "", f"is {size} bytes; the limit for a manifest is "
                                                     f"{MAX_MANIFEST_BYTES}")])
    return parse_manifest(path.read_bytes(), path, display)


def parse_manifest(data: bytes, path: Path, display: str) -> RawManifest:
    """Parse manifest bytes; *path* names the file (its name gives the dialect). :raises ManifestError:"""
    dialect = "v1" if path.name.lower() in V1_NAMES else "losh"
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError([FieldError(display, "", f"is {len(data)} bytes; the limit for a manifest is "
                                                     f"{MAX_MANIFEST_BYTES}")])
    if dialect == "v1":
        value = _parse_yaml(data, display)
        if not isinstance(value, dict):
            kind = "empty" if value is None else f"a YAML {type(value).__name__}"
            raise ManifestError([FieldError(display, "", f"is {kind}, not a YAML mapping of OKH keys")])
        problem = shape_problem(value)
        if problem:
            raise ManifestError([FieldError(display, "", problem)])
    else:
        try:
            value = parse_toml(data, display)
        except TextError as exc:
            raise ManifestError([exc.error]) from None
    return RawManifest(path=path, display=display, dialect=dialect, data=value, raw=data)


def _canonical(key: str) -> str:
    return str(key).strip().lower().replace("_", "-").replace(" ", "-")


def normalise_keys(data: dict[str, Any], dialect: str, known: frozenset[str], display: str, where: str,
                   warnings: list[FieldError]) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """Split *data* into (known keys in OKH-LOSH spelling -> value, every other key as written -> value,
    OKH-LOSH key -> the key as written).

    :param where: the table's place in the manifest (``""`` or ``part[2]``), for warnings.
    """
    understood: dict[str, Any] = {}
    unknown: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    for key, value in data.items():
        name = _canonical(key)
        field_name = f"{where}.{key}" if where else str(key)
        target = None
        if dialect == "v1" and not where and name in V1_KEYS:
            target = V1_KEYS[name]
        elif name in known:
            target = name
        elif name in ALIASES and ALIASES[name] in known:
            target = ALIASES[name]
            warnings.append(FieldError(display, field_name, f"misspelt or retired key; read as {target!r}"))
        if target is None:
            unknown[str(key)] = value
            if dialect == "losh":
                close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                warnings.append(FieldError(display, field_name, f"not an OKH-LOSH key{hint}; kept as written"))
            continue
        if target in understood:
            warnings.append(FieldError(display, field_name, f"repeats {target!r}; the first one is used, "
                                                            "this one is kept as written"))
            unknown[str(key)] = value
            continue
        understood[target] = value
        spelled[target] = str(key)
    return understood, unknown, spelled


def discover_manifests(paths: list[str | Path]) -> tuple[list[Path], list[FieldError]]:
    """Manifest files named by *paths*: files as given, folders searched as the LOSH crawler harvests them.

    A folder holding both an ``okh.toml`` and an ``okh.yml`` describes one project:
    the OKH-LOSH one is read, the other listed as skipped.
    """
    found: list[Path] = []
    problems: list[FieldError] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            found.append(path)
            continue
        if not path.is_dir():
            problems.append(FieldError(str(raw), "", NO_SUCH_PATH))
            continue
        for folder, dirs, files in _walk(path):
            names = {name.lower(): name for name in files}
            chosen = next((names[n] for n in MANIFEST_NAMES if n in names), None)
            if chosen is None:
                continue
            found.append(folder / chosen)
            for other in MANIFEST_NAMES:
                if other in names and names[other] != chosen:
                    problems.append(FieldError(str(folder / names[other]), "",
                                               f"skipped: {chosen} in the same folder describes the project"))
    return found, problems


def _walk(root: Path):
    # os.walk without following symbolic links to folders: a harvested tree may hold loops.
    import os

    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_FOLDERS and not d.startswith("."))
        yield Path(folder), dirs, sorted(files)

