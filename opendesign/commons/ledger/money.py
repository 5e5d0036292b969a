"""Exact amounts: money in each currency's minor units, hours in hundredths, improvements as counts.

Nothing in the ledger is a float. An amount is an integer number of *minor
units* with a *scale* (decimal places): 120.50 EUR is ``(12050, 2)``, 1500 JPY
is ``(1500, 0)``, 2.25 hours is ``(225, 2)``. The decimal places of a currency
are CLDR's (Babel's :func:`~babel.numbers.get_currency_precision`), which
follow ISO 4217 except where a currency is never used with its minor unit in
practice (CLDR gives 0 for UGX, ISK, IQD...). Money is summed per currency,
hours as hours, improvements as a count; units are never mixed or converted.

Splitting is exact: :func:`share_of` rounds half to even, and :func:`split`
hands out what rounding leaves by the largest remainder, ties to the earlier
part, so every split adds up to its whole, always in the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from babel.numbers import get_currency_precision

#: Kinds measured in a currency (money, and the market value of donated hardware).
MONETARY_KINDS = ("money", "hardware")
HOURS = "hours"
IMPROVEMENTS = "improvements"
#: Hours are kept to the hundredth (36 seconds): finer claims are refused, not rounded.
HOURS_SCALE = 2
#: The largest amount one entry may carry, in its unit (a guard against typos and overflow).
MAX_AMOUNT = Decimal(10) ** 12
#: ISO 4217 codes that name no currency a contribution can be made in.
NOT_CURRENCIES = {"XXX": "the code for 'no currency'", "XTS": "a code reserved for testing"}


def unit_of(kind: str, currency: str | None) -> str:
    """The unit totals of *kind* are kept in: the currency, ``hours`` or ``improvements``."""
    if kind in MONETARY_KINDS:
        if not currency:
            raise ValueError(f"kind {kind!r} needs a currency")
        return currency
    return HOURS if kind == "hours" else IMPROVEMENTS


def scale_of(unit: str) -> int:
    """Decimal places kept for *unit* (a currency code, ``hours`` or ``improvements``)."""
    if unit == HOURS:
        return HOURS_SCALE
    if unit == IMPROVEMENTS:
        return 0
    return get_currency_precision(unit)


def to_decimal(value: int | float | Decimal) -> Decimal:
    """A number as written: floats through their shortest repr, so ``0.1`` is ``Decimal('0.1')``."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(float(value)))


def amount_problem(amount: Decimal, unit: str) -> str:
    """Why *amount* cannot be recorded in *unit* (empty if it can)."""
    if not amount.is_finite():
        return f"must be a finite number, not {amount}"
    if amount <= 0:
        return f"must be greater than zero (got {_plain(amount)})"
    if amount > MAX_AMOUNT:
        return f"must be at most {MAX_AMOUNT:,} (got {_plain(amount)})"
    scale = scale_of(unit)
    if amount != amount.quantize(Decimal(1).scaleb(-scale)):
        if unit == IMPROVEMENTS:
            return f"a number of improvements must be whole (got {_plain(amount)})"
        if unit == HOURS:
            return f"hours are recorded to the hundredth (0.01 h); {_plain(amount)} has more decimal places"
        return (f"{_plain(amount)} {unit} has more decimal places than {unit} has "
                f"({scale}{' — it has no minor unit' if scale == 0 else ''})")
    return ""


def to_minor(amount: Decimal, unit: str) -> int:
    """*amount* in minor units of *unit*.

    :raises ValueError: when :func:`amount_problem` finds one.
    """
    problem = amount_problem(amount, unit)
    if problem:
        raise ValueError(problem)
    return int(amount.scaleb(scale_of(unit)))


def from_minor(minor: int, scale: int) -> Decimal:
    """The decimal value of *minor* units at *scale*, with exactly *scale* places (``12050, 2 -> 120.50``)."""
    return Decimal(minor).scaleb(-scale).quantize(Decimal(1).scaleb(-scale))


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_amount(minor: int, scale: int, unit: str) -> str:
    """For people: ``120 EUR``, ``7.50 EUR``, ``1.5 hours``, ``2 improvements``.

    Whole money amounts drop their minor digits; fractional ones keep all of
    them, as prices are written.
    """
    value = from_minor(minor, scale)
    if unit == IMPROVEMENTS:
        return f"{_plain(value)} improvement{'s' if value != 1 else ''}"
    if unit == HOURS:
        return f"{_plain(value)} hour{'s' if value != 1 else ''}"
    text = _plain(value) if value == value.to_integral_value() else format(value, "f")
    return f"{text} {unit}"


def json_amount(minor: int, scale: int) -> str:
    """For scripts: the exact decimal as a string with every place (``"120.50"``)."""
    return format(from_minor(minor, scale), "f")


def share_of(minor: int, share: Fraction) -> int:
    """``minor * share`` in whole minor units, rounded half to even."""
    if not 0 <= share <= 1:
        raise ValueError(f"a share must be from 0 to 1, not {share}")
    return round(minor * share)


def split(minor: int, weights: Sequence[Fraction]) -> list[int]:
    """Split *minor* units by *weights* (adding up to 1), exactly.

    Each part gets the whole units of its quota; the units left over go one by
    one to the largest fractional remainders, ties to the earlier part.
    """
    if not weights:
        raise ValueError("nothing to split between")
    if sum(weights) != 1 or any(w < 0 for w in weights):
        raise ValueError(f"weights must be non-negative and add up to 1, not {[str(w) for w in weights]}")
    quotas = [minor * w for w in weights]
    parts = [q.numerator // q.denominator for q in quotas]
    left = minor - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - parts[i]), i))
    for i in order[:left]:
        parts[i] += 1
    return parts


def percent(share: Fraction) -> str:
    """``Fraction(1, 4) -> '25%'``, ``Fraction(1, 8) -> '12.5%'``, ``Fraction(1, 3) -> '33.33%'``."""
    value = Decimal(share.numerator) / Decimal(share.denominator) * 100
    return f"{_plain(value.quantize(Decimal('0.01')))}%"
