"""The designer's presets: ``[[presets]]`` in ``design.toml``.

A preset is a complete parameter set: the design's defaults with the preset's
``values`` applied, so opening a preset always gives the same model whatever
was set before. :func:`check_presets` validates the values exactly as a
user's parameters are validated (:func:`opendesign.parameters.canonical_value`:
bounds, step grid, choices), but stricter about types — a manifest says
``width = 300.0``, never ``width = "300"`` — and names the preset and the
field in every error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import FieldError
from ..parameters import ParameterError, ParameterSpecLike, canonical_value, canonicalise

#: TOML types a value of each parameter type may have.
_TYPES: dict[str, tuple[type, ...]] = {"int": (int,), "float": (int, float), "bool": (bool,), "choice": (str,)}
_TYPE_WORDS = {"int": "a whole number", "float": "a number", "bool": "true or false", "choice": "a string"}


@dataclass(frozen=True)
class Preset:
    """One preset as the customiser, the API and the CLI show it."""

    name: str
    description: str
    #: Only the values the preset sets, canonical.
    changes: dict[str, Any]
    #: Every parameter: the defaults with :attr:`changes` applied.
    values: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "changes": self.changes, "values": self.values}


def _type_problem(spec: ParameterSpecLike, value: Any) -> str | None:
    allowed = _TYPES.get(spec.type, ())
    # bool is an int in Python; a TOML boolean is never a number here.
    if isinstance(value, bool) != (spec.type == "bool") or not isinstance(value, allowed):
        shown = type(value).__name__ if isinstance(value, list | dict) else repr(value)
        return f"must be {_TYPE_WORDS.get(spec.type, spec.type)} for this {spec.type} parameter, not {shown}"
    return None


def check_presets(presets: Sequence[Any], parameters: Iterable[ParameterSpecLike], file: str) -> list[FieldError]:
    """Every problem of *presets* (``PresetSpec``-like) against *parameters*, naming preset and field.

    :param file: how to name the manifest in the errors, e.g. ``designs/x/design.toml``.
    """
    specs = {spec.name: spec for spec in parameters}
    errors: list[FieldError] = []
    for i, preset in enumerate(presets):
        where = f"presets[{i}]"
        label = f"preset {preset.name!r}"
        if not preset.values:
            errors.append(FieldError(file, f"{where}.values",
                                     f"{label} sets no parameter; give at least one value (the defaults are "
                                     "always offered)"))
        for name, value in preset.values.items():
            field = f"{where}.values.{name}"
            spec = specs.get(name)
            if spec is None:
                known = ", ".join(sorted(specs)) or "none"
                errors.append(FieldError(file, field, f"{label}: unknown parameter (this design has: {known})"))
                continue
            problem = _type_problem(spec, value)
            if problem is None:
                try:
                    canonical_value(spec, value)
                except ValueError as exc:
                    problem = str(exc)
            if problem:
                errors.append(FieldError(file, field, f"{label}: {problem}"))
    return errors


def presets_of(manifest: Mapping[str, Any] | None, parameters: Sequence[ParameterSpecLike]) -> list[Preset]:
    """The presets of a stored manifest (``DesignVersion.manifest``), canonical against *parameters*.

    A preset that no longer validates (a manifest stored before presets were
    checked) is left out rather than offered broken.
    """
    out: list[Preset] = []
    for raw in (manifest or {}).get("presets") or []:
        given = raw.get("values") or {}
        try:
            values = canonicalise(parameters, given)
        except ParameterError:
            continue
        if not given:
            continue
        changes = {name: values[name] for name in given}
        out.append(Preset(name=raw["name"], description=raw.get("description") or "", changes=changes,
                          values=values))
    return out
