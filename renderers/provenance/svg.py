"""SVG: a Dublin Core ``<metadata>`` block right after the root element."""

from __future__ import annotations

import re
from typing import Any

from .model import Provenance, ProvenanceError

def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


_SVG_BLOCK = re.compile(r"\s*<metadata id=\"opendesign-provenance\">.*?</metadata>", re.S)


def embed(data: bytes, prov: Provenance) -> bytes:
    text = _SVG_BLOCK.sub("", data.decode("utf-8"))
    match = re.search(r"<svg\b[^>]*>", text)
    if not match:
        raise ProvenanceError("not an SVG file: no <svg> element")
    block = (
        '\n<metadata id="opendesign-provenance">'
        f'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        f'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<rdf:Description rdf:about="{_xml_text(prov.url)}">'
        f"<dc:title>{_xml_text(prov.title or prov.slug)}</dc:title>"
        f"<dc:identifier>{_xml_text(prov.ref)}</dc:identifier>"
        + "".join(f"<dc:creator>{_xml_text(a)}</dc:creator>" for a in prov.authors)
        + f"<dc:rights>{_xml_text(prov.license)}</dc:rights>"
        f"<dc:source>{_xml_text(prov.attribution or prov.url)}</dc:source>"
        "</rdf:Description></rdf:RDF></metadata>"
    )
    return (text[:match.end()] + block + text[match.end():]).encode("utf-8")


def read(data: bytes) -> dict[str, Any]:
    text = data.decode("utf-8", "replace")
    block = _SVG_BLOCK.search(text)
    out: dict[str, Any] = {"format": "svg"}
    if not block:
        return out

    def tags(name: str) -> list[str]:
        raw = re.findall(rf"<dc:{name}>(.*?)</dc:{name}>", block[0], re.S)
        return [r.replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
                for r in raw]

    ident = tags("identifier")
    if ident and "@" in ident[0]:
        out["slug"], out["version"] = ident[0].split("@", 1)
    for key, tag in (("license", "rights"), ("title", "title"), ("attribution", "source")):
        if tags(tag):
            out[key] = tags(tag)[0]
    out["authors"] = tags("creator")
    return out
