"""A catalogue operator's decisions kept in a file: ``designs/makers/_stewardship.toml``.

Designs imported from ``designs/`` have no owner, so nobody but the operator can
review what they receive. An operator who keeps the catalogue in a repository
can keep those decisions there too, reviewed like any change::

    [[reviews]]
    entry = "5f1c0b2a9d3e4f60"        # an entry id (`opendesign ledger export`)
    action = "confirm"                # confirm | dispute
    reason = "Matches the tooling fund's statement"   # required to dispute

    [[challenges]]
    maker = "some-coop"
    attestation = "0a1b2c3d4e5f6a7b"  # an attestation id (`opendesign makers show SLUG`)
    reason = "The registry lists the cooperative as dissolved"
    resolution = { outcome = "dismissed", reason = "Re-registered under a new number" }  # optional

``opendesign import`` applies the file after the makers, as the operator
(``via = file``). Each decision is applied once: its key (a digest of what it
says) is stored with the review, challenge or resolution it made, so reading
the file again changes nothing, and a decision whose entry a steward has since
put in the same state on the web is skipped, never re-applied.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...db import Database
from ...errors import FieldError, ManifestError, OpenDesignError
from ...manifests.loader import _field_path
from ...manifests.schema import NonEmpty, Slug
from ...models import AttestationChallenge, ChallengeResolution, LedgerReview
from .. import compliance
from ..makers.fields import EntryId
from . import attestations, entries, review

FILENAME = "_stewardship.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReviewDecision(_Strict):
    entry: EntryId
    action: Literal["confirm", "dispute"]
    reason: str = ""


class ResolutionDecision(_Strict):
    outcome: Literal["upheld", "dismissed"]
    reason: NonEmpty


class ChallengeDecision(_Strict):
    maker: Slug
    attestation: EntryId
    reason: NonEmpty
    resolution: ResolutionDecision | None = None


class DecisionsFile(_Strict):
    reviews: list[ReviewDecision] = []
    challenges: list[ChallengeDecision] = []


@dataclass
class DecisionsReport:
    path: str
    applied: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {"path": self.path, "applied": self.applied, "unchanged": self.unchanged, "errors": self.errors}


def _key(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode()).hexdigest()


def load(path: Path, display: str) -> DecisionsFile:
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ManifestError([FieldError(display, "", f"cannot be read as TOML: {exc}")]) from None
    try:
        return DecisionsFile.model_validate(raw)
    except ValidationError as exc:
        raise ManifestError([FieldError(display, _field_path(e["loc"]), e["msg"].removeprefix("Value error, "))
                             for e in exc.errors()]) from None


def _apply_review(session: Session, d: ReviewDecision, display: str, where: str) -> bool:
    key = _key("review", d.entry, d.action, d.reason)
    if session.scalar(select(LedgerReview.id).where(LedgerReview.source_key == key)) is not None:
        return False
    try:
        entry = entries.get_entry(session, d.entry)
    except OpenDesignError as exc:
        raise ManifestError([FieldError(display, f"{where}.entry", str(exc))]) from None
    target = entries.CONFIRMED if d.action == "confirm" else entries.DISPUTED
    if entries.review_state(entry) == target:
        return False  # a steward got there first; the file's decision is not applied twice
    act = review.confirm if d.action == "confirm" else review.dispute
    kwargs = {"note": d.reason} if d.action == "confirm" else {"reason": d.reason}
    try:
        act(session, entry, via="file", operator=True, source_key=key, **kwargs)
    except ManifestError as exc:
        raise ManifestError([FieldError(display, f"{where}.{e.field}", e.reason) for e in exc.errors]) from None
    except OpenDesignError as exc:
        raise ManifestError([FieldError(display, where, str(exc))]) from None
    return True


def _apply_challenge(session: Session, d: ChallengeDecision, display: str, where: str) -> bool:
    from ..reciprocity import get_maker

    key = _key("challenge", d.maker, d.attestation, d.reason)
    found = session.scalar(select(AttestationChallenge).where(AttestationChallenge.source_key == key))
    applied = 0
    try:
        maker = get_maker(session, d.maker)
        if found is None:
            found = attestations.challenge(session, attestations.get_attestation(maker, d.attestation), d.reason,
                                           user=None, via="file", operator=True, source_key=key)
            applied += 1
        if d.resolution is not None and found.resolution is None:
            rkey = _key("resolution", key, d.resolution.outcome, d.resolution.reason)
            if session.scalar(select(ChallengeResolution.id).where(ChallengeResolution.source_key == rkey)) is None:
                attestations.resolve(session, found, d.resolution.outcome, d.resolution.reason, user=None, via="file",
                                     operator=True, source_key=rkey)
                applied += 1
        if applied:
            compliance.refresh_maker(maker)
    except OpenDesignError as exc:
        raise ManifestError([FieldError(display, where, str(exc))]) from None
    return applied > 0


def apply_decisions(db: Database, path: Path) -> DecisionsReport:
    """Apply the decisions in *path*, all in one transaction (an error leaves the catalogue as it was)."""
    display = str(path)
    report = DecisionsReport(display)
    try:
        decisions = load(path, display)
        with db.session() as session:
            for i, d in enumerate(decisions.reviews):
                applied = _apply_review(session, d, display, f"reviews[{i}]")
                report.applied += applied
                report.unchanged += not applied
            for i, d in enumerate(decisions.challenges):
                applied = _apply_challenge(session, d, display, f"challenges[{i}]")
                report.applied += applied
                report.unchanged += not applied
    except ManifestError as exc:
        report.errors = [str(e) for e in exc.errors]
        report.applied = report.unchanged = 0
    return report


def decisions_files(makers_dirs: list[Path]) -> list[Path]:
    return [d / FILENAME for d in makers_dirs if (d / FILENAME).is_file()]
