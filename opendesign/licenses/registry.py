"""The registry of license rules: look up a :class:`License` by SPDX id.

The data lives in :mod:`opendesign.licenses.data`; this module indexes it and
answers lookups.  It imports nothing from :mod:`~opendesign.licenses.spdx`,
because the parser asks :func:`known_license_refs` which ``LicenseRef-...`` ids
exist.
"""

from __future__ import annotations

from functools import lru_cache

from .model import FAMILIES, License

__all__ = [
    "License",
    "UnknownLicense",
    "all_licenses",
    "families",
    "find",
    "get",
    "ids",
    "known_license_refs",
]


class UnknownLicense(KeyError):
    """An identifier the registry has no rules for."""

    def __init__(self, license_id: str):
        self.license_id = license_id
        super().__init__(license_id)

    def __str__(self) -> str:
        # KeyError would print the repr of its argument; give a sentence instead.
        return (
            f"no license rules for {self.license_id!r}; "
            f"the registry describes: {', '.join(ids())}"
        )


@lru_cache(maxsize=1)
def _index() -> dict[str, License]:
    # Imported lazily so that importing the registry (which spdx does on every
    # parse) stays cheap and free of cycles.
    from .data import LICENSES

    index: dict[str, License] = {}
    for entry in LICENSES:
        if entry.id in index:
            raise ValueError(f"license {entry.id} is described twice")
        index[entry.id] = entry
    return index


@lru_cache(maxsize=1)
def _folded() -> dict[str, str]:
    return {key.casefold(): key for key in _index()}


def find(license_id: str) -> License | None:
    """The license with *license_id*, or ``None``; case-insensitive like SPDX ids."""
    index = _index()
    hit = index.get(license_id)
    if hit is None:
        canonical = _folded().get((license_id or "").casefold())
        hit = index.get(canonical) if canonical else None
    return hit


def get(license_id: str) -> License:
    """The license with *license_id*.

    :raises UnknownLicense: (a :class:`KeyError`) if the registry does not describe it.
    """
    hit = find(license_id)
    if hit is None:
        raise UnknownLicense(license_id)
    return hit


def all_licenses(family: str | None = None) -> list[License]:
    """Every described license, optionally only those of *family*."""
    if family is not None and family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; expected one of {', '.join(FAMILIES)}")
    return [lic for lic in _index().values() if family is None or lic.family == family]


def ids() -> tuple[str, ...]:
    """Identifiers of every described license, in registry order."""
    return tuple(_index())


def families() -> tuple[str, ...]:
    """The license families, from most to least permissive towards reusers."""
    return FAMILIES


def known_license_refs() -> set[str]:
    """``LicenseRef-...`` identifiers the project describes (used by the SPDX parser)."""
    return {key for key in _index() if key.startswith("LicenseRef-")}
