"""What an SPDX expression means for a reuser: options (OR) of license sets (AND).

An expression is rewritten into disjunctive normal form: a list of *options*,
each a set of licenses that all apply together.  ``MIT OR (Apache-2.0 AND
CC-BY-4.0)`` has two options, ``{MIT}`` and ``{Apache-2.0, CC-BY-4.0}``.

* **OR**: the reuser picks an option, so the most favourable one counts.
* **AND**: every license in the option binds at once, so obligations add up and
  the most restrictive commercial rule wins.
* **WITH**: an exception only ever adds permissions to its base license, so the
  base license's terms are used (a conservative reading).

The compatibility and compliance checks work on whole options; :func:`effective_terms`
is a per-field summary for display.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product

from license_expression import LicenseSymbol, LicenseWithExceptionSymbol

from . import registry, spdx
from .model import ALLOWED, commercial_rank

__all__ = ["Option", "Terms", "combine", "effective_terms", "option_label", "options"]

#: One alternative of an expression: license ids that all apply together.
Option = frozenset[str]

# An expression like (A OR B) AND (C OR D) AND ... grows as the product of its
# parts; real design licenses are tiny, so a runaway one is a data error.
_MAX_OPTIONS = 256


@dataclass(frozen=True)
class Terms:
    """The combined terms of some licenses.

    :param licenses: the license ids considered.
    :param unknown: ids among them the registry has no rules for; the other
        fields ignore these, so callers decide how cautious to be.
    :param attribution_required: someone must be credited.
    :param share_alike: ids whose share-alike rule binds derivatives.
    :param derivatives_allowed: modified versions may be shared.
    :param commercial_use: the effective rule from :data:`~.model.COMMERCIAL_RULES`.
    :param product_obligations: duties when making or selling products.
    """

    licenses: tuple[str, ...]
    unknown: tuple[str, ...]
    attribution_required: bool
    share_alike: tuple[str, ...]
    derivatives_allowed: bool
    commercial_use: str
    product_obligations: tuple[str, ...]


def options(expression: str) -> list[Option]:
    """The alternatives of *expression*, in order of appearance, without duplicates.

    :raises ~opendesign.licenses.spdx.LicenseExpressionError: if it does not parse.
    """
    found = _dnf(spdx.parse(expression))
    if len(found) > _MAX_OPTIONS:
        raise spdx.LicenseExpressionError(
            f"{expression!r} expands to {len(found)} alternatives; simplify the expression"
        )
    return found


def option_label(option: Option) -> str:
    """An option as an SPDX expression (``A AND B``), in a stable order."""
    return " AND ".join(sorted(option))


def combine(license_ids) -> Terms:
    """Terms when every license in *license_ids* applies at once (AND)."""
    ordered = tuple(dict.fromkeys(license_ids))
    known = [lic for lic in map(registry.find, ordered) if lic is not None]
    rules = [lic.commercial_use for lic in known] or [ALLOWED]
    return Terms(
        licenses=ordered,
        unknown=tuple(key for key in ordered if registry.find(key) is None),
        attribution_required=any(lic.attribution_required for lic in known),
        share_alike=tuple(lic.id for lic in known if lic.share_alike),
        derivatives_allowed=all(lic.derivatives_allowed for lic in known),
        commercial_use=max(rules, key=commercial_rank),
        product_obligations=tuple(dict.fromkeys(o for lic in known for o in lic.product_obligations)),
    )


def effective_terms(expression: str) -> Terms:
    """The most favourable terms of *expression*, field by field.

    For OR each field takes its best value over the options (derivatives allowed
    if any option allows them, the least restrictive commercial rule, credit
    required only if every option requires it, obligations common to all
    options).  Fields may therefore come from different options; use
    :func:`options` and :func:`combine` when a decision needs one coherent option.
    """
    alternatives = [combine(sorted(opt)) for opt in options(expression)]
    if len(alternatives) == 1:
        return alternatives[0]
    share_alike: tuple[str, ...] = ()
    if all(alt.share_alike for alt in alternatives):
        # Every option binds derivatives; they must keep one of these.
        share_alike = tuple(dict.fromkeys(k for alt in alternatives for k in alt.share_alike))
    common = set.intersection(*(set(alt.product_obligations) for alt in alternatives))
    return Terms(
        licenses=tuple(dict.fromkeys(k for alt in alternatives for k in alt.licenses)),
        unknown=tuple(dict.fromkeys(k for alt in alternatives for k in alt.unknown)),
        attribution_required=all(alt.attribution_required for alt in alternatives),
        share_alike=share_alike,
        derivatives_allowed=any(alt.derivatives_allowed for alt in alternatives),
        commercial_use=min((alt.commercial_use for alt in alternatives), key=commercial_rank),
        product_obligations=tuple(o for o in alternatives[0].product_obligations if o in common),
    )


def _dnf(node) -> list[Option]:
    if isinstance(node, LicenseWithExceptionSymbol):
        return [frozenset({node.license_symbol.key})]
    if isinstance(node, LicenseSymbol):
        return [frozenset({node.key})]
    licensing = spdx.licensing()
    parts = [_dnf(arg) for arg in node.args]
    if isinstance(node, licensing.OR):
        merged = [opt for part in parts for opt in part]
    elif isinstance(node, licensing.AND):
        if math.prod(len(part) for part in parts) > _MAX_OPTIONS:
            raise spdx.LicenseExpressionError(f"{node} has too many alternatives; simplify the expression")
        merged = [frozenset().union(*combo) for combo in product(*parts)]
    else:  # pragma: no cover - the parser yields nothing else
        raise spdx.LicenseExpressionError(f"unsupported expression node {node!r}")
    return list(dict.fromkeys(merged))
