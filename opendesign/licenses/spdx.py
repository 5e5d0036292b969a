"""SPDX license expressions: parsing and validation with ``license-expression``.

Identifiers must be on the SPDX license list, or a ``LicenseRef-...`` that the
project's registry (:mod:`opendesign.licenses.registry`) describes.
"""

from __future__ import annotations

from functools import lru_cache

from license_expression import ExpressionError, LicenseSymbol, get_spdx_licensing


class LicenseExpressionError(ValueError):
    """An expression that does not parse or names an unknown license."""


@lru_cache(maxsize=1)
def licensing():
    return get_spdx_licensing()


def _known_refs() -> set[str]:
    from .registry import known_license_refs

    return known_license_refs()


@lru_cache(maxsize=4096)
def parse(expression: str):
    """Parse and validate *expression*; return the ``license_expression`` tree."""
    text = (expression or "").strip()
    if not text:
        raise LicenseExpressionError("is empty; give an SPDX expression such as 'CERN-OHL-S-2.0'")
    try:
        parsed = licensing().parse(text, validate=False, strict=True)
    except ExpressionError as exc:
        raise LicenseExpressionError(f"{text!r} is not a valid SPDX expression: {exc}") from None
    if parsed is None:
        raise LicenseExpressionError(f"{text!r} is not a valid SPDX expression")
    refs = _known_refs()
    unknown = []
    for symbol in licensing().license_symbols(parsed, unique=True, decompose=True):
        key = symbol.key
        if key.startswith("LicenseRef-"):
            if key not in refs:
                unknown.append(f"{key} (not in the project's license registry; known: {', '.join(sorted(refs))})")
        elif not isinstance(symbol, LicenseSymbol) or key not in _spdx_keys():
            unknown.append(f"{key} (not an SPDX license identifier)")
    if unknown:
        raise LicenseExpressionError(f"unknown license: {'; '.join(unknown)}")
    return parsed


@lru_cache(maxsize=1)
def _spdx_keys() -> frozenset[str]:
    keys = set()
    for symbol in licensing().known_symbols.values():
        keys.add(symbol.key)
    return frozenset(keys)


def normalise_expression(expression: str) -> str:
    """Return the canonical spelling of *expression* (e.g. ``mit`` -> ``MIT``)."""
    return str(parse(expression))


def license_keys(expression: str) -> list[str]:
    """Every license identifier in *expression*, in order of appearance, unique."""
    parsed = parse(expression)
    return [s.key for s in licensing().license_symbols(parsed, unique=True, decompose=True)]
