"""The field types of a maker file: codes, numbers, dates and evidence, each with its own error message.

Codes are checked against ISO 3166-1 (countries) and ISO 4217 (currencies)
via ``pycountry``; amounts are exact decimals (:mod:`..ledger.money`); dates
are calendar dates, and those that record what happened must not lie in the
future.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

import pycountry
from pydantic import AfterValidator, BeforeValidator, StringConstraints

from ..ledger.money import MAX_AMOUNT, NOT_CURRENCIES, to_decimal

#: Regions a production may name besides ISO 3166-1 alpha-2 country codes.
REGIONS = {"EU": "European Union", "EEA": "European Economic Area", "WORLD": "worldwide"}

REF_RE = re.compile(r"^(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)(?:@(?P<version>\S+))?$")
URL_RE = re.compile(r"^https?://[^\s/?#]+\S*$")
SHA256_RE = re.compile(r"^(?:sha256:)?(?P<hex>[0-9a-fA-F]{64})$")
ENTRY_ID_RE = re.compile(r"^[0-9a-f]{16}$")
MAX_URL = 500
MAX_EVIDENCE = 10


def latest_date_on_earth() -> date:
    """Today's date where it is latest (UTC+14): a date after it is in the future everywhere."""
    return (datetime.now(UTC) + timedelta(hours=14)).date()


def _country(code: str) -> str:
    if len(code) == 2 and code.isupper() and pycountry.countries.get(alpha_2=code) is not None:
        return code
    hint = ""
    if pycountry.countries.get(alpha_2=code.upper()) is not None and len(code) == 2:
        hint = f" (did you mean {code.upper()!r}?)"
    raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code{hint}, e.g. 'DE', 'KE', 'BR'")


def _currency(code: str) -> str:
    if code in NOT_CURRENCIES:
        raise ValueError(f"{code!r} is {NOT_CURRENCIES[code]}, not a currency; use e.g. 'EUR', 'USD', 'KES'")
    if len(code) == 3 and code.isupper() and pycountry.currencies.get(alpha_3=code) is not None:
        return code
    hint = ""
    if len(code) == 3 and pycountry.currencies.get(alpha_3=code.upper()) is not None:
        hint = f" (did you mean {code.upper()!r}?)"
    raise ValueError(f"{code!r} is not an ISO 4217 currency code{hint}, e.g. 'EUR', 'USD', 'KES'")


def _region(code: str) -> str:
    if code in REGIONS or (len(code) == 2 and code.isupper() and pycountry.countries.get(alpha_2=code)):
        return code
    raise ValueError(f"{code!r} is neither an ISO 3166-1 alpha-2 country code nor one of "
                     f"{', '.join(sorted(REGIONS))}")


def _number(value: Any) -> Any:
    # pydantic would take true as 1.0 and "12" as 12.0; a maker file must say a number.
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"must be a number, not {type(value).__name__} {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a finite number, not {value}")
    return value


def _exact(value: Any) -> Decimal:
    amount = to_decimal(_number(value))
    if not amount.is_finite():
        raise ValueError(f"must be a finite number, not {amount}")
    return amount


def _non_negative(value: float) -> float:
    if value < 0:
        raise ValueError(f"must not be negative (got {value:g})")
    return value


def _positive_amount(value: Decimal) -> Decimal:
    text = format(value, "f")
    if value <= 0:
        raise ValueError(f"must be greater than zero (got {text.rstrip('0').rstrip('.') if '.' in text else text})")
    if value > MAX_AMOUNT:
        raise ValueError(f"must be at most {MAX_AMOUNT:,} (got {text})")
    return value


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be a whole number, not {type(value).__name__} {value!r}")
    if value <= 0:
        raise ValueError(f"must be greater than zero (got {value})")
    return value


def _iso_date(value: Any) -> date:
    if isinstance(value, datetime):
        raise ValueError("must be a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a calendar date") from None
    raise ValueError(f"{value!r} is not a date; write YYYY-MM-DD, e.g. 2026-05-01")


def _not_future(value: date) -> date:
    if value > latest_date_on_earth():
        raise ValueError(f"{value.isoformat()} is in the future; record what has happened, on the day it did")
    return value


def _ref(value: str) -> str:
    if not REF_RE.match(value):
        raise ValueError(f"{value!r} must name a catalogue design as 'slug' or 'slug@version'")
    return value


def _url(value: str) -> str:
    if not isinstance(value, str) or not URL_RE.match(value) or len(value) > MAX_URL:
        raise ValueError(f"{value!r} must be an http(s) URL of at most {MAX_URL} characters")
    return value


def evidence_item(value: Any) -> str:
    """One piece of evidence, normalised: an http(s) URL, or ``sha256:<64 lowercase hex>``."""
    if isinstance(value, str):
        text = value.strip()
        found = SHA256_RE.match(text)
        if found:
            return f"sha256:{found['hex'].lower()}"
        if URL_RE.match(text) and len(text) <= MAX_URL:
            return text
    raise ValueError(f"{value!r} is neither an http(s) URL (a receipt, transaction, merged pull request or "
                     "published improvement) nor the sha256 of a receipt file (64 hexadecimal digits)")


def _evidence(value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError("must be a URL or sha256, or a list of them")
    if not items:
        raise ValueError("give at least one URL or sha256")
    if len(items) > MAX_EVIDENCE:
        raise ValueError(f"at most {MAX_EVIDENCE} pieces of evidence")
    problems, found = [], []
    for i, item in enumerate(items):
        try:
            found.append(evidence_item(item))
        except ValueError as exc:
            problems.append(f"[{i}] {exc}" if len(items) > 1 else str(exc))
    if problems:
        raise ValueError("; ".join(problems))
    return tuple(dict.fromkeys(found))


def _entry_id(value: Any) -> str:
    if not isinstance(value, str) or not ENTRY_ID_RE.match(value.strip().lower()):
        raise ValueError(f"{value!r} is not a ledger entry id (16 hexadecimal digits, as `opendesign ledger "
                         "export` prints them)")
    return value.strip().lower()


Country = Annotated[str, AfterValidator(_country)]
Currency = Annotated[str, AfterValidator(_currency)]
Region = Annotated[str, AfterValidator(_region)]
Price = Annotated[float, BeforeValidator(_number), AfterValidator(_non_negative)]
Amount = Annotated[Decimal, BeforeValidator(_exact), AfterValidator(_positive_amount)]
Units = Annotated[int, BeforeValidator(_whole)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
PastDate = Annotated[date, BeforeValidator(_iso_date), AfterValidator(_not_future)]
DesignRefText = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_ref)]
Url = Annotated[str, BeforeValidator(_url)]
Evidence = Annotated[tuple[str, ...], BeforeValidator(_evidence)]
EntryId = Annotated[str, BeforeValidator(_entry_id)]
