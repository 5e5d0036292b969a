"""Parameter values from a query string or form, checked against the manifest.

Browsers send strings; this turns them into the manifest's types and checks
bounds, steps and choices, naming the field in every error. The render
pipeline validates again before anything runs; this layer exists so a person
gets a 422 with the field named instead of a failed render.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from opendesign.errors import OpenDesignError

_INT_RE = re.compile(r"^[+-]?\d{1,15}$")
_FLOAT_RE = re.compile(r"^[+-]?(\d{1,15}(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?$")
TRUE = {"true", "on", "1", "yes"}
FALSE = {"false", "off", "0", "no", ""}
#: Query arguments of render URLs that are not parameters.
RESERVED = {"format", "quality", "part", "wait", "version", "speculative", "_c"}


class ParameterErrors(OpenDesignError):
    """One or more parameters are invalid; ``fields`` maps each name to its reasons."""

    def __init__(self, fields: dict[str, list[str]]):
        self.fields = fields
        super().__init__("invalid parameters: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in fields.items()))


def _fmt(x: float | None) -> str:
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _coerce(spec, raw: str) -> tuple[Any, str | None]:
    text = raw.strip()
    if spec.type == "int":
        if not _INT_RE.match(text):
            return None, f"must be a whole number, got {raw[:40]!r}"
        value: Any = int(text)
    elif spec.type == "float":
        if not _FLOAT_RE.match(text):
            return None, f"must be a number, got {raw[:40]!r}"
        value = float(text)
        if not math.isfinite(value):
            return None, "must be a finite number"
    elif spec.type == "bool":
        lowered = text.lower()
        if lowered in TRUE:
            return True, None
        if lowered in FALSE:
            return False, None
        return None, f"must be true or false, got {raw[:40]!r}"
    else:
        if text not in (spec.choices or []):
            return None, f"must be one of {', '.join(spec.choices or [])}, got {raw[:40]!r}"
        return text, None
    unit = f" {spec.unit}" if spec.unit else ""
    lo, hi = spec.min, spec.max
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        if lo is not None and hi is not None:
            return None, f"must be between {_fmt(lo)} and {_fmt(hi)}{unit}, got {_fmt(value)}"
        if lo is not None:
            return None, f"must be at least {_fmt(lo)}{unit}, got {_fmt(value)}"
        return None, f"must be at most {_fmt(hi)}{unit}, got {_fmt(value)}"
    if spec.step:
        base = lo if lo is not None else 0
        steps = (value - base) / spec.step
        if abs(steps - round(steps)) > 1e-6:
            return None, f"must be a multiple of {_fmt(spec.step)}{unit} from {_fmt(base)}, got {_fmt(value)}"
    return value, None


def parse_params(specs: list, args: Mapping[str, Any], *, strict: bool = False) -> tuple[dict[str, Any], bool]:
    """Typed values of every parameter (defaults filled) and whether any was given.

    *args* is a ``MultiDict``-like mapping; for a name given several times the
    last value counts (a checkbox after its hidden ``false`` twin).

    :param strict: refuse names that are not parameters (the JSON API does;
        pages ignore unrelated query arguments).
    :raises ParameterErrors: naming every invalid field.
    """
    by_name = {s.name: s for s in specs}
    values = {s.name: s.default for s in specs}
    errors: dict[str, list[str]] = {}
    given = False
    getlist = getattr(args, "getlist", None)
    for name in args:
        if name in RESERVED:
            continue
        spec = by_name.get(name)
        if spec is None:
            if strict:
                errors.setdefault(name, []).append("unknown parameter")
            continue
        raw = getlist(name)[-1] if getlist else args[name]
        value, problem = _coerce(spec, str(raw))
        if problem:
            errors.setdefault(name, []).append(problem)
        else:
            values[name] = value
            given = True
    if errors:
        raise ParameterErrors(errors)
    return values, given


def is_default(specs: list, values: dict[str, Any]) -> bool:
    return all(values.get(s.name) == s.default for s in specs)
