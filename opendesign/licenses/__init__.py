"""Licenses: SPDX expressions and the project's registry of license rules.

A framework-free, database-free library; the catalogue wires it in.

* :mod:`.registry` -- :class:`License` rule data by SPDX id (:func:`get`,
  :func:`all_licenses`, :func:`families`).
* :mod:`.spdx` -- parse and normalise SPDX expressions.
* :mod:`.expressions` -- what an expression means: OR options of AND sets.
* :mod:`.rules` -- what one parent license asks of a derivative's license.
* :mod:`.compatibility` -- a derivative against all its parents
  (:func:`check_derivative`, :func:`allowed_licenses`, :func:`default_license`).
* :mod:`.compliance` -- verdicts on makers' productions (:func:`evaluate_production`).
"""

from __future__ import annotations

from .compatibility import (
    Allowance,
    ParentAllowance,
    ParentRef,
    Problem,
    allowance,
    allowed_licenses,
    check_derivative,
    default_license,
    require_derivative,
)
from .compliance import LEGAL_FORMS, STATUSES, Verdict, evaluate_production
from .expressions import Terms, effective_terms, options
from .model import COMMERCIAL_RULES, FAMILIES, License
from .registry import UnknownLicense, all_licenses, families, get, known_license_refs
from .spdx import LicenseExpressionError, normalise_expression, parse

__all__ = [
    "COMMERCIAL_RULES",
    "FAMILIES",
    "LEGAL_FORMS",
    "STATUSES",
    "Allowance",
    "License",
    "LicenseExpressionError",
    "ParentAllowance",
    "ParentRef",
    "Problem",
    "Terms",
    "UnknownLicense",
    "Verdict",
    "all_licenses",
    "allowance",
    "allowed_licenses",
    "check_derivative",
    "default_license",
    "effective_terms",
    "evaluate_production",
    "families",
    "get",
    "known_license_refs",
    "normalise_expression",
    "options",
    "parse",
    "require_derivative",
]
