"""License compatibility of a derivative with every one of its parents.

The rule on a single edge lives in :mod:`~opendesign.licenses.rules`; this module
checks a derivative against all its parents together, says which licenses a new
derivative may use, and picks a fork's default license.  Nothing here knows
about the catalogue: callers pass :class:`ParentRef` values.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import LicenseConflict
from . import registry, spdx
from .expressions import options
from .rules import accepted_by, describe_parent, refusal, satisfies

__all__ = [
    "Allowance",
    "ParentAllowance",
    "ParentRef",
    "Problem",
    "allowance",
    "allowed_licenses",
    "check_derivative",
    "default_license",
    "require_derivative",
]


@dataclass(frozen=True)
class ParentRef:
    """A parent version and its license expression."""

    slug: str
    version: str
    license: str

    @property
    def label(self) -> str:
        """``slug@version``, the way users name a parent."""
        return f"{self.slug}@{self.version}" if self.version else self.slug


@dataclass(frozen=True)
class Problem:
    """One reason a derivative's license is refused.

    :param parent: ``slug@version`` of the parent; for kind ``incompatible-parents``,
        every parent joined with ``" + "``.
    :param parent_license: the parent's license expression, normalised.
    :param child_license: the refused expression, normalised.
    :param kind: ``no-derivatives``, ``share-alike``, ``copyfair``, ``non-commercial``,
        ``unknown-license``, or ``incompatible-parents`` when no license satisfies
        all parents together.
    :param rule: the rule in plain words.
    :param clause: where the rule comes from, e.g. ``"CC-BY-SA-4.0 §3(b)(1)"``.
    :param detail: why this particular child license breaks the rule.
    :param allowed: registry licenses that would satisfy *every* parent.
    :param allowed_by_parent: registry licenses this parent alone would accept.
    """

    parent: str
    parent_license: str
    child_license: str
    kind: str
    rule: str
    clause: str
    detail: str = ""
    allowed: tuple[str, ...] = ()
    allowed_by_parent: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        """The whole explanation as one paragraph a user can act on."""
        if self.kind == "incompatible-parents":
            return f"{self.rule} ({self.clause}); a derivative of {self.parent} cannot be licensed."
        text = f"{self.parent} is licensed {self.parent_license}: {self.rule}"
        text += f" ({self.clause})" if self.clause else ""
        text += f"; {self.detail}." if self.detail else "."
        if self.allowed:
            text += f" Allowed for this derivative: {', '.join(self.allowed)}."
        elif self.allowed_by_parent:
            text += (
                f" This parent alone would accept {', '.join(self.allowed_by_parent)}, "
                "but no license satisfies every parent."
            )
        else:
            text += " No license is allowed for this derivative."
        return text

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ParentAllowance:
    """What one parent accepts: its rule and the registry licenses that meet it."""

    parent: str
    license: str
    allowed: tuple[str, ...]
    kind: str
    rule: str
    clause: str


@dataclass(frozen=True)
class Allowance:
    """The licenses a new derivative of some parents may use, and why.

    :param licenses: registry licenses every parent accepts, in registry order.
    :param parents: each parent's own allowance.
    :param reason: why :attr:`licenses` is empty (``""`` when it is not).
    """

    licenses: tuple[str, ...]
    parents: tuple[ParentAllowance, ...]
    reason: str = ""

    @property
    def possible(self) -> bool:
        return bool(self.licenses)


def check_derivative(child_expression: str, parents) -> list[Problem]:
    """Every reason *child_expression* may not license a derivative of *parents*.

    An empty list means the license is allowed.  When the parents cannot be
    satisfied together, the first problem has kind ``incompatible-parents``
    and is followed by one problem per parent the child fails.

    :param parents: :class:`ParentRef` values.
    :raises ~opendesign.licenses.spdx.LicenseExpressionError: if an expression does not parse.
    """
    parents = list(parents)
    child_options = options(child_expression)
    failing = [p for p in parents if not satisfies(child_options, p.license)]
    if not failing:
        return []
    child_label = spdx.normalise_expression(child_expression)
    together = allowance(parents)
    problems = []
    # Only a headline when each parent allows *something*: if one allows
    # nothing (no-derivatives), its own problem already says all there is.
    if not together.possible and len(parents) > 1 and all(pa.allowed for pa in together.parents):
        problems.append(
            Problem(
                parent=" + ".join(p.label for p in parents),
                parent_license=" + ".join(pa.license for pa in together.parents),
                child_license=child_label,
                kind="incompatible-parents",
                rule=together.reason,
                clause="; ".join(dict.fromkeys(pa.clause for pa in together.parents if pa.clause)),
            )
        )
    for parent in failing:
        constraint = describe_parent(parent.license)
        problems.append(
            Problem(
                parent=parent.label,
                parent_license=spdx.normalise_expression(parent.license),
                child_license=child_label,
                kind=constraint.kind,
                rule=constraint.rule,
                clause=constraint.clause,
                detail=refusal(child_options, parent.license),
                allowed=together.licenses,
                allowed_by_parent=accepted_by(parent.license),
            )
        )
    return problems


def allowance(parents) -> Allowance:
    """Which registry licenses a new derivative of *parents* may use, with reasons.

    With no parents every registry license is allowed.
    """
    per_parent = []
    for parent in parents:
        constraint = describe_parent(parent.license)
        per_parent.append(
            ParentAllowance(
                parent=parent.label,
                license=spdx.normalise_expression(parent.license),
                allowed=accepted_by(parent.license),
                kind=constraint.kind,
                rule=constraint.rule,
                clause=constraint.clause,
            )
        )
    licenses = tuple(key for key in registry.ids() if all(key in pa.allowed for pa in per_parent))
    return Allowance(licenses, tuple(per_parent), "" if licenses else _why_none(per_parent))


def allowed_licenses(parents) -> list[str]:
    """Registry licenses a new derivative of *parents* may use; empty if none.

    :func:`allowance` gives the reason when the list is empty.
    """
    return list(allowance(parents).licenses)


def default_license(parents) -> str:
    """The license a fork of *parents* gets unless the user picks one.

    The first parent's own expression when every parent allows it (so a fork
    keeps its parent's license), else the next parent's, else the first
    allowed registry license.

    :raises LicenseConflict: when no license is allowed (e.g. a no-derivatives parent).
    """
    parents = list(parents)
    if not parents:
        raise ValueError("a fork needs at least one parent")
    for parent in parents:
        if not check_derivative(parent.license, parents):
            return spdx.normalise_expression(parent.license)
    allowed = allowance(parents)
    if not allowed.possible:
        raise LicenseConflict(allowed.reason)
    return allowed.licenses[0]


def require_derivative(child_expression: str, parents) -> None:
    """Raise unless *child_expression* may license a derivative of *parents*.

    :raises LicenseConflict: whose message explains every problem, one per
        line; the :class:`Problem` values are on its ``problems`` attribute.
    """
    problems = check_derivative(child_expression, parents)
    if problems:
        error = LicenseConflict(
            f"license {spdx.normalise_expression(child_expression)} is not allowed:\n"
            + "\n".join(f"- {p.message}" for p in problems)
        )
        error.problems = tuple(problems)
        raise error


def _why_none(per_parent: list[ParentAllowance]) -> str:
    for pa in per_parent:
        if not pa.allowed:
            return f"{pa.parent} is licensed {pa.license}: {pa.rule} ({pa.clause})"
    return "no license satisfies every parent together: " + "; ".join(
        f"{pa.parent} ({pa.license}) accepts only {', '.join(pa.allowed)}" for pa in per_parent
    )
