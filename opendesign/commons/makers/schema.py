"""The schema of a maker file, ``designs/makers/<maker-slug>.toml``.

As strict as ``design.toml``: unknown fields are errors, codes are checked
against ISO 3166-1 (countries) and ISO 4217 (currencies) via ``pycountry``,
and amounts, prices and dates must make sense. Rules that need the catalogue
(do the named designs exist?) live in :mod:`.loader`.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

import pycountry
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, StrictBool, StringConstraints

from ...licenses.compliance import LEGAL_FORMS
from ...manifests.schema import NonEmpty, Slug

CONTRIBUTION_KINDS = ("money", "improvement", "hours", "hardware")
#: Kinds measured in a currency (the amount is money, or the market value of
#: donated hardware); the others are counted (improvements) or in hours.
MONETARY_KINDS = ("money", "hardware")
#: Regions a production may name besides ISO 3166-1 alpha-2 country codes.
REGIONS = {"EU": "European Union", "EEA": "European Economic Area", "WORLD": "worldwide"}

_REF_RE = re.compile(r"^(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)(?:@(?P<version>\S+))?$")
_URL_RE = re.compile(r"^https?://\S+$")


def _country(code: str) -> str:
    if len(code) == 2 and code.isupper() and pycountry.countries.get(alpha_2=code) is not None:
        return code
    hint = ""
    if pycountry.countries.get(alpha_2=code.upper()) is not None and len(code) == 2:
        hint = f" (did you mean {code.upper()!r}?)"
    raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code{hint}, e.g. 'DE', 'KE', 'BR'")


def _currency(code: str) -> str:
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
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number, not {type(value).__name__} {value!r}")
    return value


def _non_negative(value: float) -> float:
    if value < 0:
        raise ValueError(f"must not be negative (got {value:g})")
    return value


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError(f"must be greater than zero (got {value:g})")
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


def _ref(value: str) -> str:
    if not _REF_RE.match(value):
        raise ValueError(f"{value!r} must name a catalogue design as 'slug' or 'slug@version'")
    return value


Country = Annotated[str, AfterValidator(_country)]
Currency = Annotated[str, AfterValidator(_currency)]
Region = Annotated[str, AfterValidator(_region)]
Price = Annotated[float, BeforeValidator(_number), AfterValidator(_non_negative)]
Amount = Annotated[float, BeforeValidator(_number), AfterValidator(_positive)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
DesignRefText = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_ref)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProductionSpec(_Strict):
    """A maker producing (and usually selling) one design version."""

    design: DesignRefText
    modified: StrictBool = False
    #: Where the modified design's source is published: a URL, or the
    #: ``slug@version`` of a catalogue derivative of the produced design.
    modified_source: str = ""
    #: The maker credits the design and its authors on the product or its listing.
    attribution: StrictBool = True
    price: Price | None = None
    currency: Currency | None = None
    regions: list[Region] = []


class ContributionSpec(_Strict):
    """Something the maker gave back to a design's commons."""

    design: DesignRefText
    kind: Literal[CONTRIBUTION_KINDS]  # type: ignore[valid-type]
    #: Money or hardware value in ``currency``; hours; or a number of improvements (default 1).
    amount: Amount | None = None
    currency: Currency | None = None
    date: IsoDate
    note: str = ""


class MakerFile(_Strict):
    """The validated content of one maker file."""

    slug: Slug
    name: NonEmpty
    #: The verdicts turn on it; the vocabulary is the compliance rules'.
    legal_form: Literal[LEGAL_FORMS]  # type: ignore[valid-type]
    country: Country
    website: Annotated[str, StringConstraints(pattern=_URL_RE.pattern)] | None = None
    description: str = ""
    productions: list[ProductionSpec] = []
    contributions: list[ContributionSpec] = []


def production_problems(p: ProductionSpec) -> list[tuple[str, str]]:
    """``(field, reason)`` for the rules of one production that join its fields."""
    problems: list[tuple[str, str]] = []
    if _REF_RE.match(p.design).group("version") is None:
        problems.append(("design", f"{p.design!r} must name a version ('{p.design}@1.0.0'): "
                                   "a production makes one version"))
    if p.price is not None and p.currency is None:
        problems.append(("currency", "required when a price is given"))
    if p.currency is not None and p.price is None:
        problems.append(("price", "required when a currency is given"))
    if p.modified_source and not p.modified:
        problems.append(("modified_source", "given, but modified = false; set modified = true or remove it"))
    if p.modified_source and not (_URL_RE.match(p.modified_source) or _REF_RE.match(p.modified_source)):
        problems.append(("modified_source",
                         f"{p.modified_source!r} must be a URL (https://...) or a catalogue 'slug@version'"))
    return problems


def contribution_problems(c: ContributionSpec) -> list[tuple[str, str]]:
    """``(field, reason)`` for the rules of one contribution that join its fields."""
    problems: list[tuple[str, str]] = []
    if c.kind in MONETARY_KINDS and c.currency is None:
        problems.append(("currency", f"required for kind {c.kind!r} (the amount is "
                                     f"{'money' if c.kind == 'money' else 'the market value'})"))
    if c.kind not in MONETARY_KINDS and c.currency is not None:
        unit = "hours" if c.kind == "hours" else "a count of improvements"
        problems.append(("currency", f"not allowed for kind {c.kind!r} (the amount is {unit})"))
    if c.amount is None and c.kind != "improvement":
        problems.append(("amount", f"required for kind {c.kind!r}"))
    return problems


def cross_field_problems(maker: MakerFile) -> list[tuple[str, str]]:
    """``(field, reason)`` for rules that join fields, each naming the field to fix."""
    problems: list[tuple[str, str]] = []
    for i, p in enumerate(maker.productions):
        problems.extend((f"productions[{i}].{field}", reason) for field, reason in production_problems(p))
    for i, c in enumerate(maker.contributions):
        problems.extend((f"contributions[{i}].{field}", reason) for field, reason in contribution_problems(c))
    return problems


def contribution_amount(spec: ContributionSpec) -> float:
    """The amount to store: an improvement without one counts as one."""
    return spec.amount if spec.amount is not None else 1.0
