"""Validate and canonicalise a user's parameter values against a version's specs.

Values arrive as JSON numbers from the API or as strings from the command line
and web forms (``"12.5"``, ``"true"``). :func:`canonicalise` checks every value
(type, bounds, step, choices) and returns one canonical dict: defaults filled
in, integers as ``int``, floats snapped to their step grid and rounded to
:data:`SIGNIFICANT_DIGITS` digits, ``-0.0`` as ``0.0``. Equal parameter sets
therefore give equal :func:`canonical_json` strings, which the render cache
uses in its keys.

Specs are anything with the attributes of
:class:`~opendesign.manifests.schema.ParameterSpec` (the ``Parameter`` rows of
a ``DesignVersion`` qualify too).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from .errors import OpenDesignError

#: Floats are rounded to this many significant digits, so 0.1 + 0.2 and 0.3 agree.
SIGNIFICANT_DIGITS = 9
#: No value may exceed this magnitude (millimetres: a thousand kilometres). Refuses
#: 1e308-style values that pass a finiteness check and overflow inside a model.
MAX_MAGNITUDE = 1e9
#: A value may sit this fraction of a step off the grid and still count as on it.
STEP_TOLERANCE = 1e-6
MAX_TEXT_LENGTH = 100

_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$", re.ASCII)
_INT_RE = re.compile(r"^[+-]?\d+$", re.ASCII)
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class ParameterSpecLike(Protocol):
    name: str
    type: str
    default: Any
    min: float | None
    max: float | None
    step: float | None
    choices: list[str] | None


class ParameterError(OpenDesignError):
    """One or more parameter values were refused; :attr:`errors` maps name -> reason."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        detail = "; ".join(f"{name}: {reason}" for name, reason in self.errors.items())
        super().__init__(f"invalid parameters: {detail}")


class _Invalid(ValueError):
    pass


def _number(value: Any) -> float | int:
    """A finite int or float from a JSON number or a decimal string."""
    if isinstance(value, bool) or value is None:
        raise _Invalid(f"must be a number, not {json.dumps(value)}")
    if isinstance(value, int):
        result: float | int = value
    elif isinstance(value, float):
        result = value
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_TEXT_LENGTH or not _NUMBER_RE.match(text):
            raise _Invalid(f"must be a number, not {_show(value)}")
        result = int(text) if _INT_RE.match(text) else float(text)
    else:
        raise _Invalid(f"must be a number, not a {type(value).__name__}")
    if isinstance(result, float) and not math.isfinite(result):
        raise _Invalid(f"must be a finite number, not {_show(value)}")
    if abs(result) > MAX_MAGNITUDE:
        raise _Invalid(f"{_show(value)} is out of range (magnitude above {MAX_MAGNITUDE:g})")
    return result


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return repr(text[:40] + "…") if len(text) > 40 else repr(text)


def _round(value: float) -> float:
    rounded = float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    return 0.0 if rounded == 0 else rounded  # also turns -0.0 into 0.0


def _fmt(value: float) -> str:
    return f"{value:g}"


def _on_grid(value: float, spec: ParameterSpecLike) -> float:
    """*value* snapped to ``min + k * step``; raises when it is off the grid."""
    base = spec.min if spec.min is not None else 0.0
    k = (value - base) / spec.step
    nearest = round(k)
    if abs(k - nearest) > STEP_TOLERANCE:
        raise _Invalid(f"{_fmt(value)} is not a multiple of the step {_fmt(spec.step)}"
                       + (f" from {_fmt(base)}" if base else ""))
    return base + nearest * spec.step


def _numeric(value: Any, spec: ParameterSpecLike, default: Any) -> int | float:
    number = _number(value)
    if spec.type == "int":
        if isinstance(number, float):
            if not number.is_integer():
                raise _Invalid(f"must be a whole number, not {_fmt(number)}")
            number = int(number)
    else:
        number = float(number)
    if spec.min is not None and number < spec.min:
        raise _Invalid(f"must be at least {_fmt(spec.min)} (got {_fmt(number)})")
    if spec.max is not None and number > spec.max:
        raise _Invalid(f"must be at most {_fmt(spec.max)} (got {_fmt(number)})")
    # The default is valid by definition, even if a designer put it off the grid.
    if spec.step and number != default:
        number = _on_grid(number, spec)
    if spec.type == "int":
        return int(round(number))
    return _round(number)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise _Invalid(f"must be true or false, not {_show(value)}")


def _choice(value: Any, spec: ParameterSpecLike) -> str:
    choices = list(spec.choices or [])
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or value not in choices:
        raise _Invalid(f"must be one of {', '.join(choices)} (got {_show(value)})")
    return value


def canonical_value(spec: ParameterSpecLike, value: Any) -> Any:
    """The canonical form of one value; raises ``ValueError`` with the reason."""
    if spec.type in ("int", "float"):
        default = spec.default
        return _numeric(value, spec, default)
    if spec.type == "bool":
        return _boolean(value)
    if spec.type == "choice":
        return _choice(value, spec)
    raise _Invalid(f"has an unknown type {spec.type!r}")


def canonicalise(specs: Iterable[ParameterSpecLike], values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Check *values* against *specs*; return every parameter's canonical value.

    :raises ParameterError: naming every refused value and why.
    """
    specs = list(specs)
    values = dict(values or {})
    known = {spec.name for spec in specs}
    errors: dict[str, str] = {}
    for name in values:
        if name not in known:
            errors[str(name)[:64]] = (f"unknown parameter (this design has: {', '.join(sorted(known))})"
                                      if known else "unknown parameter (this design has no parameters)")
    result: dict[str, Any] = {}
    for spec in specs:
        raw = values.get(spec.name, spec.default)
        try:
            result[spec.name] = canonical_value(spec, raw)
        except _Invalid as exc:
            errors[spec.name] = str(exc)
    if errors:
        raise ParameterError(errors)
    return result


def canonical_json(canonical: Mapping[str, Any]) -> str:
    """A stable JSON string for a canonical dict (sorted keys, no spaces, no NaN)."""
    return json.dumps(canonical, sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=True)


def params_hash(canonical: Mapping[str, Any]) -> str:
    """Eight hex digits naming a parameter set (from its canonical JSON); custom bundles carry it."""
    return hashlib.sha256(canonical_json(canonical).encode()).hexdigest()[:8]


def defaults(specs: Iterable[ParameterSpecLike]) -> dict[str, Any]:
    """The canonical default parameter set."""
    return canonicalise(specs, {})
