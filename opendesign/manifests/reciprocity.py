"""``[reciprocity]`` in ``design.toml``: how much of what a derivative receives flows to its parents.

::

    derived_from = ["hand-mill-spur-gear@1.0.0", "bicycle-generator-mount@1.0.0"]

    [reciprocity]
    upstream_share = 0.25                 # of every confirmed contribution to this design
    weights = { hand-mill-spur-gear = 0.6, bicycle-generator-mount = 0.4 }

``upstream_share`` is a number from 0 to 1. Without it a derivative passes
on :data:`DEFAULT_UPSTREAM_SHARE` (10 %): a tithe is a norm people already
know, it is small enough that the derivative's own commons -- which did the
newest work and maintains it -- keeps nine tenths, and large enough that every
ancestor in a long lineage is visibly credited (each generation passes on a
tenth of what reached it). A derivative that is mostly its parent's work says
so with a larger share; ``0`` keeps everything. The share of an original
design (no parents) has nowhere to go and is ignored.

``weights`` split the upstream share between the parents, keyed by a parent's
slug (or its ``slug@version`` as written in ``derived_from``); they must name
every parent once and add up to exactly 1. Without weights the parents share
equally.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

#: The share of confirmed contributions a derivative passes to its parents when it does not say.
DEFAULT_UPSTREAM_SHARE = 0.1


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number from 0 to 1, not {type(value).__name__} {value!r}")
    if not math.isfinite(value) or not 0 <= value <= 1:
        raise ValueError(f"{what} must be a number from 0 to 1 (got {value})")
    return float(value)


Share = Annotated[float, BeforeValidator(lambda v: _number(v, "the share"))]
Weight = Annotated[float, BeforeValidator(lambda v: _number(v, "a weight"))]


class ReciprocitySpec(BaseModel):
    """The validated ``[reciprocity]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    upstream_share: Share = DEFAULT_UPSTREAM_SHARE
    weights: dict[str, Weight] = {}


def exact(value: float) -> Decimal:
    """A share or weight as written (``0.1`` is exactly one tenth)."""
    return Decimal(repr(float(value)))


def parent_weights(spec: ReciprocitySpec, derived_from: list[str]) -> list[Decimal] | None:
    """The weight of each parent in ``derived_from`` order, or None for an equal split."""
    if not spec.weights:
        return None
    by_ref = {}
    for key, weight in spec.weights.items():
        for ref in derived_from:
            if key in (ref, ref.partition("@")[0]):
                by_ref[ref] = exact(weight)
    return [by_ref[ref] for ref in derived_from]


def reciprocity_problems(spec: ReciprocitySpec, derived_from: list[str]) -> list[tuple[str, str]]:
    """``(field, reason)`` for weights that do not fit ``derived_from``."""
    if not spec.weights:
        return []
    if not derived_from:
        return [("reciprocity.weights", "this design derives from nothing (derived_from is empty), "
                                        "so there are no parents to weigh")]
    problems: list[tuple[str, str]] = []
    named: dict[str, str] = {}
    for key in spec.weights:
        matches = [ref for ref in derived_from if key in (ref, ref.partition("@")[0])]
        if not matches:
            problems.append((f"reciprocity.weights.{key}",
                             f"{key!r} is not a parent in derived_from ({', '.join(derived_from)})"))
        elif len(matches) > 1:
            problems.append((f"reciprocity.weights.{key}",
                             f"{key!r} names {len(matches)} parents; key the weights by slug@version"))
        elif matches[0] in named:
            problems.append((f"reciprocity.weights.{key}",
                             f"weighs {matches[0]} again (already as {named[matches[0]]!r})"))
        else:
            named[matches[0]] = key
    missing = [ref for ref in derived_from if ref not in named]
    if missing and not problems:
        problems.append(("reciprocity.weights", f"give every parent a weight; missing: {', '.join(missing)}"))
    total = sum((exact(w) for w in spec.weights.values()), Decimal(0))
    if total != 1:
        problems.append(("reciprocity.weights", f"must add up to 1, not {total.normalize():f} "
                                                f"({' + '.join(f'{exact(w).normalize():f}' for w in spec.weights.values())})"))
    return problems
