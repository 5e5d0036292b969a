"""Read a design folder from disk into a validated, hashed :class:`DesignFolder`.

Nothing here executes ``model.py``: it is untrusted code and is only parsed
(``ast``) to give the designer early, precise errors. It runs only inside the
render sandbox.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from ..errors import FieldError, ManifestError
from .bom import read_bom_csv
from ..presets.design import check_presets
from . import kinds
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


def _parse_model(source: str, display: str, errors: list[FieldError]) -> ast.Module | None:
    try:
        return ast.parse(source, filename="model.py")
    except SyntaxError as exc:
        errors.append(FieldError(display, f"line {exc.lineno}", f"syntax error: {exc.msg}"))
    except (RecursionError, MemoryError):
        # CPython's parser gives up on expressions nested thousands deep.
        errors.append(FieldError(display, "", "is nested too deeply for Python's parser"))
    except ValueError as exc:  # e.g. source code string cannot contain null bytes
        errors.append(FieldError(display, "", f"cannot be parsed: {exc}"))
    return None


def _may_be_static(raw: object) -> bool:
    """Whether an invalid design.toml still shows a design without code (so a missing model.py is no error)."""
    if not isinstance(raw, dict):
        return False
    parts = raw.get("parts")
    return raw.get("kind") == kinds.STATIC or (
        isinstance(parts, list) and any(isinstance(p, dict) and "file" in p for p in parts))


def _resolve_kind(manifest: DesignManifest, tree: ast.Module | None, has_model: bool, files: dict[str, bytes],
                  display: str, manifest_file: str, errors: list[FieldError]) -> DesignManifest:
    """Detect the kind when design.toml does not give it, then run that kind's checks.

    The resolved kind is written into the manifest, so the stored version (and
    the renderer reading it) never has to detect again.
    """
    model_file = f"{display}/{MODEL}"
    shape = kinds.read_model(tree) if tree is not None else None
    has_part_files = any(p.file for p in manifest.parts)
    kind = manifest.kind or kinds.detect_kind(shape if has_model else None, has_part_files)
    if manifest.kind is None:
        # The schema's kind rules ran before the kind was known; run them again.
        try:
            manifest = DesignManifest.model_validate({**manifest.model_dump(mode="python"), "kind": kind})
        except ValidationError as exc:
            for err in exc.errors():
                errors.append(FieldError(manifest_file, _field_path(err["loc"]) or "kind",
                                         f"{_reason(err)} (kind {kind!r} was detected; set kind in design.toml "
                                         "if that is wrong)"))
            return manifest
    if kind == kinds.STATIC:
        errors.extend(kinds.check_static_parts(manifest, files, manifest_file))
        return manifest
    if not has_model:
        # A design without code is kind = "static" and lists its parts' files.
        errors.append(FieldError(model_file, "", "file is missing"))
        return manifest
    if shape is not None:
        errors.extend(kinds.check_model(kind, shape, model_file))
        if shape.shows and (kind == kinds.CQGI or (kind == kinds.BUILD123D and not shape.has_build)):
            errors.extend(kinds.check_cqgi_parameters(list(manifest.parameters), shape.tree, manifest_file, MODEL))
    return manifest


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
    raw: dict = {}
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
    tree = None
    if MODEL in files:
        try:
            model_source = decode_utf8(files[MODEL], f"{display}/{MODEL}")
        except TextError as exc:
            errors.append(exc.error)
        else:
            tree = _parse_model(model_source, f"{display}/{MODEL}", errors)
    if manifest is not None:
        manifest = _resolve_kind(manifest, tree, MODEL in files, files, display, manifest_file, errors)
    elif MODEL not in files and not _may_be_static(raw):
        errors.append(FieldError(f"{display}/{MODEL}", "", "file is missing"))

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
