"""Compliance verdicts: does a maker's production honour its design's license?

A verdict is one of (least to most severe):

* ``compliant``: nothing in the license stands against the production.  Duties
  that hold for *every* product (e.g. CERN-OHL-S-2.0 §4: give recipients the
  source location) are listed in :attr:`Verdict.obligations`, not as actions,
  because the catalogue cannot see them being met and they are not a defect.
* ``needs-action``: a definite, fixable gap, with the exact obligation
  ("publish the modified source under CERN-OHL-S-2.0", "credit the authors").
* ``needs-review``: the answer turns on facts the catalogue cannot know (is a
  non-profit's sale commercial? is this individual a worker-owned business?).
  It ranks above ``needs-action`` because the production might be a violation.
* ``violation``: the license forbids the production outright.

For ``A OR B`` the maker may rely on whichever option treats them best; for
``A AND B`` every license's findings apply.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import registry, spdx
from .expressions import Option, option_label, options
from .model import NON_COMMERCIAL, WORKER_OWNED_ONLY, License

__all__ = ["LEGAL_FORMS", "OWNERSHIP_STATUSES", "STATUSES", "Verdict", "WorkerOwnership", "evaluate_production"]

#: Legal forms a maker may declare.
LEGAL_FORMS: tuple[str, ...] = ("for-profit", "worker-cooperative", "social-enterprise", "non-profit", "individual")

COMPLIANT = "compliant"
NEEDS_ACTION = "needs-action"
NEEDS_REVIEW = "needs-review"
VIOLATION = "violation"
#: Verdict statuses, least to most severe.
STATUSES: tuple[str, ...] = (COMPLIANT, NEEDS_ACTION, NEEDS_REVIEW, VIOLATION)

_FORM_WORDS = {
    "for-profit": "a for-profit company",
    "worker-cooperative": "a worker cooperative",
    "social-enterprise": "a social enterprise",
    "non-profit": "a non-profit",
    "individual": "an individual",
}

_STOP_SELLING = "stop producing this design for sale, or get a separate license from the authors"

#: What the catalogue can know about a maker's worker-ownership attestation.
ATTESTED, NO_ATTESTATION, EXPIRED, NOT_YET_VALID, CHALLENGED, REJECTED = (
    "valid", "none", "expired", "not-yet-valid", "challenged", "rejected")
OWNERSHIP_STATUSES = (ATTESTED, NO_ATTESTATION, EXPIRED, NOT_YET_VALID, CHALLENGED, REJECTED)


@dataclass(frozen=True)
class WorkerOwnership:
    """A maker's worker-ownership attestation as the rules see it.

    :param status: one of :data:`OWNERSHIP_STATUSES`.
    :param detail: plain words for the reason: the registry id and validity, or the challenge.
    """

    status: str
    detail: str = ""


@dataclass(frozen=True)
class Verdict:
    """The outcome of evaluating one production.

    :param status: one of :data:`STATUSES`.
    :param reason: why, in plain words.
    :param clause: the clause(s) the reason rests on, with license ids.
    :param actions: what the maker must do, most urgent first (empty when compliant).
    :param obligations: duties that come with every product under the license,
        each prefixed with its license id; informational.
    :param design: the design reference the caller passed.
    :param license: the design's license expression, normalised.
    :param option: for OR expressions, the option the verdict relies on.
    """

    status: str
    reason: str
    clause: str
    actions: tuple[str, ...] = ()
    obligations: tuple[str, ...] = ()
    design: str = ""
    license: str = ""
    option: str = ""


@dataclass(frozen=True)
class _Facts:
    form: str
    modified: bool
    modified_source: str
    attribution: bool
    #: None: not known to the caller (the rules then judge by the legal form alone).
    ownership: WorkerOwnership | None = None
    #: None: not checked; "": none recorded.
    source_location: str | None = None
    notice: bool | None = None


@dataclass(frozen=True)
class _Finding:
    status: str
    reason: str
    clause: str
    action: str = ""


def evaluate_production(
    license_expression: str,
    maker_legal_form: str,
    modified: bool,
    modified_source: str,
    attribution: bool,
    design_ref: str = "",
    *,
    worker_ownership: WorkerOwnership | None = None,
    source_location: str | None = None,
    notice: bool | None = None,
) -> Verdict:
    """Judge a production of a design under *license_expression*.

    :param maker_legal_form: one of :data:`LEGAL_FORMS`.
    :param modified: the maker produces a modified design.
    :param modified_source: where the modified source is published (URL or
        ``slug@version``); empty if unpublished.  Its license is not checked
        here: for a catalogue derivative, check that edge with
        :func:`~opendesign.licenses.compatibility.check_derivative`.
    :param attribution: the maker credits the design and its authors.
    :param design_ref: echoed in the verdict, e.g. ``"solar-dryer@1.0.0"``.
    :param worker_ownership: the maker's attestation, for licenses that let only
        worker-owned businesses sell (the Peer Production License); without it
        the legal form alone decides, as a self-declaration.
    :param source_location: where recipients find the product's complete
        source; ``""`` when none is recorded (a gap under licenses that ask for
        it, CERN-OHL-S/W §4), ``None`` when not checked.
    :param notice: the product carries the design's notice; ``False`` is a gap
        under those licenses, ``None`` is not recorded.
    :raises ValueError: for an unknown legal form or an unparsable expression.
    """
    if maker_legal_form not in LEGAL_FORMS:
        raise ValueError(f"unknown legal form {maker_legal_form!r}; expected one of {', '.join(LEGAL_FORMS)}")
    facts = _Facts(maker_legal_form, bool(modified), (modified_source or "").strip(), bool(attribution),
                   worker_ownership, None if source_location is None else source_location.strip(), notice)
    expression = spdx.normalise_expression(license_expression)
    alternatives = options(expression)
    verdicts = [_evaluate_option(option, facts) for option in alternatives]
    # The most favourable option counts: least severe, then fewest actions.
    best = min(range(len(verdicts)), key=lambda i: (STATUSES.index(verdicts[i].status), len(verdicts[i].actions), i))
    verdict = verdicts[best]
    label = option_label(alternatives[best])
    reason = verdict.reason
    if len(alternatives) > 1:
        reason = f"relying on the {label} option of {expression}: {reason}"
    return Verdict(
        status=verdict.status,
        reason=reason,
        clause=verdict.clause,
        actions=verdict.actions,
        obligations=verdict.obligations,
        design=str(design_ref),
        license=expression,
        option=label if len(alternatives) > 1 else "",
    )


def _evaluate_option(option: Option, facts: _Facts) -> Verdict:
    keys = sorted(option)
    findings: list[_Finding] = []
    for key in keys:
        lic = registry.find(key)
        if lic is None:
            findings.append(
                _Finding(
                    NEEDS_REVIEW,
                    f"the license registry has no rules for {key}, so this production cannot be judged automatically",
                    key,
                    f"review the production against {key} by hand",
                )
            )
        else:
            findings.extend(_findings(lic, facts))
    known = [lic for lic in map(registry.find, keys) if lic is not None]
    obligations = tuple(f"{lic.id}: {text}" for lic in known for text in lic.product_obligations)
    status = max((f.status for f in findings), key=STATUSES.index, default=COMPLIANT)
    top = [f for f in findings if f.status == status]
    if top:
        reason = "; ".join(dict.fromkeys(f.reason for f in top))
        clause = "; ".join(dict.fromkeys(f.clause for f in top))
    else:
        reason = f"nothing in {option_label(option)} stands against this production"
        if obligations:
            reason += "; the license's product obligations apply"
        clause = "; ".join(lic.clause("products" if lic.product_obligations else "commercial_use") for lic in known)
    # Most urgent first; sorted() is stable, so equal findings keep license order.
    ordered = sorted(findings, key=lambda f: -STATUSES.index(f.status))
    actions = tuple(dict.fromkeys(f.action for f in ordered if f.action))
    return Verdict(status, reason, clause, actions, obligations)


def _findings(lic: License, facts: _Facts) -> list[_Finding]:
    found = []
    if facts.modified and not lic.derivatives_allowed:
        found.append(
            _Finding(
                VIOLATION,
                f"{lic.id} forbids sharing modified versions, and this production is of a modified design",
                lic.clause("derivatives"),
                "produce the design unmodified, or get the authors' permission for the modification",
            )
        )
    found.extend(_commercial_findings(lic, facts.form, facts.ownership))
    found.extend(_product_source_findings(lic, facts))
    if facts.modified and lic.share_alike and not facts.modified_source:
        found.append(
            _Finding(
                NEEDS_ACTION,
                f"{lic.id} requires a modified design to be shared under the same license, "
                "and no modified source is recorded for this production",
                lic.clause("source" if "source" in lic.clauses else "share_alike"),
                f"publish the modified source under {lic.id}",
            )
        )
    if lic.attribution_required and not facts.attribution:
        found.append(
            _Finding(
                NEEDS_ACTION,
                f"{lic.id} requires crediting the authors, and this maker does not",
                lic.clause("attribution"),
                "credit the authors",
            )
        )
    return found


def _product_source_findings(lic: License, facts: _Facts) -> list[_Finding]:
    """CERN-OHL-S/-W §4: every product comes with its source location, and carries the notice."""
    found = []
    if "source_location" in lic.clauses and facts.source_location == "":
        found.append(_Finding(
            NEEDS_ACTION,
            f"{lic.id} requires every product to come with the location of its complete source, and no source "
            "location is recorded for this production",
            lic.clause("source_location"),
            "record the source location (a URL, or the catalogue design) and give it with every product",
        ))
    if "notice" in lic.clauses and facts.notice is False:
        found.append(_Finding(
            NEEDS_ACTION,
            f"{lic.id} requires the notices (credits, license, source location) to stay with the product, and "
            "this product does not carry them",
            lic.clause("notice"),
            "put the design's notice, with the source location, on the product, its packaging or its documentation",
        ))
    return found


def _ownership_finding(lic: License, who: str, ownership: WorkerOwnership) -> _Finding:
    clause = lic.clause("commercial_use")
    rule = f"{lic.id} allows commercial use only by worker-owned businesses or collectives"
    detail = f" ({ownership.detail})" if ownership.detail else ""
    if ownership.status == ATTESTED:
        return _Finding(COMPLIANT, f"{lic.id} allows commercial use by worker-owned businesses, and {who} is "
                                   f"attested worker-owned{detail}", clause)
    if ownership.status == EXPIRED:
        return _Finding(NEEDS_ACTION, f"{rule}, and the maker's worker-ownership attestation has expired{detail}",
                        clause, "renew the worker-ownership attestation (new evidence and valid_until)")
    if ownership.status == CHALLENGED:
        return _Finding(NEEDS_REVIEW, f"{rule}; the maker's worker-ownership attestation is challenged{detail}, "
                                      "and stays in question until a steward of an affected design resolves it",
                        clause, "answer the challenge; a steward of the design resolves it")
    if ownership.status == REJECTED:
        return _Finding(NEEDS_REVIEW, f"{rule}; a steward upheld a challenge to the maker's worker-ownership "
                                      f"attestation{detail}", clause,
                        "record a new worker-ownership attestation whose evidence answers the challenge")
    not_yet = " (its attestation is not valid yet)" if ownership.status == NOT_YET_VALID else ""
    return _Finding(NEEDS_REVIEW, f"{rule}, and no worker-ownership attestation of {who} is on record{not_yet}",
                    clause, "record a worker-ownership attestation: evidence (bylaws or a registry entry), "
                            "registry id and valid_until")


def _commercial_findings(lic: License, form: str, ownership: WorkerOwnership | None = None) -> list[_Finding]:
    who = _FORM_WORDS[form]
    clause = lic.clause("commercial_use")
    if lic.commercial_use == NON_COMMERCIAL:
        if form == "for-profit":
            reason = f"{lic.id} allows only non-commercial use, and {who} produces for sale"
            return [_Finding(VIOLATION, reason, clause, _STOP_SELLING)]
        if form == "worker-cooperative":
            # Unlike the PPL, CC NonCommercial makes no exception for worker ownership.
            return [
                _Finding(
                    VIOLATION,
                    f"{lic.id} allows only non-commercial use, and {who} producing for sale is a business "
                    "(the license has no exception for worker ownership)",
                    clause,
                    _STOP_SELLING,
                )
            ]
        return [
            _Finding(
                NEEDS_REVIEW,
                f"{lic.id} allows only non-commercial use; whether production by {who} is primarily commercial "
                "depends on facts the catalogue cannot know (prices, purpose, who gains)",
                clause,
                "confirm the production is not primarily for commercial advantage or monetary compensation, "
                "or get a separate license from the authors",
            )
        ]
    if lic.commercial_use == WORKER_OWNED_ONLY:
        if form != "for-profit" and ownership is not None:
            return [_ownership_finding(lic, who, ownership)]
        if form == "for-profit":
            return [
                _Finding(
                    VIOLATION,
                    f"{lic.id} allows commercial use only by worker-owned businesses or collectives that share all "
                    f"gain among their worker-owners, and {who} is excluded",
                    clause,
                    _STOP_SELLING,
                )
            ]
        if form == "worker-cooperative":
            return [
                _Finding(
                    COMPLIANT,
                    f"{lic.id} allows commercial use by {who}, provided it shares all gain among its worker-owners",
                    clause,
                )
            ]
        return [
            _Finding(
                NEEDS_REVIEW,
                f"{lic.id} allows commercial use only by worker-owned businesses or collectives; whether {who} "
                "sells as one, or non-commercially, depends on facts the catalogue cannot know",
                clause,
                "confirm the maker is worker-owned and shares all gain among its worker-owners, "
                "or that the production is non-commercial",
            )
        ]
    return []
