"""``bom.csv``: a bill of materials as CSV (``item,quantity,unit,note``), read row by row.

Every row's problems are reported with the row's line number; a short row, a
long row, a quantity that is not a finite positive number, a NUL byte or a
field past the csv module's size limit are errors, never exceptions.
"""

from __future__ import annotations

import csv
import io
import math

from pydantic import ValidationError

from ..errors import FieldError
from .schema import BomLine
from .textfiles import TextError, decode_utf8

REQUIRED = ("item", "quantity")
OPTIONAL = ("unit", "note")


def _row(row: dict, line: int, display: str, errors: list[FieldError]) -> BomLine | None:
    where = f"row {line}"
    if None in row:  # DictReader puts values beyond the header under the key None
        errors.append(FieldError(display, where, f"has {len(row) - 1 + len(row[None])} values; the header names "
                                                 f"{len(row) - 1} columns"))
        return None
    missing = [name for name in REQUIRED if row.get(name) is None]
    if missing:
        errors.append(FieldError(display, where, f"has no value for column(s) {', '.join(missing)} "
                                                 "(the row is shorter than the header)"))
        return None
    text = row["quantity"].strip()
    try:
        quantity = float(text)
    except ValueError:
        errors.append(FieldError(display, where, f"quantity {text[:40]!r} is not a number"))
        return None
    if not math.isfinite(quantity):
        errors.append(FieldError(display, where, f"quantity {text[:40]!r} is not a finite number"))
        return None
    try:
        return BomLine(item=row["item"], quantity=quantity, unit=row.get("unit") or "pcs", note=row.get("note") or "")
    except ValidationError as exc:
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"])
            errors.append(FieldError(display, where, f"{name}: {err['msg'].removeprefix('Value error, ')}"
                                     if name else err["msg"]))
        return None


def read_bom_csv(data: bytes, display: str, errors: list[FieldError]) -> list[BomLine]:
    """The lines of a ``bom.csv``; problems go to *errors*, each naming the file and the row."""
    try:
        text = decode_utf8(data, display)
    except TextError as exc:
        errors.append(exc.error)
        return []
    lines: list[BomLine] = []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
        missing = [name for name in REQUIRED if name not in header]
        if missing:
            errors.append(FieldError(display, "header", f"missing column(s): {', '.join(missing)}; the header "
                                                        f"must name {', '.join(REQUIRED + OPTIONAL)}"))
            return lines
        for row in reader:
            line = _row(row, reader.line_num, display, errors)
            if line is not None:
                lines.append(line)
    except csv.Error as exc:
        errors.append(FieldError(display, f"line {reader.line_num}", f"is not valid CSV: {exc}"))
    return lines
