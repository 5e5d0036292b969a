"""Read a design folder from disk into a validated, hashed :class:`DesignFolder`.

Nothing here executes ``model.py``: it is untrusted code and is only parsed
(``ast``) to give the designer early, precise errors. It runs only inside the
render sandbox.
"""

from __future__ import annotations

import ast
import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from ..errors import FieldError, ManifestError
from .bom import read_bom_csv
from ..presets.design import check_presets
from .reciprocity import reciprocity_problems
from .schema import BomLine, DesignManifest
from .textfiles import TextError, decode_utf8, parse_toml

MANIFEST = "design.toml"
MODEL = "model.py"
README = "README.md"
BOM_CSV = "bom.csv"

#: Limits that keep one folder from filling the catalogue.
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 200
#: Files that are never part of a design's content (editor and tool litter).
IGNORED_NAMES = {"__pycache__", ".DS_Store", ".git", ".ipynb_checkpoints"}
#: What ``model.py`` may import besides the standard library.
ALLOWED_IMPORTS = {"cadquery", "math"}


@dataclass(frozen=True)
class DesignFolder:
    """A design folder that passed validation, ready to import."""

    path: Path
    manifest: DesignManifest
    readme: str
    model_source: str
    bom: tuple[BomLine, ...]
    #: relative path -> bytes, every file that makes up the design's content
    files: dict[str, bytes] = field(repr=False)
    content_hash: str = ""

    @property
    def slug(self) -> str:
        return self.manifest.slug

    @property
    def version(self) -> str:
        return self.manifest.version


def _walk_files(root: Path, display: str, errors: list[FieldError]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in IGNORED_NAMES or part.startswith(".") for part in rel.parts):
            continue
        if path.is_symlink():
            errors.append(FieldError(f"{display}/{rel.as_posix()}", "", "symbolic links are not allowed in a design folder"))
            continue
        if not path.is_file():
            continue
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            errors.append(FieldError(f"{display}/{rel.as_posix()}", "", f"file is {size} bytes; the limit is {MAX_FILE_BYTES}"))
            continue
        files[rel.as_posix()] = path.read_bytes()
    if len(files) > MAX_FILES:
        errors.append(FieldError(display, "", f"folder holds {len(files)} files; the limit is {MAX_FILES}"))
    return files


def content_hash(files: dict[str, bytes]) -> str:
    """sha256 over every file's path and bytes, in path order.

    Each path and each file's own digest are length-framed so that moving bytes
    between a name and a body can never produce the same hash.
    """
    outer = hashlib.sha256()
    for rel in sorted(files):
        name = rel.encode("utf-8")
        outer.update(len(name).to_bytes(4, "big") + name)
        outer.update(hashlib.sha256(files[rel]).digest())
    return outer.hexdigest()


def _field_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "function-before", "literal", "model-after") or "[" in str(part):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _reason(err: dict) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown field (check the spelling; see the design folder format in README.md)"
    if err["type"] == "missing":
        return "field required"
    msg = err["msg"]
    return msg.removeprefix("Value error, ")


def _check_model(source: str, display: str, errors: list[FieldError]) -> None:
    try:
        tree = ast.parse(source, filename="model.py")
    except SyntaxError as exc:
        errors.append(FieldError(display, f"line {exc.lineno}", f"syntax error: {exc.msg}"))
        return
    except (RecursionError, MemoryError):
        # CPython's parser gives up on expressions nested thousands deep.
        errors.append(FieldError(display, "", "is nested too deeply for Python's parser"))
        return
    except ValueError as exc:  # e.g. source code string cannot contain null bytes
        errors.append(FieldError(display, "", f"cannot be parsed: {exc}"))
        return
    builds = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "build"]
    if not builds:
        errors.append(FieldError(display, "build", "model.py must define a top-level function build(params)"))
    elif len(builds[0].args.args) != 1:
        errors.append(FieldError(display, "build", "build must take exactly one argument (the parameters dict)"))
    allowed = ALLOWED_IMPORTS | set(sys.stdlib_module_names)
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] if node.level == 0 else ["."]
        for name in names:
            if name.split(".")[0] not in allowed:
                errors.append(FieldError(display, f"line {node.lineno}",
                                         f"imports {name!r}; model.py may import only cadquery, math and the standard library"))


def load_design_folder(path: str | Path, display: str | None = None) -> DesignFolder:
    """Validate the design folder at *path*.

    :param display: how to name the folder in error messages (defaults to the
        path as given), e.g. ``designs/rocket-stove``.
    :raises ManifestError: with every problem found, each naming file and field.
    """
    root = Path(path)
    display = display or str(path).rstrip("/")
    errors: list[FieldError] = []
    if not root.is_dir():
        raise ManifestError([FieldError(display, "", "is not a directory")])
    files = _walk_files(root, display, errors)
    manifest_file = f"{display}/{MANIFEST}"

    manifest = None
    if MANIFEST not in files:
        errors.append(FieldError(manifest_file, "", "file is missing"))
    else:
        try:
            raw = parse_toml(files[MANIFEST], manifest_file)
        except TextError as exc:
            errors.append(exc.error)
        else:
            try:
                manifest = DesignManifest.model_validate(raw)
            except ValidationError as exc:
                for err in exc.errors():
                    errors.append(FieldError(manifest_file, _field_path(err["loc"]), _reason(err)))
    if manifest is not None:
        if manifest.slug != root.name:
            errors.append(FieldError(manifest_file, "slug",
                                     f"{manifest.slug!r} must equal the folder name {root.name!r}"))
        errors.extend(check_presets(manifest.presets, manifest.parameters, manifest_file))
        errors += [FieldError(manifest_file, field, reason)
                   for field, reason in reciprocity_problems(manifest.reciprocity, manifest.derived_from)]

    model_source = ""
    if MODEL not in files:
        errors.append(FieldError(f"{display}/{MODEL}", "", "file is missing"))
    else:
        try:
            model_source = decode_utf8(files[MODEL], f"{display}/{MODEL}")
        except TextError as exc:
            errors.append(exc.error)
        else:
            _check_model(model_source, f"{display}/{MODEL}", errors)

    readme = ""
    if README not in files:
        errors.append(FieldError(f"{display}/{README}", "", "file is missing"))
    else:
        try:
            readme = decode_utf8(files[README], f"{display}/{README}")
        except TextError as exc:
            errors.append(exc.error)

    bom: list[BomLine] = list(manifest.bom) if manifest else []
    if BOM_CSV in files:
        if bom:
            errors.append(FieldError(manifest_file, "bom", f"give the BOM either in design.toml or in {BOM_CSV}, not both"))
        bom = read_bom_csv(files[BOM_CSV], f"{display}/{BOM_CSV}", errors)

    if errors or manifest is None:
        raise ManifestError(errors)
    return DesignFolder(path=root, manifest=manifest, readme=readme, model_source=model_source,
                        bom=tuple(bom), files=files, content_hash=content_hash(files))
