"""The attribution chain of a design version: itself and every ancestor.

Each entry carries what a credit line needs (title, version, authors,
license, link), following the Creative Commons TASL practice (Title, Author,
Source, License). :func:`attribution_chain` is the data the web pages and
bundles use; :func:`attribution_text` is the plain-text form of the CLI and of
a bundle's ``ATTRIBUTION.txt``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ..licenses import registry
from ..models import DesignVersion
from .lineage import ancestors, parents


def design_url(base_url: str, slug: str, version: str) -> str:
    """The public page of one version, ``<base_url>/designs/<slug>/<version>``."""
    return f"{base_url.rstrip('/')}/designs/{slug}/{version}"


def _licenses(expression: str) -> list[dict[str, str]]:
    """Name and URL of each license the registry knows in *expression* (in order)."""
    from ..licenses.spdx import license_keys

    out = []
    for key in license_keys(expression):
        lic = registry.find(key)
        out.append({"id": key, "name": lic.name if lic else key, "url": lic.url if lic else ""})
    return out


def entry(version: DesignVersion, base_url: str, generation: int) -> dict[str, Any]:
    """One link of the chain."""
    return {
        "slug": version.design.slug,
        "version": version.version,
        "ref": version.ref,
        "title": version.title,
        "authors": [{"name": a.name, "contact": a.contact} for a in version.authors],
        "license": version.license,
        "licenses": _licenses(version.license),
        "url": design_url(base_url, version.design.slug, version.version),
        "derived_from": [p.ref for p in parents(version)],
        #: 0 for the design itself, 1 for its parents, 2 for grandparents...
        "generation": generation,
    }


def attribution_chain(session: Session, version: DesignVersion, base_url: str) -> list[dict[str, Any]]:
    """*version* first, then every ancestor, nearest generation first, each once.

    An ancestor reached along several paths is listed at its nearest generation.
    """
    generation = {version.id: 0}
    chain = [version]
    for ancestor in ancestors(session, version):
        generation[ancestor.id] = 1 + min(generation[child.child_id] for child in ancestor.children
                                          if child.child_id in generation)
        chain.append(ancestor)
    return [entry(v, base_url, generation[v.id]) for v in chain]


def credit_line(item: dict[str, Any]) -> str:
    """``"Title" 1.0.0 by A, B — CC-BY-4.0`` for one chain entry."""
    authors = ", ".join(a["name"] for a in item["authors"]) or "unknown authors"
    return f"\"{item['title']}\" {item['version']} by {authors}, licensed {item['license']}"


def attribution_text(chain: list[dict[str, Any]]) -> str:
    """The chain as plain text: the design, then what it derives from, indented by generation."""
    if not chain:
        return ""
    head, rest = chain[0], chain[1:]
    lines = [f"{head['title']} ({head['ref']})", "", credit_line(head), f"  {head['url']}"]
    lines += [f"  license: {lic['name']} — {lic['url']}" for lic in head["licenses"] if lic["url"]]
    if rest:
        lines += ["", "Derived from:"]
        for item in rest:
            indent = "  " * item["generation"]
            lines.append(f"{indent}{credit_line(item)}")
            lines.append(f"{indent}  {item['url']}")
            if item["derived_from"]:
                lines.append(f"{indent}  (itself derived from {', '.join(item['derived_from'])})")
    return "\n".join(lines) + "\n"
