"""What a render worker does: run ``model.py``, normalise what ``build()`` returns, export.

Runs inside a confined worker process (see :mod:`.zygote`), and in-process
only for the benchmark's floor. Every mesh leaves here as a binary STL written
by OCC; the host parses and checks it and writes the mesh formats itself, so
only B-rep formats (STEP, SVG) are written here from the shape.
"""

from __future__ import annotations

import linecache
import sys
import time
import traceback
import types
from typing import Any

import cadquery as cq

from . import scripts, uploads
from .names import part_stem

MODEL_FILE = "model.py"
SVG_OPTIONS = {
    "width": 800, "height": 600, "marginLeft": 20, "marginTop": 20, "showAxes": False,
    "projectionDir": (1.0, -1.0, 0.8), "showHidden": False,
}
TRACEBACK_LINES = 12
MESSAGE_CHARS = 2000

CADQUERY, CQGI, BUILD123D, STATIC = "cadquery", "cqgi", "build123d", "static"
SCRIPT_ERROR = "script-error"
INVALID_GEOMETRY = "invalid-geometry"
OUT_OF_MEMORY = "out-of-memory"


class JobFailure(Exception):
    """A categorised failure, reported to the host as is."""

    def __init__(self, category: str, message: str, tb: list[str] | None = None):
        super().__init__(message)
        self.category = category
        self.message = message
        self.tb = tb or []


def _model_traceback(exc: BaseException, filename: str) -> list[str]:
    """The traceback lines that point into the design's own code, plus the exception line."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    lines = []
    for frame in frames:
        lines.append(f'File "{MODEL_FILE}", line {frame.lineno}, in {frame.name}')
        if frame.line:
            lines.append(f"  {frame.line.strip()[:200]}")
    lines.extend(line.rstrip()[:MESSAGE_CHARS] for line in traceback.format_exception_only(type(exc), exc))
    return lines[-TRACEBACK_LINES:]


def _exc_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:MESSAGE_CHARS]


def load_build(source: str, filename: str = MODEL_FILE):
    """Execute the design's module; return its ``build`` function."""
    try:
        code = compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise JobFailure(SCRIPT_ERROR, f"{MODEL_FILE} line {exc.lineno}: syntax error: {exc.msg}",
                         _model_traceback(exc, filename)) from None
    # Tracebacks quote the design's source lines although the file is not on disk.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType("model")
    module.__file__ = filename
    sys.modules["model"] = module
    try:
        exec(code, module.__dict__)
    except Exception as exc:
        raise _classify(exc, filename, f"importing {MODEL_FILE} failed") from None
    build = module.__dict__.get("build")
    if not callable(build):
        raise JobFailure(SCRIPT_ERROR, f"{MODEL_FILE} defines no build(params) function")
    return build


def _out_of_memory(exc: BaseException) -> bool:
    """A failed allocation: Python's MemoryError (also C++'s std::bad_alloc, as pybind11 turns it),
    or OCC's own allocator giving up (``Standard_OutOfMemory``, raised through OCP)."""
    return isinstance(exc, MemoryError) or type(exc).__name__ == "Standard_OutOfMemory"


def _classify(exc: BaseException, filename: str, what: str) -> JobFailure:
    tb = _model_traceback(exc, filename)
    if _out_of_memory(exc):
        return JobFailure(OUT_OF_MEMORY, f"{what}: the model ran out of memory", tb)
    if type(exc).__module__.startswith("OCP"):
        # OCC refused an operation (a fillet larger than the edge allows, a
        # boolean on touching faces...): the script ran, the geometry is impossible.
        return JobFailure(INVALID_GEOMETRY, f"{what}: the geometry kernel could not do it ({_exc_text(exc)})", tb)
    return JobFailure(SCRIPT_ERROR, f"{what}: {_exc_text(exc)}", tb)


def _to_shape(obj: Any, what: str) -> cq.Shape:
    obj = scripts.as_cadquery(obj)
    if isinstance(obj, cq.Workplane):
        shapes = [v for v in obj.vals() if isinstance(v, cq.Shape)]
        if not shapes:
            raise JobFailure(INVALID_GEOMETRY, f"{what} is a Workplane holding no shape")
        obj = shapes[0] if len(shapes) == 1 else cq.Compound.makeCompound(shapes)
    if isinstance(obj, cq.Sketch):
        raise JobFailure(INVALID_GEOMETRY, f"{what} is a 2D Sketch; extrude it into a solid")
    if not isinstance(obj, cq.Shape):
        raise JobFailure(SCRIPT_ERROR, f"{what} is a {type(obj).__name__}; build() must return a Workplane, "
                                       "a Shape, an Assembly or a dict of part name -> Workplane/Shape")
    if obj.wrapped is None or obj.wrapped.IsNull() or not obj.Faces():
        raise JobFailure(INVALID_GEOMETRY, f"{what} is an empty shape (no faces)")
    return obj


def normalise(result: Any, declared: list[str]) -> tuple[cq.Shape, dict[str, cq.Shape], Any]:
    """(the whole model, parts by name — empty for a one-part model, what STEP should export)."""
    if isinstance(result, cq.Assembly):
        parts = {}
        if result.shapes:
            parts[result.name] = cq.Compound.makeCompound(result.shapes).moved(result.loc)
        for child in result.children:
            if child.name in parts:
                raise JobFailure(SCRIPT_ERROR, f"build() returned an Assembly with two parts named {child.name!r}")
            parts[child.name] = child.toCompound().moved(result.loc)
        step_source: Any = result
    elif isinstance(result, dict):
        parts = {str(name): _to_shape(obj, f"part {name!r}") for name, obj in result.items()}
        step_source = None
    else:
        shape = _to_shape(result, "build()'s result")
        return shape, {}, shape
    if not parts:
        raise JobFailure(INVALID_GEOMETRY, "build() returned no parts")
    if declared:
        unknown = [name for name in parts if name not in declared]
        if unknown:
            raise JobFailure(SCRIPT_ERROR, f"build() returned part(s) {', '.join(map(repr, unknown))} that "
                                           f"design.toml does not declare (declared: {', '.join(declared)})")
    for name, shape in parts.items():
        _to_shape(shape, f"part {name!r}")
    if len(parts) == 1:
        (shape,) = parts.values()
        return shape, {}, shape
    ordered = {name: parts[name] for name in sorted(parts, key=lambda n: declared.index(n) if n in declared else 0)}
    combined = cq.Compound.makeCompound(list(ordered.values()))
    if step_source is None:
        step_source = cq.Assembly(name="model")
        for name, shape in ordered.items():
            step_source.add(shape, name=name)
    return combined, ordered, step_source


def _export_stl(shape: cq.Shape, path: str, tolerance: float, angular: float, parallel: bool = True) -> None:
    # ascii=False, relative=False (tolerances in model units), parallel: BRepMesh's threads.
    if not shape.exportStl(path, tolerance, angular, False, False, parallel):
        raise JobFailure(INVALID_GEOMETRY, "the shape could not be tessellated")


def _export_step(source: Any, path: str) -> None:
    if isinstance(source, cq.Assembly):
        source.export(path, "STEP")
    else:
        source.exportStep(path)


def _export_svg(shape: cq.Shape, path: str) -> None:
    from cadquery.occ_impl.exporters.svg import getSVG

    with open(path, "w", encoding="utf-8") as f:
        f.write(getSVG(shape, SVG_OPTIONS))


def _run_code(kind: str, files: dict[str, bytes], params: dict) -> tuple[Any, str]:
    """Run the design's code; return (its result, the filename its tracebacks use)."""
    try:
        source = files[MODEL_FILE].decode("utf-8")
    except KeyError:
        raise JobFailure(SCRIPT_ERROR, f"the design has no {MODEL_FILE}") from None
    except UnicodeDecodeError:
        raise JobFailure(SCRIPT_ERROR, f"{MODEL_FILE} is not UTF-8 text") from None
    filename = MODEL_FILE
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    script = kind == CQGI or (kind == BUILD123D and not _defines_build(source))
    if script:
        try:
            result, _how = scripts.run_script(source, dict(params), filename)
        except JobFailure:
            raise
        except SyntaxError as exc:
            raise JobFailure(SCRIPT_ERROR, f"{MODEL_FILE} line {exc.lineno}: syntax error: {exc.msg}") from None
        except RecursionError as exc:
            raise JobFailure(SCRIPT_ERROR, "the script recursed too deeply", _model_traceback(exc, filename)) from None
        except BaseException as exc:
            raise _classify(exc, filename, "the script failed") from None
        return scripts.convert_result(result), filename
    build = load_build(source, filename)
    try:
        result = build(dict(params))
    except JobFailure:
        raise
    except RecursionError as exc:
        raise JobFailure(SCRIPT_ERROR, "build() recursed too deeply", _model_traceback(exc, filename)) from None
    except BaseException as exc:  # SystemExit and KeyboardInterrupt are the script's doing too
        raise _classify(exc, filename, "build() failed") from None
    return (scripts.convert_result(result) if kind == BUILD123D else result), filename


def _defines_build(source: str) -> bool:
    import ast

    try:
        return any(isinstance(n, ast.FunctionDef) and n.name == "build" for n in ast.parse(source).body)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


def build_and_export(files: dict[str, bytes], params: dict, formats: list[str], tolerance: float,
                     angular: float, declared: list[str], outdir: str, kind: str = CADQUERY,
                     part_files: dict[str, str] | None = None, max_triangles: int | None = None,
                     parallel_mesh: bool = True) -> dict:
    """Make the model and write ``<stem>.stl`` (always) and ``<stem>.<fmt>`` per shape format into *outdir*.

    :param kind: design.toml's kind: code that is run, or (``static``) *part_files*
        (part name -> file in the job folder) that are read.
    :param parallel_mesh: tessellate with OCC's thread pool (a thread per core) rather than on
        this thread (see ``render_parallel_mesh``).
    """
    if kind == STATIC:
        return _static(part_files or {}, formats, tolerance, angular, declared, outdir,
                       max_triangles or uploads.DEFAULT_MAX_TRIANGLES, parallel_mesh)
    if kind not in (CADQUERY, CQGI, BUILD123D):
        raise JobFailure(SCRIPT_ERROR, f"unknown model kind {kind!r}")
    started = time.perf_counter()
    result, filename = _run_code(kind, files, params)
    try:
        combined, parts, step_source = normalise(result, declared)
    except JobFailure:
        raise
    except Exception as exc:
        raise _classify(exc, filename, "reading build()'s result failed") from None
    built = time.perf_counter()
    _export_all(combined, parts, step_source, formats, tolerance, angular, outdir, parallel_mesh)
    done = time.perf_counter()
    return {"ok": True, "parts": list(parts), "build_seconds": round(built - started, 6),
            "export_seconds": round(done - built, 6)}


def _export_all(combined: cq.Shape, parts: dict[str, cq.Shape], step_source: Any, formats: list[str],
                tolerance: float, angular: float, outdir: str, parallel_mesh: bool = True) -> None:
    targets: list[tuple[str | None, cq.Shape]] = [(name, shape) for name, shape in parts.items()]
    targets.append((None, combined))
    try:
        for name, shape in targets:
            stem = part_stem(name)
            if name is not None or not parts:
                # The whole model's mesh is the parts' meshes joined (by the host).
                _export_stl(shape, f"{outdir}/{stem}.stl", tolerance, angular, parallel_mesh)
            if "step" in formats:
                _export_step(step_source if name is None else shape, f"{outdir}/{stem}.step")
            if "svg" in formats:
                _export_svg(shape, f"{outdir}/{stem}.svg")
    except JobFailure:
        raise
    except Exception as exc:
        if _out_of_memory(exc):
            raise JobFailure(OUT_OF_MEMORY, "exporting ran out of memory") from None
        raise JobFailure(INVALID_GEOMETRY, f"exporting failed: {_exc_text(exc)}") from None


def _static(part_files: dict[str, str], formats: list[str], tolerance: float, angular: float,
            declared: list[str], outdir: str, max_triangles: int, parallel_mesh: bool = True) -> dict:
    """Read a static design's part files and write the same outputs a model's build would."""
    started = time.perf_counter()
    if not part_files:
        raise JobFailure(SCRIPT_ERROR, "a static design needs part files; design.toml lists none")
    shapes: dict[str, cq.Shape] = {}
    mesh_parts: dict[str, uploads.MeshPart] = {}
    budget = max_triangles
    try:
        for name, path in part_files.items():
            if path.lower().endswith(uploads.BREP):
                shapes[name] = uploads.load_step(path)
            else:
                mesh_parts[name] = uploads.load_mesh(path, budget)
                budget -= len(mesh_parts[name].triangles)
                if mesh_parts[name].degenerate:
                    print(f"{path}: {mesh_parts[name].degenerate} degenerate (zero-area) triangles dropped")
    except uploads.UploadError as exc:
        raise JobFailure(INVALID_GEOMETRY, str(exc)) from None
    except MemoryError:
        raise JobFailure(OUT_OF_MEMORY, "reading the part files ran out of memory") from None
    built = time.perf_counter()
    names = [n for n in declared if n in part_files] or list(part_files)
    multi = len(names) > 1
    if mesh_parts and "step" in formats:
        raise JobFailure(SCRIPT_ERROR, "a mesh part (STL, 3MF, OBJ) has no STEP: only parts made from STEP files "
                                       "can be exported as STEP")
    if not mesh_parts:
        if multi:
            combined, parts, step_source = normalise({n: shapes[n] for n in names}, declared)
        else:
            combined, parts, step_source = normalise(shapes[names[0]], declared)
        _export_all(combined, parts, step_source, formats, tolerance, angular, outdir, parallel_mesh)
        return {"ok": True, "parts": list(parts), "build_seconds": round(built - started, 6),
                "export_seconds": round(time.perf_counter() - built, 6)}
    try:
        as_mesh: dict[str, uploads.MeshPart] = {}
        for name in names:
            if name in mesh_parts:
                as_mesh[name] = mesh_parts[name]
            else:
                as_mesh[name] = _tessellated(shapes[name], tolerance, angular)
        for name in names:
            if multi:
                uploads.write_stl(as_mesh[name], f"{outdir}/{part_stem(name)}.stl")
        if not multi:
            uploads.write_stl(as_mesh[names[0]], f"{outdir}/{part_stem(None)}.stl")
        if "svg" in formats:
            uploads.write_mesh_svg(list(as_mesh.values()), f"{outdir}/{part_stem(None)}.svg")
            if multi:
                for name in names:
                    uploads.write_mesh_svg([as_mesh[name]], f"{outdir}/{part_stem(name)}.svg")
    except MemoryError:
        raise JobFailure(OUT_OF_MEMORY, "exporting ran out of memory") from None
    except Exception as exc:
        raise JobFailure(INVALID_GEOMETRY, f"exporting failed: {_exc_text(exc)}") from None
    return {"ok": True, "parts": names if multi else [], "build_seconds": round(built - started, 6),
            "export_seconds": round(time.perf_counter() - built, 6)}


def _tessellated(shape: cq.Shape, tolerance: float, angular: float) -> uploads.MeshPart:
    import numpy as np

    vertices, triangles = shape.tessellate(tolerance, angular)
    points = np.array([v.toTuple() for v in vertices], dtype=np.float64)
    return uploads.MeshPart(points[np.asarray(triangles)].astype(np.float32))


def failure(exc: BaseException) -> dict:
    if isinstance(exc, JobFailure):
        return {"ok": False, "category": exc.category, "message": exc.message, "traceback": exc.tb}
    if _out_of_memory(exc):
        return {"ok": False, "category": OUT_OF_MEMORY, "message": "the worker ran out of memory", "traceback": []}
    return {"ok": False, "category": SCRIPT_ERROR, "message": _exc_text(exc), "traceback": []}

