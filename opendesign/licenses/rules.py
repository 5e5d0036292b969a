"""The rule on one lineage edge: what a parent license asks of a derivative's license.

Rules, per parent license (each cited in :mod:`opendesign.licenses.data`):

* **no-derivatives**: no derivative may be shared, whatever its license.
* **share-alike** (and **copyfair**): the derivative keeps the parent's license
  or one the parent lists as compatible; anything joined to it with AND may
  only add permissive terms (credit), because share-alike licenses forbid
  extra restrictions (e.g. CC BY-SA 4.0 §3(b)(3), CERN-OHL-S-2.0 §3.3(d)).
* **non-commercial**: the derivative's terms must stay at least as restrictive
  about commerce (CC BY-NC 4.0 §3(a)(4)); PPL's worker-owned carve-out is not.
* **permissive**: anything goes.
* a license the registry does not describe cannot be checked, so it blocks.

Expressions: a parent ``A OR B`` is satisfied if either option is (the deriver
picks); every license of an AND option must be satisfied.  A child ``A OR B``
must satisfy the parent under each option, since its own reusers will pick.
:mod:`~opendesign.licenses.compatibility` applies this to all parents at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from . import registry
from .expressions import Option, combine, option_label, options
from .model import ALLOWED, License, commercial_rank

__all__ = ["Constraint", "accepted_by", "describe_parent", "refusal", "satisfies"]


@dataclass(frozen=True)
class Constraint:
    """What a parent license asks of derivatives, in plain words.

    :param kind: ``permissive``, ``no-derivatives``, ``share-alike``, ``copyfair``,
        ``non-commercial`` or ``unknown-license``.
    """

    kind: str
    rule: str
    clause: str


def satisfies(child_options: list[Option], parent_expression: str) -> bool:
    """Whether a child with *child_options* is allowed by one parent expression."""
    return any(
        all(_license_refusal(child_options, key) is None for key in parent_option)
        for parent_option in options(parent_expression)
    )


@lru_cache(maxsize=1024)
def accepted_by(parent_expression: str) -> tuple[str, ...]:
    """Registry licenses a derivative of a parent under *parent_expression* may use."""
    return tuple(key for key in registry.ids() if satisfies([frozenset({key})], parent_expression))


@lru_cache(maxsize=1024)
def describe_parent(parent_expression: str) -> Constraint:
    """What *parent_expression* asks of derivatives, in plain words."""
    per_option = []
    for option in options(parent_expression):
        found = [_constraint(key) for key in sorted(option)]
        binding = [c for c in found if c.kind != "permissive"]
        if not binding:
            return _constraint(sorted(option)[0])
        per_option.append(
            Constraint(
                kind=binding[0].kind,
                rule=" and ".join(c.rule for c in binding),
                clause="; ".join(c.clause for c in binding if c.clause),
            )
        )
    if len(per_option) == 1:
        return per_option[0]
    return Constraint(
        kind=per_option[0].kind,
        rule="each option binds derivatives: " + "; or ".join(c.rule for c in per_option),
        clause="; ".join(c.clause for c in per_option if c.clause),
    )


def _constraint(key: str) -> Constraint:
    lic = registry.find(key)
    if lic is None:
        return Constraint(
            "unknown-license",
            f"the license registry has no rules for {key}, so derivatives of it cannot be checked",
            "",
        )
    if not lic.derivatives_allowed:
        return Constraint("no-derivatives", f"{lic.id} forbids sharing derivatives at all", lic.clause("derivatives"))
    if lic.family == "copyfair":
        return Constraint(
            "copyfair",
            f"derivatives must keep {lic.id}, with commercial use only by worker-owned businesses",
            _cite(lic, "share_alike", "commercial_use"),
        )
    if lic.share_alike and lic.commercial_use != ALLOWED:
        return Constraint(
            "non-commercial",
            f"derivatives must stay non-commercial and keep {lic.id}",
            _cite(lic, "share_alike", "commercial_use"),
        )
    if lic.share_alike:
        rule = f"derivatives must keep {lic.id}"
        if lic.compatible:
            rule += f" or a license it lists as compatible ({', '.join(lic.compatible)})"
        return Constraint("share-alike", rule, _cite(lic, "share_alike", "compatible"))
    if lic.commercial_use != ALLOWED:
        return Constraint(
            "non-commercial",
            f"derivatives must stay non-commercial ({lic.id} allows no commercial use)",
            _cite(lic, "commercial_use", "derivatives"),
        )
    return Constraint("permissive", f"{lic.id} lets derivatives use any license", lic.clause("derivatives"))


def _license_refusal(child_options: list[Option], parent_key: str) -> str | None:
    """``None`` if every child option meets the one parent license, else why not."""
    lic = registry.find(parent_key)
    if lic is None:
        return f"{parent_key} is not in the license registry"
    if not lic.derivatives_allowed:
        return "derivatives are not allowed"
    for option in child_options:
        reason = _option_refusal(option, lic)
        if reason:
            return reason
    return None


def _option_refusal(option: Option, parent: License) -> str | None:
    label = option_label(option)
    if parent.share_alike:
        accepted = (parent.id, *parent.compatible)
        if not option & set(accepted):
            return f"{label} is none of these" if parent.compatible else f"{label} is a different license"
        extra = sorted(k for k in option - set(accepted) if not _only_credit(k))
        if extra:
            return f"{', '.join(extra)} would add terms that {parent.id} does not allow"
    if parent.commercial_use != ALLOWED:
        child_rule = combine(sorted(option)).commercial_use
        if commercial_rank(child_rule) < commercial_rank(parent.commercial_use):
            return f"{label} allows commercial use that {parent.id} forbids"
    return None


def _only_credit(key: str) -> bool:
    lic = registry.find(key)
    return lic is not None and lic.is_permissive


def refusal(child_options: list[Option], parent_expression: str) -> str:
    """Why a child with *child_options* fails *parent_expression*, beyond the rule itself.

    ``""`` when the rule says it all (no derivatives, unknown license) or the
    child does not fail.
    """
    # Report the first parent option's reason: for OR parents every option
    # failed, and the first is the one the author listed first.
    for key in sorted(options(parent_expression)[0]):
        lic = registry.find(key)
        if lic is None or not lic.derivatives_allowed:
            return ""
        reason = _license_refusal(child_options, key)
        if reason:
            return reason
    return ""


def _cite(lic: License, *rules: str) -> str:
    # Rules often share clauses ("§3(b)(1)" backs both share-alike and the
    # compatible list); cite each clause once.
    cited = [part.strip() for r in rules for part in lic.clauses.get(r, "").split(",") if part.strip()]
    return f"{lic.id} {', '.join(dict.fromkeys(cited))}" if cited else lic.id
