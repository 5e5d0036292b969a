"""OKH manifests in the shapes real ones have (written for these tests, none copied), and their files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

#: An OKH-LOSH manifest as the 2.x tooling wrote them: okhv "2.4", a misspelt key, an OpenSCAD
#: cube string, paths with and without a leading slash, a key OKH never had.
LOSH_MESSY = """\
okhv = "2.4"
name = "Solar Cooker Reflector Hinge"
repo = "https://example.org/solar-cooker"
version = "1.2"
license = "CERN-OHL-W-2.0"
licensor = "Sun Kitchen Group <hello@example.org>"
organization = "Sun Kitchen Group"
function = "A hinge that holds the reflector panels of a box solar cooker at a chosen angle."
readme = "/README.md"
image = ["docs/cooker.png"]
bom = "bom.csv"
documentation-language = "en"
technology-readiness-level = "OTLR-5"
documentation-readiness-level = "ODRL-3"
tsdc-id = "3DP"
outer-dimension = "cube(size = [275,125,105])"
mass = 1200
cpc-patent-class = "F24S"
paint-colour = "black"

[[part]]
name = "Hinge Leaf"
source = "parts/hinge-leaf.step"
export = ["/parts/hinge-leaf.stl"]
material = "PETG"
manufacturing-process = "FDM"
mass = 42.5
outer-dimensions = { width = 60, depth = 40, height = 8 }

[[part]]
name = "Pin"
export = "parts/pin.stl"
"""

#: A clean OKH-LOSH v1.0 manifest that forks another one.
LOSH_FORK = """\
okhv = "OKH-LOSHv1.0"
name = "Solar Cooker Reflector Hinge, Wide"
repo = "https://example.org/solar-cooker-wide"
version = "0.2.0"
license = "CERN-OHL-S-2.0"
licensor = "Wide Panels"
function = "The reflector hinge, widened for panels of 60 cm."
fork-of = "https://example.org/solar-cooker"
readme = "README.md"

[[part]]
name = "Wide Leaf"
export = "wide-leaf.stl"
material = "PLA"
manufacturing-process = "3D printing"
"""

#: An OKH v1 (okh.yml) manifest.
V1_YAML = """\
title: Treadle Water Pump Valve
description: A flap valve for a treadle pump that lifts water from a shallow well.
version: 2.0.1
date-created: 2019-05-04
project-link: https://example.org/treadle-pump
license:
  hardware: CERN-OHL-P-2.0
  documentation: CC-BY-4.0
licensor:
  name: Pump Makers Cooperative
  email: pumps@example.org
documentation-language: en
keywords: [water, pump, irrigation]
manufacturing-files:
  - path: files/valve.3mf
    title: Valve body
health-safety-notice: Keep fingers clear of the treadle.
"""

README = "# {title}\n\nWhat it is and how to make it.\n"
STL = b"solid part\nendsolid part\n"


def _three_mf() -> bytes:
    """A zip shaped like a 3MF package (the importer only pre-checks it; the sandbox parses it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        zf.writestr("3D/3dmodel.model", '<?xml version="1.0"?><model unit="millimeter"/>')
    return out.getvalue()


THREE_MF = _three_mf()
STEP = b"ISO-10303-21;\nHEADER;\nENDSEC;\nDATA;\nENDSEC;\nEND-ISO-10303-21;\n"


def write_losh_messy(root: Path) -> Path:
    folder = root / "solar-cooker"
    (folder / "parts").mkdir(parents=True)
    (folder / "docs").mkdir()
    (folder / "okh.toml").write_text(LOSH_MESSY)
    (folder / "README.md").write_text(README.format(title="Reflector hinge"))
    (folder / "bom.csv").write_text("item,quantity,unit,note\nM4 bolt,2,pcs,stainless\n")
    (folder / "docs" / "cooker.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (folder / "parts" / "hinge-leaf.step").write_bytes(STEP)
    (folder / "parts" / "hinge-leaf.stl").write_bytes(STL)
    return folder / "okh.toml"


def write_losh_fork(root: Path) -> Path:
    folder = root / "solar-cooker-wide"
    folder.mkdir(parents=True)
    (folder / "okh.toml").write_text(LOSH_FORK)
    (folder / "README.md").write_text(README.format(title="Wide hinge"))
    (folder / "wide-leaf.stl").write_bytes(STL)
    return folder / "okh.toml"


def write_v1(root: Path) -> Path:
    folder = root / "treadle-pump"
    (folder / "files").mkdir(parents=True)
    (folder / "okh.yml").write_text(V1_YAML)
    (folder / "files" / "valve.3mf").write_bytes(THREE_MF)
    return folder / "okh.yml"


def write_manifest(root: Path, text: str, name: str = "okh.toml", files: dict[str, bytes] | None = None) -> Path:
    """A one-off manifest with *files* beside it (default: one STL part file)."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, data in (files if files is not None else {"part.stl": STL}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (root / name).write_text(text)
    return root / name


def minimal(**overrides: str) -> str:
    """A small valid OKH-LOSH manifest as text; *overrides* replace or drop (value None) its lines."""
    fields = {"okhv": '"OKH-LOSHv1.0"', "name": '"Compost Sieve Frame"', "repo": '"https://example.org/sieve"',
              "version": '"1.0.0"', "license": '"CERN-OHL-S-2.0"', "licensor": '"Sieve People"',
              "function": '"A frame that holds a sieve over a compost bin."'}
    fields.update(overrides)
    lines = [f"{k} = {v}" for k, v in fields.items() if v is not None]
    return "\n".join(lines) + '\n\n[[part]]\nname = "frame"\nexport = "part.stl"\nmaterial = "PETG"\n' \
                              'manufacturing-process = "FDM"\n'
