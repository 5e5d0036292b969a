"""The ``LICENSE`` file of a bundle: the full text of every license in an expression.

Texts come from the ``licensedcode-data`` package (ScanCode's license
database), never from this repository. Its files are
``licensedcode/data/licenses/<key>.LICENSE``: YAML front matter naming the
license (``spdx_license_key``, ``other_spdx_license_keys``), then the text.
A ``LicenseRef-...`` no package carries (the Peer Production License) is named
with its canonical URL from the project's registry instead.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..licenses import registry
from ..licenses.spdx import license_keys

RULE = "=" * 78


@dataclass(frozen=True)
class LicenseText:
    """One license of an expression, with its text when a package carries it."""

    id: str
    name: str
    url: str
    text: str | None
    #: Where the text comes from, e.g. ``licensedcode-data 32.1.0 (cern-ohl-s-2.0)``.
    source: str = ""


@lru_cache(maxsize=1)
def data_dir() -> Path | None:
    """``licensedcode/data/licenses`` of the installed package, or ``None``."""
    spec = importlib.util.find_spec("licensedcode")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "data" / "licenses"
        if path.is_dir():
            return path
    return None


def _front_matter(path: Path) -> dict[str, str | list[str]]:
    """The scalar fields and the ``other_spdx_license_keys`` list of one file's front matter."""
    fields: dict[str, str | list[str]] = {}
    with path.open(encoding="utf-8") as handle:
        if handle.readline().strip() != "---":
            return fields
        current_list: list[str] | None = None
        for line in handle:
            if line.strip() == "---":
                break
            item = re.match(r"^\s+-\s+(.*)$", line)
            if item and current_list is not None:
                current_list.append(item[1].strip())
                continue
            match = re.match(r"^([a-z_]+):\s*(.*)$", line)
            if match:
                key, value = match[1], match[2].strip()
                current_list = [] if not value else None
                fields[key] = current_list if current_list is not None else value
    return fields


@lru_cache(maxsize=1)
def _spdx_index() -> dict[str, Path]:
    """Lower-cased SPDX id -> file, preferring current entries over deprecated ones."""
    index: dict[str, Path] = {}
    deprecated: dict[str, Path] = {}
    root = data_dir()
    for path in sorted(root.glob("*.LICENSE")) if root else []:
        fields = _front_matter(path)
        keys = [fields.get("spdx_license_key")] + list(fields.get("other_spdx_license_keys") or [])
        target = deprecated if fields.get("is_deprecated") == "yes" else index
        for key in keys:
            if isinstance(key, str) and key:
                target.setdefault(key.casefold(), path)
    return {**deprecated, **index}


def _find(spdx_id: str) -> Path | None:
    root = data_dir()
    if root is None:
        return None
    # Most keys are the SPDX id in lower case: check that file before indexing all 2300.
    guess = root / f"{spdx_id.lower()}.LICENSE"
    if guess.is_file() and str(_front_matter(guess).get("spdx_license_key", "")).casefold() == spdx_id.casefold():
        return guess
    return _spdx_index().get(spdx_id.casefold())


def _package_version() -> str:
    try:
        return importlib.metadata.version("licensedcode-data")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def license_text(spdx_id: str) -> LicenseText:
    """Name, URL and (when packaged) full text of one license."""
    known = registry.find(spdx_id)
    path = _find(spdx_id)
    if path is None:
        return LicenseText(spdx_id, known.name if known else spdx_id, known.url if known else "", None)
    raw = path.read_text(encoding="utf-8")
    fields = _front_matter(path)
    # The text follows the second '---' line of the front matter.
    _, _, rest = raw.partition("\n---\n")
    text = rest.strip("\n") + "\n"
    name = known.name if known else str(fields.get("name") or spdx_id)
    url = known.url if known else str(fields.get("homepage_url") or "")
    return LicenseText(spdx_id, name, url, text, f"licensedcode-data {_package_version()} ({path.stem})")


def license_file(expression: str, subject: str) -> str:
    """The ``LICENSE`` file for *subject* (e.g. ``slug@version``) under *expression*."""
    entries = [license_text(key) for key in license_keys(expression)]
    lines = [f"{subject} is licensed under: {expression}", ""]
    if len(entries) > 1:
        lines += ["The expression names several licenses; the full text of each follows.", ""]
    for entry in entries:
        lines += [RULE, f"{entry.id} — {entry.name}"]
        if entry.url:
            lines.append(entry.url)
        if entry.source:
            lines.append(f"Text from {entry.source}")
        lines += [RULE, ""]
        if entry.text is not None:
            lines.append(entry.text)
        else:
            lines += [f"No packaged license database carries the text of {entry.id}.",
                      f"Its canonical text is published at: {entry.url or '(no URL known)'}", ""]
    return "\n".join(lines)
