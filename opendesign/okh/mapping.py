"""What an OKH manifest says, in the catalogue's terms: :func:`describe`.

The mapping is a pure function of the manifest's data: the importer runs it
to make the design, and the design page and the exporter run it again on the
manifest the design keeps (``okh.toml`` / ``okh.yml`` among its files), so
what was not mapped is shown and exported back exactly as the author wrote
it. File references are listed here and read by :mod:`.materialise`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import FieldError
from ..licenses.spdx import LicenseExpressionError, normalise_expression
from ..manifests.schema import CATEGORIES, SLUG_RE
from . import values
from .manifest import KNOWN_OKHV, LOSH_KEYS, RawManifest, normalise_keys
from .parts import PartDescription, describe_parts, measures, reference_text

TITLE_MAX, SUMMARY_MIN, SUMMARY_MAX = 120, 10, 500
#: Keys whose values are file references (one or a list), at the top and in parts.
FILE_KEYS = ("readme", "image", "bom", "manufacturing-instructions", "user-manual", "contribution-guide",
             "source", "export", "auxiliary")
#: Keys that become design fields or OKH facts; every other key is kept as its author wrote it.
MAPPED_KEYS = frozenset({
    "okhv", "name", "repo", "version", "release", "license", "licensor", "organization", "function", "readme",
    "image", "bom", "part", "fork-of", "derivative-of", "documentation-language", "technology-readiness-level",
    "documentation-readiness-level", "attestation", "mass", "outer-dimensions", "opendesign",
})
#: Words in a name or function that place a design in a category, first match wins.
_CATEGORY_WORDS = (
    ("energy", r"solar|photovoltaic|wind|turbine|generator|battery|energy|power|stove|cooker|biogas"),
    ("water", r"water|filter|rain|pump|irrigat|well|sanitation|toilet"),
    ("food-agriculture", r"food|farm|agricultur|seed|harvest|grain|mill|dryer|garden|hydroponic|bee|soil|tractor"),
    ("health", r"medical|health|prosthe|ventilator|microscope|orthos|hospital"),
    ("waste-recycling", r"recycl|shredder|compost|waste|plastic"),
    ("mobility", r"bike|bicycle|cargo|vehicle|wheelchair|cart"),
    ("shelter", r"house|shelter|building|roof|brick|wall|furniture"),
)
_TAG_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]*$")



@dataclass
class Description:
    """A manifest understood: the design fields, the OKH facts beside them, what was kept unmapped."""

    display: str
    dialect: str
    slug: str = ""
    title: str = ""
    summary: str = ""
    version: str = ""
    license: str = ""
    category: str = ""
    authors: list[dict[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)
    parts: list[PartDescription] = field(default_factory=list)
    #: (key, reference) of the files named at the top level; ``readme`` and ``bom`` among them.
    references: list[tuple[str, str]] = field(default_factory=list)
    #: fork-of / derivative-of / opendesign.derived-from, as written: (key, text).
    parents: list[tuple[str, str]] = field(default_factory=list)
    #: OKH fields mapped but without a column of their own (organization, readiness...).
    facts: dict[str, Any] = field(default_factory=dict)
    #: Every field not mapped, under the key its author wrote.
    unmapped: dict[str, Any] = field(default_factory=dict)
    warnings: list[FieldError] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)

    def warn(self, key: str, reason: str) -> None:
        self.warnings.append(FieldError(self.display, key, reason))

    def refuse(self, key: str, reason: str) -> None:
        self.errors.append(FieldError(self.display, key, reason))


def describe(raw: RawManifest) -> Description:
    """Map *raw*; refusals go to ``errors`` (no name, no or unknown license, too many parts)."""
    desc = Description(display=raw.display, dialect=raw.dialect)
    top, desc.unmapped, spelled = normalise_keys(raw.data, raw.dialect, LOSH_KEYS, raw.display, "", desc.warnings)
    for key in sorted(set(top) - MAPPED_KEYS, key=list(top).index):
        desc.unmapped[spelled[key]] = top[key]  # understood, but the catalogue has no field for it
    ours = top.pop("opendesign", None)
    ours = ours if isinstance(ours, dict) else {}
    _okhv(desc, top.get("okhv"))
    _identity(desc, top, ours)
    _license(desc, top.get("license"))
    _authors(desc, top)
    _facts(desc, top)
    _links(desc, top)
    _parents(desc, top, ours)
    for key in FILE_KEYS:
        for item in values.as_list(top.get(key)):
            ref = reference_text(item)
            if ref is None:
                desc.warn(key, f"{item!r} is not a file path or URL")
            else:
                desc.references.append((key, ref))
    describe_parts(desc, top.get("part"))
    return desc


def _okhv(desc: Description, value: Any) -> None:
    okhv = values.text(value)
    if okhv is None:
        desc.warn("okhv", "missing; read as OKH-LOSHv1.0" if desc.dialect == "losh" else "missing; read as OKH v1")
    elif okhv not in KNOWN_OKHV:
        desc.warn("okhv", f"{okhv!r} is not a known OKH version ({', '.join(KNOWN_OKHV)}); read as OKH-LOSHv1.0")
    desc.facts["okhv"] = okhv or ("OKH-LOSHv1.0" if desc.dialect == "losh" else "1.0")


def _identity(desc: Description, top: dict[str, Any], ours: dict[str, Any]) -> None:
    name = values.text(top.get("name"))
    if name is None:
        desc.refuse("name", "missing; an OKH manifest needs a name to become a design")
        name = ""
    slug = values.text(ours.get("slug"))
    desc.slug = slug if slug and re.match(SLUG_RE, slug) and len(slug) <= 64 else values.slugify(name)
    desc.title = name[:TITLE_MAX].strip()
    if len(name) > TITLE_MAX:
        desc.warn("name", f"is {len(name)} characters; the title keeps the first {TITLE_MAX}")
    if name and len(desc.title) < 3:
        desc.title = f"{desc.title} (OKH)"
    function = top.get("function")
    summary = " ".join(filter(None, (values.text(v) for v in values.as_list(function)))) if function else ""
    if not summary:
        desc.warn("function", "missing; the summary says where the design came from")
        summary = f"{name or 'A design'}: open hardware taken in from its OKH manifest."
    if len(summary) < SUMMARY_MIN:
        summary = f"{name}: {summary}"
    if len(summary) > SUMMARY_MAX:
        desc.warn("function", f"is {len(summary)} characters; the summary keeps the first {SUMMARY_MAX - 1}")
        summary = summary[:SUMMARY_MAX - 1].rstrip() + "…"
    desc.summary = summary
    desc.version, why = values.semantic_version(top.get("version"))
    if why:
        desc.warn("version", why)
    category = values.text(ours.get("category"))
    if category in CATEGORIES:
        desc.category = category
    else:
        words = f"{name} {summary}".lower()
        # The category whose words the text names most often; ties go to the earlier one.
        scores = [(len(re.findall(pattern, words)), -i, c) for i, (c, pattern) in enumerate(_CATEGORY_WORDS)]
        best = max(scores)
        desc.category = best[2] if best[0] else "tools-fabrication"
        desc.warn("function", f"OKH has no category; {desc.category!r} was inferred from the name and function")
    tags = {t for t in (values.text(t) for t in values.as_list(ours.get("tags"))) if t and _TAG_RE.match(t)}
    for keyword in values.as_list(desc.unmapped.get("keywords")):
        word = values.slugify(values.text(keyword) or "", 40)
        if _TAG_RE.match(word) and not word.startswith("okh-"):
            tags.add(word)
    # Our own export lists the design's tags; anything else is marked as taken in from OKH.
    desc.tags = sorted(tags if "tags" in ours else tags | {"okh"})
    links = ours.get("links")
    if isinstance(links, dict):
        desc.links = {str(k): v for k, v in links.items() if isinstance(v, str) and values.is_url(v)}
        desc.facts["own-links"] = True


def _license(desc: Description, value: Any) -> None:
    if isinstance(value, dict):  # OKH v1: {hardware, documentation, software}
        desc.facts["licenses"] = {str(k): v for k, v in value.items()}
        value = value.get("hardware") or value.get("documentation") or value.get("software")
    elif isinstance(value, list) and value:
        desc.warn("license", "OKH-LOSH takes one SPDX expression; the list was read as all of them (AND)")
        value = " AND ".join(str(v) for v in value)
    text = values.text(value)
    if text is None:
        desc.refuse("license", "missing; a design needs a license (an SPDX expression such as 'CERN-OHL-S-2.0')")
        return
    try:
        desc.license = normalise_expression(text)
    except LicenseExpressionError as exc:
        desc.refuse("license", f"{exc}; give an SPDX expression or a known LicenseRef")


def _authors(desc: Description, top: dict[str, Any]) -> None:
    for index, item in enumerate(values.as_list(top.get("licensor"))):
        author, why = values.person(item)
        if author is None:
            desc.warn(f"licensor[{index}]", why or "not understood")
        elif author not in desc.authors:
            desc.authors.append(author)
    organizations = []
    for item in values.as_list(top.get("organization")):
        org, _ = values.person(item)
        if org:
            organizations.append(org)
    if organizations:
        desc.facts["organization"] = [o["name"] for o in organizations]
    if not desc.authors:
        desc.authors = organizations[:1] or [{"name": "unknown licensor"}]
        desc.warn("licensor", f"missing; the design names {desc.authors[0]['name']!r} as its author")


def _facts(desc: Description, top: dict[str, Any]) -> None:
    languages = []
    for item in values.as_list(top.get("documentation-language")):
        tag, why = values.language(item)
        if why:
            desc.warn("documentation-language", why)
        elif tag:
            languages.append(tag)
    if languages:
        desc.facts["documentation-language"] = languages if len(languages) > 1 else languages[0]
    for key, levels, prefix in (("technology-readiness-level", values.TECHNOLOGY_LEVELS, "OTRL"),
                                ("documentation-readiness-level", values.DOCUMENTATION_LEVELS, "ODRL")):
        if key in top:
            level, why = values.readiness(top[key], levels, prefix)
            if why:
                desc.warn(key, why)
            if level:
                desc.facts[key] = level
    attestations = [a for a in (values.text(v) for v in values.as_list(top.get("attestation"))) if a]
    for item in attestations:
        if not values.is_url(item):
            desc.warn("attestation", f"{item!r} is not an http(s) URL; kept as written")
    if attestations:
        desc.facts["attestation"] = attestations
    measures(desc, top, desc.facts, "")


def _links(desc: Description, top: dict[str, Any]) -> None:
    if desc.facts.pop("own-links", False):
        return  # our own export: its [opendesign] links are the design's, repo is only its page
    for key in ("repo", "release"):
        link = values.text(top.get(key))
        if link is None:
            if key == "repo":
                desc.warn("repo", "missing; OKH-LOSH requires the project's repository URL")
            continue
        if values.is_url(link):
            desc.links[key] = link
        else:
            desc.warn(key, f"{link!r} is not an http(s) URL; kept as written")
            desc.facts[key] = link


def _parents(desc: Description, top: dict[str, Any], ours: dict[str, Any]) -> None:
    ours_parents = [values.text(v) for v in values.as_list(ours.get("derived-from"))]
    if any(ours_parents):
        # Our own export names its parents exactly; fork-of then only repeats them as URLs.
        desc.parents = [("opendesign.derived-from", p) for p in ours_parents if p]
        return
    for key in ("fork-of", "derivative-of"):
        for item in values.as_list(top.get(key)):
            if isinstance(item, dict):  # OKH v1: {title, manifest, web}
                item = item.get("web") or item.get("manifest") or item.get("title")
            ref = values.text(item)
            if ref is None:
                desc.warn(key, f"{item!r} names no design")
            else:
                desc.parents.append((key, ref))
