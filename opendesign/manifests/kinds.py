"""Which kind of model a design folder holds, and the checks each kind needs.

Nothing here runs the design's code: ``model.py`` is only parsed with
:mod:`ast` to give early, precise errors. The render sandbox runs it (and, for
CQGI scripts, reads its parameters again with CadQuery's own
:mod:`cadquery.cqgi`, which is the authority). The core does not import
CadQuery — it costs seconds and half a gigabyte — so the parameter rule
below restates CQGI's: a parameter is a *top-level* assignment of a constant.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass

from ..errors import FieldError
from .schema import DesignManifest, ParameterSpec

CADQUERY, CQGI, BUILD123D, STATIC = "cadquery", "cqgi", "build123d", "static"
#: What model code may import, by kind, besides the standard library.
ALLOWED_IMPORTS = {
    CADQUERY: {"cadquery", "math"},
    CQGI: {"cadquery", "math"},
    BUILD123D: {"build123d", "cadquery", "math"},
}


@dataclass(frozen=True)
class ModelShape:
    """What the parser saw in ``model.py``, enough to tell the kinds apart."""

    tree: ast.Module
    has_build: bool
    shows: bool  # calls show_object(...) or assigns a top-level ``result``
    imports: frozenset[str]


def _imports(tree: ast.Module) -> frozenset[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return frozenset(names)


def _shows(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "show_object":
            return True
    return any(isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "result" for t in node.targets)
               for node in tree.body)


def read_model(tree: ast.Module) -> ModelShape:
    has_build = any(isinstance(n, ast.FunctionDef) and n.name == "build" for n in tree.body)
    return ModelShape(tree, has_build, _shows(tree), _imports(tree))


def detect_kind(shape: ModelShape | None, has_part_files: bool) -> str:
    """The kind a folder is when design.toml does not say.

    ``def build(`` makes a module (build123d if it imports build123d, else
    CadQuery); ``show_object``/``result`` makes a script (build123d's, or a
    CQGI one); no model code and parts with files makes a static design.
    """
    if shape is None:
        return STATIC if has_part_files else CADQUERY
    uses_build123d = "build123d" in shape.imports
    if shape.has_build:
        return BUILD123D if uses_build123d else CADQUERY
    if shape.shows:
        return BUILD123D if uses_build123d else CQGI
    return CADQUERY


def check_model(kind: str, shape: ModelShape, display: str) -> list[FieldError]:
    """Problems with ``model.py`` for a design of *kind* (not static)."""
    errors: list[FieldError] = []
    builds = [n for n in shape.tree.body if isinstance(n, ast.FunctionDef) and n.name == "build"]
    if kind == CADQUERY:
        if not builds:
            errors.append(FieldError(display, "build", "model.py must define a top-level function build(params)"))
    elif kind == CQGI:
        if builds and not shape.shows:
            errors.append(FieldError(display, "kind", "design.toml says kind = \"cqgi\" but model.py defines "
                                     "build(params) and calls no show_object(): that is kind = \"cadquery\""))
        elif not shape.shows:
            errors.append(FieldError(display, "show_object", "a CQGI script must call show_object(...) "
                                     "or assign a top-level result"))
    elif kind == BUILD123D:
        if "build123d" not in shape.imports:
            errors.append(FieldError(display, "kind", "design.toml says kind = \"build123d\" but model.py "
                                     "does not import build123d"))
        elif not builds and not shape.shows:
            errors.append(FieldError(display, "build", "a build123d model must define build(params) or be a "
                                     "script calling show_object(...) or assigning a top-level result"))
    if builds and len(builds[0].args.args) != 1 and kind in (CADQUERY, BUILD123D):
        errors.append(FieldError(display, "build", "build must take exactly one argument (the parameters dict)"))
    allowed = ALLOWED_IMPORTS[kind] | set(sys.stdlib_module_names)
    for node in ast.walk(shape.tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] if node.level == 0 else ["."]
        for name in names:
            if name.split(".")[0] not in allowed:
                libs = ", ".join(sorted(ALLOWED_IMPORTS[kind], key=lambda n: n != "build123d" and n != "cadquery"))
                errors.append(FieldError(display, f"line {node.lineno}",
                                         f"imports {name!r}; model.py may import only {libs} "
                                         "and the standard library"))
    return errors


# -- CQGI parameters -------------------------------------------------------

@dataclass(frozen=True)
class ScriptParameter:
    """A top-level assignment of a CQGI script, as CQGI would see it."""

    name: str
    line: int
    #: ``bool``, ``int``, ``float``, ``str``; ``None`` when CQGI cannot expose it
    type: str | None
    default: object
    #: why CQGI cannot expose it (a call, an expression, a tuple...), when it cannot
    why_not: str = ""


def _describe(node: ast.expr) -> str:
    if isinstance(node, ast.Tuple):
        return "a tuple"
    if isinstance(node, ast.Call):
        return "a function call"
    if isinstance(node, ast.Constant):
        return f"a {type(node.value).__name__} constant"
    return f"an expression ({type(node).__name__})"


def script_parameters(tree: ast.Module) -> dict[str, ScriptParameter]:
    """Every top-level single-name assignment; later assignments win, as when the script runs."""
    found: dict[str, ScriptParameter] = {}
    for node in tree.body:
        if not isinstance(node, ast.Assign) or len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
            continue
        name, value = node.targets[0].id, node.value
        if isinstance(value, ast.Constant) and type(value.value) in (bool, int, float, str):
            found[name] = ScriptParameter(name, node.lineno, type(value.value).__name__, value.value)
        else:
            found[name] = ScriptParameter(name, node.lineno, None, None, _describe(value))
    return found


#: design.toml parameter type -> script constant types it may drive
_COMPATIBLE = {"int": ("int",), "float": ("int", "float"), "bool": ("bool",), "choice": ("str",)}


def check_cqgi_parameters(specs: list[ParameterSpec], tree: ast.Module, manifest_file: str,
                          model_file: str) -> list[FieldError]:
    """design.toml must list only parameters the script has, of a type CQGI can set."""
    errors: list[FieldError] = []
    in_script = script_parameters(tree)
    exposable = sorted(n for n, p in in_script.items() if p.type is not None)
    for i, spec in enumerate(specs):
        where = f"parameters[{i}]"
        param = in_script.get(spec.name)
        if param is None:
            errors.append(FieldError(manifest_file, where,
                                     f"parameter {spec.name!r} is not defined in {model_file} (a CQGI parameter is "
                                     f"a top-level constant assignment; the script has: "
                                     f"{', '.join(exposable) or 'none'})"))
        elif param.type is None:
            errors.append(FieldError(manifest_file, where,
                                     f"parameter {spec.name!r}: {model_file} line {param.line} assigns it "
                                     f"{param.why_not}, which CQGI cannot expose as a parameter (only a constant "
                                     "int, float, bool or str can be)"))
        elif param.type not in _COMPATIBLE[spec.type]:
            errors.append(FieldError(manifest_file, where,
                                     f"parameter {spec.name!r} is type {spec.type!r} in design.toml but "
                                     f"{model_file} line {param.line} assigns it a {param.type} ({param.default!r})"))
    return errors


def check_static_parts(manifest: DesignManifest, files: dict[str, bytes], manifest_file: str) -> list[FieldError]:
    """Every part file must be a file of the folder (symlinks were already refused by the walk)."""
    from .partfiles import precheck

    errors: list[FieldError] = []
    for i, part in enumerate(manifest.parts):
        if part.file is None:
            continue
        if part.file not in files:
            errors.append(FieldError(manifest_file, f"parts[{i}].file",
                                     f"{part.file!r} is not a file of the design folder (missing, a folder, "
                                     "a symbolic link or ignored)"))
            continue
        problem = precheck(part.file, files[part.file])
        if problem:
            errors.append(FieldError(manifest_file, f"parts[{i}].file", f"{part.file}: {problem}"))
    return errors


# -- what each kind can be exported as -------------------------------------

def mesh_parts(manifest: dict) -> list[str]:
    """Parts of a stored manifest that are mesh files (STL, 3MF, OBJ)."""
    from .schema import MESH_SUFFIXES

    return [p["name"] for p in manifest.get("parts", []) if str(p.get("file") or "").lower().endswith(MESH_SUFFIXES)]


def no_step_reason(manifest: dict) -> str | None:
    """Why a version has no STEP export, or ``None`` when it has one."""
    meshes = mesh_parts(manifest)
    if not meshes:
        return None
    return (f"No STEP: {', '.join(meshes)} {'is a mesh file' if len(meshes) == 1 else 'are mesh files'} "
            "(STL, 3MF or OBJ), which hold triangles, not the exact geometry a STEP file carries.")


def offered_formats(manifest: dict, formats: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """*formats* without those the version cannot give (STEP for a mesh design)."""
    return tuple(f for f in formats if not (f == "step" and mesh_parts(manifest)))


def model_files(manifest: dict) -> list[str]:
    """The files that make the geometry: model.py, or a static design's part files."""
    if manifest.get("kind") == STATIC:
        return [p["file"] for p in manifest.get("parts", []) if p.get("file")]
    return ["model.py"]
