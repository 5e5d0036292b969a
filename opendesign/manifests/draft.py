"""``opendesign init``: a design.toml draft for a folder that already holds a script or part files.

The draft is for a person to review, not to publish: it carries every CQGI
parameter with its default, an inferred type and suggested bounds, the parts
the script shows (or the part files found), and a license placeholder that
fails validation until the author chooses one. Like the loader, nothing here
runs the script: it is parsed with :mod:`ast`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from ..errors import OpenDesignError
from . import kinds
from .loader import IGNORED_NAMES, MANIFEST, MODEL, README
from .schema import CATEGORIES, PART_FILE_SUFFIXES, PROCESSES

#: Fails validation on purpose ("not an SPDX license identifier") until replaced.
LICENSE_PLACEHOLDER = "CHOOSE-A-LICENSE"
_MESH_PROCESS = {".stl": "fdm", ".3mf": "fdm", ".obj": "fdm", ".step": "cnc", ".stp": "cnc"}


class InitError(OpenDesignError):
    """The folder cannot get a draft (one exists already, nothing to describe...)."""


@dataclass
class Draft:
    path: Path
    kind: str
    manifest: dict
    todo: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"path": str(self.path / MANIFEST), "kind": self.kind, "slug": self.manifest["slug"],
                "parameters": self.manifest.get("parameters", []), "parts": self.manifest["parts"],
                "todo": self.todo}


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:64] or "my-design"


def _identifier(name: str, fallback: str) -> str:
    ident = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
    return ident[:64] if ident and not ident[0].isdigit() else fallback


def _label(name: str) -> str:
    return name.replace("_", " ").strip().capitalize() or name


def suggest_bounds(value: int | float, kind: str) -> dict:
    """min, max and step around a default: a quarter to four times it (a person narrows them)."""
    if kind == "int":
        if value > 0:
            return {"min": max(1, value // 4), "max": value * 4, "step": 1}
        if value < 0:
            return {"min": value * 4, "max": min(-1, value // 4 + 1), "step": 1}
        return {"min": 0, "max": 10, "step": 1}
    if value == 0:
        return {"min": -10.0, "max": 10.0, "step": 0.5}
    lo, hi = sorted((value / 4, value * 4))
    magnitude = 10 ** int(f"{abs(value) / 20:e}".split("e")[1])
    return {"min": round(lo, 6), "max": round(hi, 6), "step": float(magnitude)}


def _parameters(tree: ast.Module) -> tuple[list[dict], list[str]]:
    params, skipped = [], []
    for p in kinds.script_parameters(tree).values():
        if p.type is None:
            # Computed values (calls, expressions) are the script's working, not knobs; a tuple
            # is a knob CQGI has but design.toml cannot describe, so say so.
            if p.why_not == "a tuple":
                skipped.append(f"{p.name} (line {p.line}: a tuple, which a design.toml parameter cannot be; "
                               "it stays fixed)")
            continue
        entry: dict = {"name": p.name, "label": _label(p.name)}
        if p.type == "bool":
            entry.update(type="bool", default=p.default)
        elif p.type == "str":
            entry.update(type="choice", default=p.default, choices=[p.default])
        else:
            entry.update(type=p.type, default=p.default, **suggest_bounds(p.default, p.type))
        if not re.match(r"^[a-z_][a-z0-9_]*$", p.name):
            skipped.append(f"{p.name} (a design.toml parameter name must be lower case: rename it in the script)")
            continue
        params.append(entry)
    return params, skipped


def _shown_names(tree: ast.Module) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "show_object":
            name = None
            for kw in node.keywords:
                if kw.arg == "name" and isinstance(kw.value, ast.Constant):
                    name = str(kw.value.value)
                if kw.arg == "options" and isinstance(kw.value, ast.Dict):
                    for k, v in zip(kw.value.keys, kw.value.values):
                        if isinstance(k, ast.Constant) and k.value == "name" and isinstance(v, ast.Constant):
                            name = str(v.value)
            names.append(_identifier(name or "", f"part_{len(names) + 1}"))
    return names


def _part_files(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(p in IGNORED_NAMES or p.startswith(".") for p in rel.parts) or path.is_symlink():
            continue
        if path.is_file() and path.suffix.lower() in PART_FILE_SUFFIXES:
            found.append(rel.as_posix())
    return found


def _title(root: Path, slug: str) -> str:
    readme = root / README
    if readme.is_file():
        for line in readme.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("# ") and len(line) > 5:
                return line[2:].strip()[:120]
    return slug.replace("-", " ").title()


def draft(path: str | Path) -> Draft:
    """The draft for the folder at *path* (or the folder holding the file *path*), not yet written.

    :raises InitError: a design.toml exists, the script is not ``model.py``, or
        there is neither a script nor a part file to describe.
    """
    target = Path(path)
    root = target.parent if target.is_file() else target
    if not root.is_dir():
        raise InitError(f"{path}: no such folder or file")
    if (root / MANIFEST).exists():
        raise InitError(f"{root / MANIFEST}: already exists; init never overwrites a design.toml "
                        "(edit it, or move it away to start again)")
    if target.is_file() and target.suffix == ".py" and target.name != MODEL:
        raise InitError(f"{target}: the catalogue runs a design's script as {MODEL}; rename {target.name} to {MODEL} "
                        "(CQ-editor and cq-cli run it under any name) and run init again")
    slug = slugify(root.name)
    todo = [f"license: replace {LICENSE_PLACEHOLDER!r} with the license you choose (an SPDX identifier such as "
            "CERN-OHL-S-2.0, CERN-OHL-W-2.0, CERN-OHL-P-2.0, CC-BY-SA-4.0 or CC0-1.0)",
            "summary, authors, category, tags: describe the design",
            "parts: material and process of each part"]
    manifest: dict = {"slug": slug, "title": _title(root, slug),
                      "summary": "TODO: what it is, who it helps and how, in a sentence or two.",
                      "version": "0.1.0", "license": LICENSE_PLACEHOLDER, "category": "tools-fabrication",
                      "tags": [], "authors": [{"name": "TODO: your name or group"}]}
    model = root / MODEL
    if model.is_file():
        try:
            tree = ast.parse(model.read_bytes(), filename=MODEL)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            raise InitError(f"{model}: cannot be parsed ({exc})") from None
        shape = kinds.read_model(tree)
        kind = kinds.detect_kind(shape, False)
        manifest["kind"] = kind
        parameters: list[dict] = []
        if shape.shows and not shape.has_build:
            parameters, skipped = _parameters(tree)
            todo.append("parameters: keep the ones a maker should change (a parameter not listed stays at the "
                        "script's value) and check each min, max, step; add unit and help")
            todo += [f"not a parameter: {s}" for s in skipped]
            names = _shown_names(tree) or ["model"]
        else:
            todo.append("parameters: list the keys build(params) reads, with default, bounds and label")
            names = ["model"]
        manifest["parameters"] = parameters
        manifest["parts"] = [{"name": n, "material": "TODO: material", "process": "fdm", "quantity": 1}
                             for n in dict.fromkeys(names)]
    else:
        files = _part_files(root)
        if not files:
            raise InitError(f"{root}: holds neither {MODEL} nor a part file ({', '.join(PART_FILE_SUFFIXES)}); "
                            "nothing to describe")
        kind = kinds.STATIC
        manifest["kind"] = kind
        parts, seen = [], set()
        for i, rel in enumerate(files, start=1):
            name = _identifier(Path(rel).stem, f"part_{i}")
            while name in seen:
                name = f"{name}_{i}"
            seen.add(name)
            parts.append({"name": name, "material": "TODO: material",
                          "process": _MESH_PROCESS[Path(rel).suffix.lower()], "quantity": 1, "file": rel})
        manifest["parts"] = parts
    if slug != root.name:
        todo.append(f"slug: {slug!r} must equal the folder's name: rename the folder {root.name!r} to {slug!r}")
    if not (root / README).is_file():
        todo.append(f"{README}: write it (what it is, how to make it, how to use it)")
    return Draft(root, kind, manifest, todo)


def render_toml(d: Draft) -> str:
    """The draft as TOML, with comments that say what to review."""
    m = dict(d.manifest)
    head = {k: m.pop(k) for k in ("slug", "kind", "title", "summary", "version") if k in m}
    lines = ["# design.toml draft written by `opendesign init`: review every line before publishing.",
             "# `opendesign validate` fails until the license is chosen.", ""]
    lines.append(tomli_w.dumps(head).rstrip())
    lines.append("# Choose a license (SPDX), e.g. CERN-OHL-S-2.0, CERN-OHL-W-2.0, CERN-OHL-P-2.0, CC-BY-SA-4.0")
    lines.append(tomli_w.dumps({"license": m.pop("license")}).rstrip())
    lines.append(f"# One of: {', '.join(CATEGORIES)}")
    lines.append(tomli_w.dumps({"category": m.pop("category"), "tags": m.pop("tags")}).rstrip())
    lines.append("")
    lines.append(tomli_w.dumps({"authors": m.pop("authors")}).rstrip())
    lines.append("")
    lines.append(f"# process: one of {', '.join(PROCESSES)}")
    lines.append(tomli_w.dumps({"parts": m.pop("parts")}).rstrip())
    # Last: a key written after a [[table]] would belong to that table.
    if m.get("parameters"):
        lines.append("")
        lines.append("# Bounds are suggestions (a quarter to four times the default): narrow them to what works.")
        lines.append(tomli_w.dumps({"parameters": m.pop("parameters")}).rstrip())
    return "\n".join(lines) + "\n"


def write_draft(path: str | Path) -> Draft:
    """Write the draft beside the script or files at *path*; never over an existing design.toml."""
    d = draft(path)
    target = d.path / MANIFEST
    try:
        with open(target, "x", encoding="utf-8") as f:  # "x": a design.toml made meanwhile is not overwritten
            f.write(render_toml(d))
    except FileExistsError:
        raise InitError(f"{target}: already exists; init never overwrites a design.toml") from None
    return d
