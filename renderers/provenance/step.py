"""STEP (ISO 10303-21): FILE_NAME name, author and organization, FILE_DESCRIPTION lines.

OCC stamps FILE_NAME with the time of export and names products after its
translator with a per-process counter; both are replaced by fixed values."""

from __future__ import annotations

import json
import re
from typing import Any

from .model import Provenance, ProvenanceError

STEP_TIME_STAMP = "1980-01-01T00:00:00"

def step_string(text: str) -> str:
    """*text* as a Part 21 string literal: quotes doubled, non-ASCII as ``\\X2\\`` / ``\\X4\\``."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "'":
            out.append("''")
        elif ch == "\\":
            out.append("\\\\")
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code <= 0xFFFF:
            out.append(f"\\X2\\{code:04X}\\X0\\")
        else:
            out.append(f"\\X4\\{code:08X}\\X0\\")
    return "'" + "".join(out) + "'"


def _unescape_step(body: str) -> str:
    def wide(match: re.Match) -> str:
        width = 4 if match[1] == "2" else 8
        hexes = match[2]
        return "".join(chr(int(hexes[i:i + width], 16)) for i in range(0, len(hexes), width))

    body = re.sub(r"\\X([24])\\([0-9A-Fa-f]*)\\X0\\", wide, body)
    body = re.sub(r"\\X\\([0-9A-Fa-f]{2})", lambda m: chr(int(m[1], 16)), body)
    return body.replace("\\\\", "\\")


_STEP_TOKEN = re.compile(r"'((?:[^']|'')*)'|(\()|(\))|(,)|([^'(),\s]+)|(\s+)")


def parse_params(text: str) -> list:
    """The parameter list of a header entity: nested lists of strings and bare tokens."""
    stack: list[list] = [[]]
    for match in _STEP_TOKEN.finditer(text):
        string, opening, closing, _comma, bare, _space = match.groups()
        if string is not None:
            stack[-1].append(_unescape_step(string.replace("''", "'")))
        elif opening:
            stack.append([])
        elif closing:
            done = stack.pop()
            stack[-1].append(done)
        elif bare:
            stack[-1].append(bare)
    return stack[0][0] if stack[0] and isinstance(stack[0][0], list) else stack[0]


def _step_header(text: str) -> tuple[int, int, list[tuple[str, str]]]:
    """Start and end of the HEADER section's body and its entities as (NAME, raw text)."""
    start = text.find("HEADER;")
    end = text.find("ENDSEC;", start)
    if not text.startswith("ISO-10303-21;") or start < 0 or end < 0:
        raise ProvenanceError("not a STEP (ISO 10303-21) file: no HEADER section")
    body = text[start + len("HEADER;"):end]
    entities, current, in_string = [], [], False
    for ch in body:
        current.append(ch)
        if ch == "'":
            in_string = not in_string
        elif ch == ";" and not in_string:
            raw = "".join(current).strip()
            entities.append((raw.split("(", 1)[0].strip().upper(), raw))
            current = []
    return start + len("HEADER;"), end, entities


def _step_list(items) -> str:
    # One string per line: Part 21 ignores line breaks between tokens, and readers
    # with line-length limits stay happy.
    return "(" + ",\n   ".join(step_string(i) for i in items) + ")"


# OCC names each product after its translator with a per-process counter
# ("Open CASCADE STEP translator 7.9 2"), so the same shape exported twice differs.
_OCC_PRODUCT = re.compile(r"PRODUCT\('Open CASCADE STEP translator [^']*',\s*'Open CASCADE STEP translator [^']*'")


def embed(data: bytes, prov: Provenance) -> bytes:
    text = data.decode("latin-1")
    begin, end, entities = _step_header(text)
    name = f"{prov.slug}-{prov.version}" + (f"-{prov.part}" if prov.part else "")
    description = [f"{prov.title or prov.slug} ({prov.ref})", f"license: {prov.license}"]
    if prov.part:
        description.append(f"part: {prov.part}")
    if prov.attribution or prov.url:
        description.append(f"attribution: {prov.attribution or prov.url}")
    if prov.parameters:
        description.append("parameters: " + json.dumps(prov.parameters, sort_keys=True, separators=(",", ":")))
    lines = []
    for kind, raw in entities:
        if kind == "FILE_DESCRIPTION":
            old = parse_params(raw[len(kind):].rstrip(";"))
            level = old[1] if len(old) > 1 else "2;1"
            raw = f"FILE_DESCRIPTION(\n  {_step_list(description)},\n  {step_string(level)});"
        elif kind == "FILE_NAME":
            old = parse_params(raw[len(kind):].rstrip(";"))
            old += [""] * (7 - len(old))
            fields = [step_string(name), step_string(STEP_TIME_STAMP), _step_list(prov.authors or ("unknown",)),
                      _step_list(("opendesign", prov.url) if prov.url else ("opendesign",)),
                      step_string(old[4] or ""), step_string(old[5] or ""), step_string(old[6] or "")]
            raw = "FILE_NAME(\n  " + ",\n  ".join(fields) + ");"
        lines.append(raw)
    head = text[:begin] + "\n" + "\n".join(lines) + "\n" + text[end:]
    label = step_string(f"{prov.slug} {prov.part}" if prov.part else prov.slug)
    head = _OCC_PRODUCT.sub(f"PRODUCT({label},{label}", head)
    return head.encode("latin-1")


def read(data: bytes) -> dict[str, Any]:
    _begin, _end, entities = _step_header(data.decode("latin-1"))
    out: dict[str, Any] = {"format": "step"}
    for kind, raw in entities:
        params = parse_params(raw[len(kind):].rstrip(";"))
        if kind == "FILE_NAME" and len(params) >= 4:
            out["name"] = params[0]
            out["authors"] = [a for a in params[2] if a and a != "unknown"]
            out["organization"] = [o for o in params[3] if o]
        elif kind == "FILE_DESCRIPTION" and params:
            for line in params[0]:
                match = re.match(r"^(.*) \(([a-z0-9][a-z0-9-]*)@(\S+)\)$", line)
                if match and "slug" not in out:
                    out["title"], out["slug"], out["version"] = match[1], match[2], match[3]
                key, sep, value = line.partition(": ")
                if sep and key in ("license", "part", "attribution"):
                    out[key] = value
                elif sep and key == "parameters":
                    out["parameters"] = json.loads(value)
    return out
