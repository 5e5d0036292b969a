"""Run a CQGI script (CQ-editor's and cq-cli's format) or a build123d model; return what it shows.

Runs only inside a confined worker (see :mod:`.worker`). The script's
parameters are read by CadQuery's own :func:`cadquery.cqgi.parse` and set with
its :meth:`~cadquery.cqgi.CQModel.set_param_values`, so a value reaches the
script exactly as CQ-editor would put it there. The script itself runs in
CQGI's :class:`~cadquery.cqgi.EnvironmentBuilder` environment (``cq`` defined
without an import) with our own ``show_object``: CQGI's keeps its ``options``
in a mutable default argument, so an unnamed part would inherit the name of
the part shown before it.
"""

from __future__ import annotations

import re
from typing import Any

import cadquery as cq

#: Part names the catalogue accepts (design.toml's identifiers).
_NAME_CLEAN = re.compile(r"[^a-z0-9_]+")


class ScriptOutput:
    """What a script showed, in order: (name or None, object)."""

    def __init__(self) -> None:
        self.shown: list[tuple[str | None, Any]] = []

    def show_object(self, shape: Any, options: dict | None = None, **kwargs: Any) -> None:
        merged = {**(options or {}), **kwargs}
        name = merged.get("name")
        self.shown.append((str(name) if name is not None else None, shape))

    def debug(self, *_args: Any, **_kwargs: Any) -> None:
        """``debug()`` output is for CQ-editor's screen only: ignored."""

    def describe_parameter(self, *_args: Any, **_kwargs: Any) -> None:
        """Descriptions come from design.toml here."""


def part_name(name: str | None, index: int) -> str:
    """A show_object name as a design.toml part name (``Left Frame`` -> ``left_frame``); else ``part_<n>``."""
    if name:
        clean = _NAME_CLEAN.sub("_", name.strip().lower()).strip("_")
        if clean and not clean[0].isdigit():
            return clean[:64]
    return f"part_{index}"


def run_script(source: str, params: dict, filename: str) -> tuple[Any, str]:
    """Execute a CQGI script with *params* set; return (what build() would have returned, how it was found).

    The result is a dict of part name -> object when the script called
    ``show_object``, else its top-level ``result``. Exceptions propagate with
    their traceback pointing at *filename*.
    """
    from cadquery import cqgi

    from .job import SCRIPT_ERROR, JobFailure

    model = cqgi.parse(source)
    known = model.metadata.parameters
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise JobFailure(SCRIPT_ERROR, f"parameter(s) {', '.join(map(repr, unknown))} given by design.toml are not "
                                       f"parameters of the script (it has: {', '.join(sorted(known)) or 'none'})")
    try:
        model.set_param_values(params)
    except cqgi.InvalidParameterError as exc:
        raise JobFailure(SCRIPT_ERROR, f"the script refused a parameter: {exc}") from None
    output = ScriptOutput()
    env = (cqgi.EnvironmentBuilder().with_real_builtins().with_cadquery_objects()
           .add_entry("__name__", "__cqgi__")
           .add_entry("show_object", output.show_object)
           .add_entry("debug", output.debug)
           .add_entry("describe_parameter", output.describe_parameter)
           .build())
    exec(compile(model.ast_tree, filename, "exec"), env)
    if len(output.shown) == 1:
        # One shown object is the whole (one-part) model, whatever it was called.
        return output.shown[0][1], "show_object"
    if output.shown:
        parts: dict[str, Any] = {}
        for i, (name, obj) in enumerate(output.shown, start=1):
            key = part_name(name, i)
            if key in parts:
                raise JobFailure(SCRIPT_ERROR, f"show_object() was called twice with the name {key!r}; "
                                               "each shown part needs its own name")
            parts[key] = obj
        return parts, "show_object"
    if "result" in env:
        return env["result"], "result"
    raise JobFailure(SCRIPT_ERROR, "the script showed nothing: it called no show_object(...) and assigned no "
                                   "top-level result")


def as_cadquery(obj: Any) -> Any:
    """A build123d object (Part, Solid, Compound, a BuildPart builder...) as a CadQuery Shape; others unchanged.

    Both libraries wrap the same OCP ``TopoDS_Shape``; build123d is imported
    only if the object is one of its own.
    """
    if isinstance(obj, cq.Shape | cq.Workplane | cq.Assembly | cq.Sketch | dict):
        return obj
    module = type(obj).__module__ or ""
    if module.startswith("build123d"):
        inner = getattr(obj, "part", None) if hasattr(obj, "part") and not hasattr(obj, "wrapped") else obj
        if inner is None:
            return obj
        wrapped = getattr(inner, "wrapped", None)
        if wrapped is not None:
            return cq.Shape.cast(wrapped)
    if isinstance(obj, list | tuple) and obj and all(hasattr(o, "wrapped") for o in obj):
        return cq.Compound.makeCompound([as_cadquery(o) for o in obj])
    return obj


def convert_result(result: Any) -> Any:
    """build123d objects anywhere in a build()/script result turned into CadQuery shapes."""
    if isinstance(result, dict):
        return {name: as_cadquery(obj) for name, obj in result.items()}
    return as_cadquery(result)
