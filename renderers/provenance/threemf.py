"""3MF: Title, Designer, Description, Copyright and LicenseTerms metadata, and our own
(namespaced) fields, in the model part; the zip is rewritten deterministically.

The 3MF core spec puts ``<metadata>`` before ``<resources>``; trimesh stamps random
production-extension UUIDs and CadQuery a CreationDate and zip times, all normalised here.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
import zipfile
from typing import Any

from .model import Provenance, ProvenanceError

#: Zip entry time of every rewritten 3MF: the earliest a zip can hold, never the render's.
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
#: Namespace of our own metadata (the 3MF core spec wants non-standard names qualified).
NS_3MF = "urn:opendesign:provenance:1"
NS_3MF_CORE = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
NS_3MF_PRODUCTION = "http://schemas.microsoft.com/3dmanufacturing/production/2015/06"


_3MF_STANDARD = ("Title", "Designer", "Description", "Copyright", "LicenseTerms")
#: Metadata that stamps the time of export; dropped for reproducibility.
_3MF_DROPPED = ("CreationDate", "ModificationDate")


def _model_part(names: list[str], rels: bytes | None) -> str:
    if rels:
        match = re.search(rb'Target="/?([^"]+\.model)"', rels)
        if match and match[1].decode() in names:
            return match[1].decode()
    if "3D/3dmodel.model" in names:
        return "3D/3dmodel.model"
    raise ProvenanceError("not a 3MF file: no 3D model part")


def _stable_uuids(root) -> None:
    """Replace every production-extension UUID by one derived from the content.

    The seed is the exclusive canonical form of the model's children with the
    UUIDs blanked and our metadata already removed, so re-embedding (or a new
    random UUID from the exporter) gives the same UUIDs.
    """
    from lxml import etree

    attr = f"{{{NS_3MF_PRODUCTION}}}UUID"
    nodes = [el for el in root.iter() if attr in el.attrib]
    for el in nodes:
        el.set(attr, "")
    seed = hashlib.sha256(b"".join(etree.tostring(child, method="c14n", exclusive=True, with_comments=False)
                                   for child in root)).digest()
    for index, el in enumerate(nodes):
        digest = hashlib.sha256(seed + index.to_bytes(4, "big")).digest()
        el.set(attr, str(uuid.UUID(bytes=digest[:16], version=4)))


def _3mf_entries(prov: Provenance) -> list[tuple[str, str]]:
    who = ", ".join(prov.authors) or "unknown authors"
    title = prov.title or prov.slug
    what = f"{title}, part {prov.part}" if prov.part else title
    description = (f"{what} ({prov.ref}), licensed {prov.license}. "
                   f"Attribution: {prov.attribution or prov.url or 'see ATTRIBUTION'}")
    entries = [
        ("Title", f"{what} ({prov.ref})"),
        ("Designer", who),
        ("Description", description),
        ("Copyright", f"© {who}. Licensed under {prov.license}."),
        ("LicenseTerms", prov.license),
    ]
    ours = {"slug": prov.slug, "version": prov.version, "license": prov.license, "url": prov.url,
            "attribution": prov.attribution}
    if prov.part:
        ours["part"] = prov.part
    if prov.parameters:
        ours["parameters"] = json.dumps(prov.parameters, sort_keys=True, separators=(",", ":"))
    entries += [(f"opendesign:{k}", v) for k, v in ours.items() if v]
    return entries


def embed(data: bytes, prov: Provenance) -> bytes:
    from lxml import etree

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ProvenanceError(f"not a 3MF file: {exc}") from None
    name = _model_part(list(parts), parts.get("_rels/.rels"))
    root = etree.fromstring(parts[name], etree.XMLParser(resolve_entities=False, no_network=True))
    if etree.QName(root).localname != "model":
        raise ProvenanceError(f"not a 3MF file: {name} has no <model> root")
    if root.nsmap.get("opendesign") != NS_3MF:
        # lxml cannot add a namespace declaration in place; rebuild the root with it.
        nsmap = {**root.nsmap, "opendesign": NS_3MF}
        new = etree.Element(root.tag, attrib=dict(root.attrib), nsmap=nsmap)
        new.text = root.text
        new.extend(list(root))
        root = new
    core = root.nsmap.get(None, NS_3MF_CORE)
    for el in root.findall(f"{{{core}}}metadata"):
        key = el.get("name", "")
        if key in _3MF_STANDARD or key in _3MF_DROPPED or key.startswith("opendesign:"):
            root.remove(el)
    _stable_uuids(root)
    for index, (key, value) in enumerate(_3mf_entries(prov)):
        meta = etree.Element(f"{{{core}}}metadata", name=key)
        meta.text = value
        root.insert(index, meta)
    parts[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return deterministic_zip(parts)


def deterministic_zip(parts: dict[str, bytes]) -> bytes:
    """A zip of *parts* in the given order, with fixed times and permissions."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in parts.items():
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            archive.writestr(info, body, compresslevel=6)
    return out.getvalue()


def read(data: bytes) -> dict[str, Any]:
    from lxml import etree

    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    rels = archive.read("_rels/.rels") if "_rels/.rels" in names else None
    root = etree.fromstring(archive.read(_model_part(names, rels)),
                            etree.XMLParser(resolve_entities=False, no_network=True))
    meta = {el.get("name"): (el.text or "") for el in root if etree.QName(el).localname == "metadata"}
    out: dict[str, Any] = {"format": "3mf"}
    for key in ("slug", "version", "license", "url", "attribution", "part"):
        if meta.get(f"opendesign:{key}"):
            out[key] = meta[f"opendesign:{key}"]
    if meta.get("opendesign:parameters"):
        out["parameters"] = json.loads(meta["opendesign:parameters"])
    if "slug" not in out:
        # A file whose namespaced entries were stripped still names itself in its title.
        match = re.search(r"\(([a-z0-9][a-z0-9-]*)@([^)\s]+)\)\s*$", meta.get("Title", ""))
        if match:
            out["slug"], out["version"] = match[1], match[2]
    if "license" not in out and meta.get("LicenseTerms"):
        out["license"] = meta["LicenseTerms"]
    if meta.get("Designer"):
        out["authors"] = [a.strip() for a in meta["Designer"].split(",") if a.strip()]
    out["metadata"] = {k: v for k, v in meta.items() if k in _3MF_STANDARD}
    return out
