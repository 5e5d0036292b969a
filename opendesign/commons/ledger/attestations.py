"""Worker-ownership attestations, their challenges and resolutions.

The Peer Production License lets only worker-owned businesses sell, so a
maker's legal form is not enough: an attestation carries evidence (bylaws, a
registry entry), a registry id and a period of validity. The maker's *current*
attestation is the latest recorded one that has begun; what it means for a
verdict (:class:`~opendesign.licenses.compliance.WorkerOwnership`):

* none on record (or none begun yet) -> the verdict needs review;
* expired -> needs action (renew it);
* an open challenge by any signed-in account -> needs review, until a steward
  of an affected design (one the maker produces under such a license) resolves
  it: ``dismissed`` (the attestation stands) or ``upheld`` (it no longer
  counts; the maker records a new one).

Attestations, challenges and resolutions are append-only, like the ledger.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from ...accounts import PermissionDenied, audit, check_scope
from ...errors import FieldError, ManifestError
from ...licenses import registry, spdx
from ...licenses.compliance import (ATTESTED, CHALLENGED, EXPIRED, NO_ATTESTATION, NOT_YET_VALID, REJECTED,
                                    WorkerOwnership)
from ...licenses.model import WORKER_OWNED_ONLY
from ...models import (ApiToken, Attestation, AttestationChallenge, ChallengeResolution, Design, Maker, User)
from ..makers.schema import AttestationSpec
from .entries import LedgerConflict
from .review import MAX_REASON, operator_name
from .stewards import is_steward

OUTCOMES = ("upheld", "dismissed")


def file_attestation_keys(maker_slug: str, specs: list[AttestationSpec]) -> list[str]:
    seen: dict[str, int] = {}
    keys = []
    for spec in specs:
        canonical = json.dumps(spec.model_dump(mode="json"), sort_keys=True)
        keys.append(hashlib.sha256(json.dumps(["attestation", maker_slug, canonical, seen.get(canonical, 0)])
                                   .encode()).hexdigest()[:16])
        seen[canonical] = seen.get(canonical, 0) + 1
    return keys


def build_attestation(maker: Maker, spec: AttestationSpec, *, key: str, origin: str, recorded_by: str,
                      position: int) -> Attestation:
    return Attestation(key=key, maker=maker, kind=spec.kind, evidence=spec.evidence, registry_id=spec.registry_id,
                       valid_from=spec.valid_from, valid_until=spec.valid_until, origin=origin,
                       recorded_by=recorded_by[:300], position=position)


def sync_file_attestations(session: Session, maker: Maker, specs: list[AttestationSpec],
                           display: str) -> list[Attestation]:
    """Record a maker file's attestations the catalogue does not hold; refuse removing recorded ones."""
    keys = file_attestation_keys(maker.slug, specs)
    missing = [a for a in maker.attestations if a.origin == "file" and a.key not in set(keys)]
    if missing:
        raise ManifestError([FieldError(display, "attestations", (
            f"attestation {a.key} ({a.registry_id}, {a.valid_from} to {a.valid_until}) was recorded from this file "
            "and is no longer in it; attestations stay on record (with their challenges): put it back, and add "
            "a newer attestation to replace it")) for a in missing])
    known = {a.key for a in maker.attestations}
    position = max((a.position for a in maker.attestations), default=-1) + 1
    added = []
    for spec, key in zip(specs, keys, strict=True):
        if key in known:
            continue
        attestation = build_attestation(maker, spec, key=key, origin="file", recorded_by=display, position=position)
        session.add(attestation)
        added.append(attestation)
        position += 1
    return added


def current(maker: Maker, today: date) -> Attestation | None:
    """The latest recorded attestation that has begun by *today*."""
    begun = [a for a in maker.attestations if a.valid_from <= today]
    return max(begun, key=lambda a: (a.position, a.id or 0)) if begun else None


def challenge_state(challenge: AttestationChallenge) -> str:
    return challenge.resolution.outcome if challenge.resolution is not None else "open"


def worker_ownership(maker: Maker, today: date) -> WorkerOwnership:
    """What the compliance rules should know about *maker*'s worker ownership on *today*."""
    attestation = current(maker, today)
    if attestation is None:
        if maker.attestations:
            first = min(a.valid_from for a in maker.attestations)
            return WorkerOwnership(NOT_YET_VALID, f"the earliest attestation begins on {first}")
        return WorkerOwnership(NO_ATTESTATION)
    described = f"registry id {attestation.registry_id}, valid until {attestation.valid_until}"
    upheld = [c for c in attestation.challenges if challenge_state(c) == "upheld"]
    if upheld:
        return WorkerOwnership(REJECTED, f"{described}; challenge {upheld[-1].id}: {upheld[-1].resolution.reason}")
    open_ = [c for c in attestation.challenges if challenge_state(c) == "open"]
    if open_:
        c = open_[0]
        return WorkerOwnership(CHALLENGED, f"challenge {c.id} by {c.actor} on {c.at:%Y-%m-%d}: {c.reason}")
    if attestation.valid_until < today:
        return WorkerOwnership(EXPIRED, f"{described.replace('valid until', 'expired on')}")
    return WorkerOwnership(ATTESTED, described)


def holds_until(maker: Maker, today: date) -> str | None:
    """The last day a verdict judged on *today* holds without anything recorded: an attestation ends or begins."""
    dates = [a.valid_until for a in maker.attestations if a.valid_until >= today]
    dates += [a.valid_from - timedelta(days=1) for a in maker.attestations if a.valid_from > today]
    return min(dates).isoformat() if dates else None


def affected_designs(maker: Maker) -> list[Design]:
    """Designs *maker* produces under a license that lets only worker-owned businesses sell."""
    found: dict[int, Design] = {}
    for production in maker.productions:
        version = production.design_version
        keys = spdx.license_keys(version.license)
        if any((lic := registry.find(k)) is not None and lic.commercial_use == WORKER_OWNED_ONLY for k in keys):
            found[version.design.id] = version.design
    return sorted(found.values(), key=lambda d: d.slug)


def _reason(text: str) -> str:
    reason = (text or "").strip()
    if not reason:
        raise ManifestError([FieldError("", "reason", "required: say what the attestation does not show")])
    if len(reason) > MAX_REASON:
        raise ManifestError([FieldError("", "reason", f"at most {MAX_REASON} characters (got {len(reason)})")])
    return reason


def get_attestation(maker: Maker, key: str) -> Attestation:
    from ...errors import NotFound

    for attestation in maker.attestations:
        if attestation.key == key.strip().lower():
            return attestation
    raise NotFound(f"maker {maker.slug!r} has no attestation {key!r}")


def get_challenge(maker: Maker, challenge_id: int) -> AttestationChallenge:
    from ...errors import NotFound

    for attestation in maker.attestations:
        for challenge in attestation.challenges:
            if challenge.id == challenge_id:
                return challenge
    raise NotFound(f"maker {maker.slug!r} has no attestation challenge {challenge_id}")


def challenge(session: Session, attestation: Attestation, reason: str, *, user: User | None,
              token: ApiToken | None = None, via: str = "web", operator: bool = False,
              remote_addr: str | None = None, source_key: str | None = None) -> AttestationChallenge:
    """Challenge *attestation*: any signed-in account may (through the API, with a ``challenge:`` token).

    :raises PermissionDenied: nobody signed in, or the token lacks the scope.
    :raises ManifestError: no reason.
    """
    maker = attestation.maker
    if not operator:
        check_scope(token, "challenge", maker.slug)
        if user is None:
            raise PermissionDenied("sign in to challenge an attestation")
    reason = _reason(reason)
    actor = operator_name() if operator and user is None else user.username
    found = AttestationChallenge(attestation=attestation, reason=reason, user_id=user.id if user else None,
                                 actor=actor[:100], via=via, source_key=source_key)
    session.add(found)
    audit.record(session, "attestation.challenge", audit.OK, target=f"{maker.slug}: {attestation.key}", user=user,
                 token=token, remote_addr=remote_addr, detail={"attestation": attestation.key, "reason": reason,
                                                               "via": via, "actor": actor})
    session.flush()
    return found


def resolve(session: Session, found: AttestationChallenge, outcome: str, reason: str, *, user: User | None,
            token: ApiToken | None = None, via: str = "web", operator: bool = False,
            remote_addr: str | None = None, source_key: str | None = None) -> ChallengeResolution:
    """Resolve a challenge: a steward of an affected design (with a ``steward:<slug>`` token) or the operator.

    :raises PermissionDenied: not a steward of any design the attestation affects.
    :raises LedgerConflict: the challenge is resolved already.
    :raises ManifestError: an unknown outcome, or no reason.
    """
    maker = found.attestation.maker
    design = None
    if not operator:
        affected = affected_designs(maker)
        mine = [d for d in affected if is_steward(session, user, d)]
        if token is not None:
            mine = [d for d in mine if f"steward:{d.slug}" in token.scopes or "steward:*" in token.scopes]
        if not mine:
            names = ", ".join(d.slug for d in affected) or "none: it produces no design whose license turns on it"
            raise PermissionDenied(f"only a steward of a design this attestation affects may resolve its challenges "
                                   f"(affected designs of {maker.slug}: {names})")
        if user is not None and maker.owner_id == user.id:
            raise PermissionDenied(f"you own maker {maker.slug!r}; a steward of another account must resolve "
                                   "challenges to its attestation")
        design = mine[0]
    if found.resolution is not None:
        r = found.resolution
        raise LedgerConflict(f"challenge {found.id} is already resolved ({r.outcome} by {r.actor} on {r.at:%Y-%m-%d})")
    if outcome not in OUTCOMES:
        raise ManifestError([FieldError("", "outcome", f"{outcome!r} is not allowed; expected 'upheld' (the "
                                                       "attestation no longer counts) or 'dismissed' (it stands)")])
    reason = _reason(reason)
    actor = operator_name() if operator and user is None else user.username
    resolution = ChallengeResolution(challenge=found, outcome=outcome, reason=reason, design=design,
                                     user_id=user.id if user else None, actor=actor[:100], via=via,
                                     source_key=source_key)
    session.add(resolution)
    audit.record(session, "attestation.resolve", audit.OK, target=f"{maker.slug}: challenge {found.id}", user=user,
                 token=token, remote_addr=remote_addr,
                 detail={"attestation": found.attestation.key, "challenge": found.id, "outcome": outcome,
                         "reason": reason, "design": design.slug if design else None, "via": via, "actor": actor})
    session.flush()
    return resolution


def attestation_view(attestation: Attestation, today: date) -> dict[str, Any]:
    return {
        "id": attestation.key, "kind": attestation.kind, "evidence": attestation.evidence,
        "registry_id": attestation.registry_id, "valid_from": attestation.valid_from.isoformat(),
        "valid_until": attestation.valid_until.isoformat(),
        "expired": attestation.valid_until < today, "begun": attestation.valid_from <= today,
        "recorded_by": attestation.recorded_by, "recorded_at": attestation.recorded_at.isoformat()
        if attestation.recorded_at else None,
        "challenges": [{"id": c.id, "by": c.actor, "at": c.at.isoformat(), "reason": c.reason,
                        "state": challenge_state(c),
                        "resolution": None if c.resolution is None else {
                            "outcome": c.resolution.outcome, "reason": c.resolution.reason, "by": c.resolution.actor,
                            "at": c.resolution.at.isoformat(),
                            "design": c.resolution.design.slug if c.resolution.design else None}}
                       for c in attestation.challenges],
    }


def ownership_view(maker: Maker, today: date) -> dict[str, Any]:
    """The maker's attestations, the current one, and what the rules make of it."""
    facts = worker_ownership(maker, today)
    now = current(maker, today)
    return {"status": facts.status, "detail": facts.detail, "current": now.key if now else None,
            "affected_designs": [d.slug for d in affected_designs(maker)],
            "attestations": [attestation_view(a, today) for a in maker.attestations]}


__all__ = ["OUTCOMES", "LedgerConflict", "affected_designs", "attestation_view", "build_attestation", "challenge",
           "current", "file_attestation_keys", "get_attestation", "get_challenge", "ownership_view", "resolve",
           "holds_until", "sync_file_attestations", "worker_ownership"]
