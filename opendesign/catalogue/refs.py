"""``slug[@version]`` references and semantic-version ordering."""

from __future__ import annotations

from dataclasses import dataclass

import semver

from ..errors import OpenDesignError


@dataclass(frozen=True)
class DesignRef:
    slug: str
    version: str | None = None

    def __str__(self) -> str:
        return f"{self.slug}@{self.version}" if self.version else self.slug


def parse_ref(text: str) -> DesignRef:
    """Parse ``slug`` or ``slug@version``."""
    slug, sep, version = text.strip().partition("@")
    if not slug or (sep and not version):
        raise OpenDesignError(f"{text!r}: expected SLUG or SLUG@VERSION")
    if version and not semver.Version.is_valid(version):
        raise OpenDesignError(f"{text!r}: {version!r} is not a semantic version")
    return DesignRef(slug, version or None)


def version_key(version: str) -> semver.Version:
    return semver.Version.parse(version)


def newest(versions: list[str]) -> str:
    return max(versions, key=version_key)
