"""Sums of ledger entries, exact and per unit: money per currency, hours as hours, improvements as a count."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from ...models import Contribution
from ..makers.schema import CONTRIBUTION_KINDS
from .money import IMPROVEMENTS, format_amount, json_amount, scale_of, unit_of


class Sums:
    """Minor units per ``(kind, unit)``, added exactly."""

    def __init__(self) -> None:
        self.minor: dict[tuple[str, str], int] = {}
        self.count: dict[str, int] = {}

    def add(self, kind: str, unit: str, minor: int, count: int = 1) -> None:
        self.minor[(kind, unit)] = self.minor.get((kind, unit), 0) + minor
        self.count[kind] = self.count.get(kind, 0) + count

    def add_entry(self, entry: Contribution) -> None:
        self.add(entry.kind, unit_of(entry.kind, entry.currency), entry.amount_minor)

    def __bool__(self) -> bool:
        return any(self.minor.values())

    def minus(self, other: Sums) -> Sums:
        out = Sums()
        for key in set(self.minor) | set(other.minor):
            out.add(*key, self.minor.get(key, 0) - other.minor.get(key, 0), count=0)
        out.count = dict(self.count)
        return out

    def plus(self, other: Sums) -> Sums:
        out = Sums()
        for source in (self, other):
            for key, minor in source.minor.items():
                out.add(*key, minor, count=0)
            for kind, n in source.count.items():
                out.count[kind] = out.count.get(kind, 0) + n
        return out

    def as_dict(self) -> dict[str, Any]:
        """``{"count": n, "by_kind": {kind: {"count", "totals": {unit: "120.50"}, "display": {unit: "120.50 EUR"}}}}``."""
        by_kind: dict[str, dict[str, Any]] = {}
        for kind in CONTRIBUTION_KINDS:
            units = sorted(u for (k, u) in self.minor if k == kind)
            by_kind[kind] = {
                "count": self.count.get(kind, 0),
                "totals": {u: json_amount(self.minor[(kind, u)], scale_of(u)) for u in units},
                "display": {u: format_amount(self.minor[(kind, u)], scale_of(u), u) for u in units},
            }
        return {"count": sum(self.count.values()), "by_kind": by_kind}


def summarise(entries: Iterable[Contribution]) -> dict[str, Any]:
    """Count and exact totals per kind and unit (see :meth:`Sums.as_dict`)."""
    sums = Sums()
    for entry in entries:
        sums.add_entry(entry)
    return sums.as_dict()


def format_totals(summary: dict[str, Any]) -> str:
    """``money 250 EUR; 2 improvements; 40 hours`` — a summary in one line for people."""
    parts = []
    for kind, entry in summary["by_kind"].items():
        if not entry.get("display"):
            continue
        if kind in ("improvement", "hours"):
            parts.extend(entry["display"].values())
        else:
            parts.append(f"{kind} " + ", ".join(entry["display"].values()))
    return "; ".join(parts) or "nothing recorded"


def per_unit(minor: int, unit: str, units: int) -> tuple[str, str]:
    """*minor* spread over *units* made: ``("62.50", "62.50 KES")``, rounded half-even to the unit's places."""
    scale = scale_of(unit) if unit != IMPROVEMENTS else 2
    value = (Decimal(minor).scaleb(-scale_of(unit)) / units).quantize(Decimal(1).scaleb(-scale),
                                                                          rounding=ROUND_HALF_EVEN)
    shown = format(value, "f")
    if unit == IMPROVEMENTS:
        return shown, f"{shown} improvements"
    if unit == "hours":
        return shown, f"{shown} hours"
    return shown, f"{shown} {unit}"
