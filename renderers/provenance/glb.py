"""GLB: ``asset.copyright`` and ``asset.extras.opendesign``; the JSON chunk is rewritten
with its 4-byte space padding and the header and chunk lengths fixed up."""

from __future__ import annotations

import json
import struct
from typing import Any

from .model import Provenance, ProvenanceError

MAGIC, _JSON_CHUNK, _BIN_CHUNK = b"glTF", 0x4E4F534A, 0x004E4942


def _glb_chunks(data: bytes) -> list[tuple[int, bytes]]:
    if len(data) < 20 or data[:4] != MAGIC:
        raise ProvenanceError("not a GLB file: bad magic")
    _magic, version, length = struct.unpack_from("<4sII", data)
    if version != 2 or length != len(data):
        raise ProvenanceError(f"not a GLB 2 file (version {version}, length {length} of {len(data)})")
    chunks, offset = [], 12
    while offset < length:
        size, kind = struct.unpack_from("<II", data, offset)
        chunks.append((kind, data[offset + 8:offset + 8 + size]))
        offset += 8 + size
    if not chunks or chunks[0][0] != _JSON_CHUNK or offset != length:
        raise ProvenanceError("not a GLB file: malformed chunks")
    return chunks


def embed(data: bytes, prov: Provenance) -> bytes:
    chunks = _glb_chunks(data)
    gltf = json.loads(chunks[0][1])
    asset = gltf.setdefault("asset", {"version": "2.0"})
    asset["copyright"] = f"© {', '.join(prov.authors) or 'unknown authors'}. {prov.ref}, licensed {prov.license}. " \
                         f"Attribution: {prov.attribution or prov.url or 'see ATTRIBUTION'}"
    extras = asset.get("extras") if isinstance(asset.get("extras"), dict) else {}
    extras["opendesign"] = prov.as_dict()
    asset["extras"] = extras
    text = json.dumps(gltf, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 4)  # the JSON chunk is padded with spaces (glTF 2.0 §4.4.3)
    chunks[0] = (_JSON_CHUNK, text)
    body = b"".join(struct.pack("<II", len(c), kind) + c for kind, c in chunks)
    return struct.pack("<4sII", MAGIC, 2, 12 + len(body)) + body


def read(data: bytes) -> dict[str, Any]:
    asset = json.loads(_glb_chunks(data)[0][1]).get("asset", {})
    ours = (asset.get("extras") or {}).get("opendesign") or {}
    out = {"format": "glb", **ours}
    if asset.get("copyright"):
        out["copyright"] = asset["copyright"]
    return out
