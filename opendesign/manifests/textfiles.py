"""Reading uploaded text (TOML manifests, UTF-8 files) into values or per-file errors.

Uploaded files are hostile input: any of them may be invalid UTF-8, invalid
TOML, or valid TOML nested so deeply that the parser runs out of stack (a
657-byte design.toml of 900 nested arrays does). Each becomes one
:class:`~opendesign.errors.FieldError` naming the file, the line when the
parser knows it, and the reason; nothing here raises anything else.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from ..errors import FieldError

#: Tables and arrays inside one another deeper than this are refused: no manifest needs
#: more than a handful, and the limit keeps every later step (validation, JSON) shallow.
MAX_DEPTH = 32
_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


class TextError(Exception):
    """One problem reading one file; ``error`` is the :class:`FieldError` to report."""

    def __init__(self, error: FieldError):
        self.error = error
        super().__init__(str(error))


def decode_utf8(data: bytes, display: str) -> str:
    """*data* as text; a UTF-8 byte-order mark is dropped.

    NUL is refused too: no text file needs one, and PostgreSQL cannot store it.

    :raises TextError: naming the line of the first invalid sequence or NUL.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise TextError(FieldError(display, f"line {line}", "must be UTF-8 text")) from None
    nul = text.find("\x00")
    if nul >= 0:
        raise TextError(FieldError(display, f"line {text.count(chr(10), 0, nul) + 1}", "contains a NUL byte"))
    return text


def _depth(value: Any) -> int:
    """How many tables/arrays are nested in *value* (iteratively: the value may be deep).

    :raises ValueError: a string (key or value) holds NUL, as the escape ``\\u0000`` can make.
    """
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ValueError("NUL")
            continue
        if isinstance(item, dict):
            stack.extend((key, level) for key in item)
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def shape_problem(value: Any) -> str | None:
    """Why a parsed document (TOML or JSON) is refused: nested too deeply, or holding NUL; else None."""
    try:
        deep = _depth(value) > MAX_DEPTH
    except ValueError:
        return "holds a NUL character (\\u0000)"
    if deep:
        return f"is nested too deeply: tables and arrays may sit at most {MAX_DEPTH} levels inside one another"
    return None


def parse_toml(data: bytes, display: str) -> dict[str, Any]:
    """The TOML document *data* as a dict.

    :raises TextError: invalid UTF-8, invalid TOML (with its line), or nesting
        deeper than :data:`MAX_DEPTH`.
    """
    text = decode_utf8(data, display)
    too_deep = FieldError(display, "", f"is nested too deeply: tables and arrays may sit at most {MAX_DEPTH} "
                                       "levels inside one another")
    try:
        value = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = _AT_LINE.search(message)
        field = f"line {where.group(1)}" if where else ""
        reason = _AT_LINE.sub("", message) or "invalid TOML"
        raise TextError(FieldError(display, field, f"is not valid TOML: {reason[:1].lower()}{reason[1:]}")) from None
    except (RecursionError, MemoryError):
        raise TextError(too_deep) from None
    problem = shape_problem(value)
    if problem:
        raise TextError(FieldError(display, "", problem))
    return value
