"""The schema of a maker file, ``designs/makers/<maker-slug>.toml``.

As strict as ``design.toml``: unknown fields are errors, and every value is
checked (:mod:`.fields`). Rules that join fields are the ``*_problems``
functions, each naming the field to fix. Rules that need the catalogue (do the
named designs exist? is the corrected entry this maker's?) live in
:mod:`.loader` and :mod:`..ledger.entries`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, StrictBool

from ...licenses.compliance import LEGAL_FORMS
from ...manifests.schema import NonEmpty, Slug
from ..ledger.money import MONETARY_KINDS, amount_problem, unit_of
from .fields import (REF_RE, REGIONS, URL_RE, Amount, Country, Currency, DesignRefText, EntryId, Evidence, IsoDate,
                     PastDate, Price, Region, Units, Url)

CONTRIBUTION_KINDS = ("money", "improvement", "hours", "hardware")
ATTESTATION_KINDS = ("worker-ownership",)

__all__ = ["ATTESTATION_KINDS", "CONTRIBUTION_KINDS", "LEGAL_FORMS", "MONETARY_KINDS", "REGIONS", "AttestationSpec",
           "ContributionSpec", "MakerFile", "ProductionSpec", "attestation_problems", "contribution_amount",
           "contribution_problems", "cross_field_problems", "production_problems"]

_EVIDENCE_HINT = ("a URL (https://...) of the receipt, transaction, merged pull request or published improvement, "
                  "or the sha256 of a receipt file, or a list of them")


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
    #: Units made in ``period_start``..``period_end`` (as CERN OHL v1.2 §4.2 invited makers to report).
    units: Units | None = None
    period_start: PastDate | None = None
    period_end: PastDate | None = None
    #: Where recipients of the product find its complete source (CERN OHL v2 §4): a URL or ``slug@version``.
    source_location: str = ""
    #: The product (or its packaging or documentation) carries the design's notice with the source location.
    notice: StrictBool | None = None


class ContributionSpec(_Strict):
    """Something the maker gave back to a design's commons: one entry of the reciprocity ledger."""

    design: DesignRefText
    kind: Literal[CONTRIBUTION_KINDS]  # type: ignore[valid-type]
    #: Money or hardware value in ``currency``; hours; or a number of improvements (default 1).
    amount: Amount | None = None
    currency: Currency | None = None
    date: PastDate
    #: URL(s) and/or sha256 digest(s) that show it happened; required.
    evidence: Evidence | None = None
    note: str = ""
    #: The id of an earlier entry of this maker that this one replaces.
    corrects: EntryId | None = None


class AttestationSpec(_Strict):
    """A maker's attestation that it is worker-owned (what the Peer Production License asks of sellers)."""

    kind: Literal[ATTESTATION_KINDS] = "worker-ownership"  # type: ignore[valid-type]
    #: Bylaws, a cooperative registry entry, a certificate.
    evidence: Url
    registry_id: NonEmpty
    valid_from: IsoDate
    valid_until: IsoDate


class MakerFile(_Strict):
    """The validated content of one maker file."""

    slug: Slug
    name: NonEmpty
    #: The verdicts turn on it; the vocabulary is the compliance rules'.
    legal_form: Literal[LEGAL_FORMS]  # type: ignore[valid-type]
    country: Country
    website: Url | None = None
    description: str = ""
    productions: list[ProductionSpec] = []
    contributions: list[ContributionSpec] = []
    attestations: list[AttestationSpec] = []


def _location_problem(field: str, value: str) -> tuple[str, str] | None:
    if value and not (URL_RE.match(value) or REF_RE.match(value)):
        return field, f"{value!r} must be a URL (https://...) or a catalogue 'slug@version'"
    return None


def production_problems(p: ProductionSpec) -> list[tuple[str, str]]:
    """``(field, reason)`` for the rules of one production that join its fields."""
    problems: list[tuple[str, str]] = []
    if REF_RE.match(p.design).group("version") is None:
        problems.append(("design", f"{p.design!r} must name a version ('{p.design}@1.0.0'): "
                                   "a production makes one version"))
    if p.price is not None and p.currency is None:
        problems.append(("currency", "required when a price is given"))
    if p.currency is not None and p.price is None:
        problems.append(("price", "required when a currency is given"))
    if p.modified_source and not p.modified:
        problems.append(("modified_source", "given, but modified = false; set modified = true or remove it"))
    problems += [found for found in (_location_problem("modified_source", p.modified_source),
                                     _location_problem("source_location", p.source_location)) if found]
    if p.units is not None:
        problems += [(key, "required with units (the period the units were made in)")
                     for key in ("period_start", "period_end") if getattr(p, key) is None]
    elif p.period_start is not None or p.period_end is not None:
        problems.append(("units", "required with a period (how many units were made in it)"))
    if p.period_start and p.period_end and p.period_end < p.period_start:
        problems.append(("period_end", f"{p.period_end} is before period_start {p.period_start}"))
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
    if c.amount is not None and (c.currency is not None or c.kind not in MONETARY_KINDS):
        problem = amount_problem(c.amount, unit_of(c.kind, c.currency))
        if problem:
            problems.append(("amount", problem))
    if c.evidence is None:
        problems.append(("evidence", f"required: {_EVIDENCE_HINT}"))
    return problems


def attestation_problems(a: AttestationSpec) -> list[tuple[str, str]]:
    """``(field, reason)`` for the rules of one attestation that join its fields."""
    if a.valid_until < a.valid_from:
        return [("valid_until", f"{a.valid_until} is before valid_from {a.valid_from}")]
    return []


def cross_field_problems(maker: MakerFile) -> list[tuple[str, str]]:
    """``(field, reason)`` for rules that join fields, each naming the field to fix."""
    problems: list[tuple[str, str]] = []
    for key, items, check in (("productions", maker.productions, production_problems),
                              ("contributions", maker.contributions, contribution_problems),
                              ("attestations", maker.attestations, attestation_problems)):
        for i, item in enumerate(items):
            problems.extend((f"{key}[{i}].{field}", reason) for field, reason in check(item))
    return problems


def contribution_amount(spec: ContributionSpec) -> Decimal:
    """The amount to record: an improvement without one counts as one."""
    return spec.amount if spec.amount is not None else Decimal(1)
