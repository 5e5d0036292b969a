"""What a file says about where it comes from: the :class:`Provenance` record."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class ProvenanceError(ValueError):
    """Bytes that are not one of the supported formats, or are malformed."""


@dataclass(frozen=True)
class Provenance:
    """What a file says about where it comes from."""

    slug: str
    version: str
    license: str
    title: str = ""
    authors: tuple[str, ...] = ()
    #: Public page of the version; the attribution chain is linked from there.
    url: str = ""
    attribution: str = ""
    part: str | None = None
    #: Canonical custom parameters (empty for the design's defaults).
    parameters: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def ref(self) -> str:
        return f"{self.slug}@{self.version}"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["authors"] = list(self.authors)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Provenance:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        known["authors"] = tuple(known.get("authors") or ())
        known["parameters"] = dict(known.get("parameters") or {})
        return cls(**known)

    def credit(self) -> str:
        by = ", ".join(self.authors) or "unknown authors"
        return f"{self.title or self.slug} ({self.ref}) by {by}, licensed {self.license}"


def for_design(slug: str, version: str, license: str, *, title: str = "", authors: tuple[str, ...] | list[str] = (),
               base_url: str = "", part: str | None = None,
               parameters: dict[str, Any] | None = None) -> Provenance:
    """The provenance of one design version's file; ``url`` is the version's public page."""
    from opendesign.commons.attribution import design_url

    url = design_url(base_url, slug, version) if base_url else ""
    return Provenance(slug=slug, version=version, license=license, title=title, authors=tuple(authors), url=url,
                      attribution=f"{url}#attribution" if url else "", part=part, parameters=dict(parameters or {}))


def for_version(version, base_url: str, part: str | None = None,
                parameters: dict[str, Any] | None = None) -> Provenance:
    """The provenance of a catalogue :class:`~opendesign.models.DesignVersion` (inside its session).

    :param parameters: the canonical custom parameters, or nothing for the defaults.
    """
    return for_design(version.design.slug, version.version, version.license, title=version.title,
                      authors=[a.name for a in version.authors], base_url=base_url, part=part,
                      parameters=parameters)
