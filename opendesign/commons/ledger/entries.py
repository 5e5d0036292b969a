"""Recording ledger entries (from maker files, the web and the API) and corrections.

The ledger is append-only: an entry is never edited or deleted; a correction is
a new entry that names the one it corrects (``corrects``), and the corrected
entry stops counting. Every entry starts ``claimed``; stewards move it to
``confirmed`` or ``disputed`` (:mod:`.review`).

Entries from a maker file get an id derived from what they say (and from the
maker's slug), so re-importing the file finds them again: nothing is
duplicated and no state confirmed on the web is reset. An entry recorded from a
file that is later missing from it is refused as an edit of the ledger.
Entries recorded on the web or through the API get a random id.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...catalogue.queries import get_version
from ...errors import FieldError, ManifestError, NotFound, OpenDesignError
from ...models import Contribution, Design, DesignVersion, Maker
from ..makers.schema import ContributionSpec, contribution_amount
from .money import format_amount, json_amount, scale_of, to_minor, unit_of

CLAIMED, CONFIRMED, DISPUTED, CORRECTED = "claimed", "confirmed", "disputed", "corrected"
#: An entry's states: the first three are set by reviews, ``corrected`` by a later entry.
STATES = (CLAIMED, CONFIRMED, DISPUTED, CORRECTED)
MIN_PREFIX = 6


class LedgerConflict(OpenDesignError):
    """An action the entry's current state does not allow (confirming twice, acting on a corrected entry)."""


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, separators=(",", ":"), default=str).encode("utf-8")).hexdigest()[:16]


def _canonical(spec: ContributionSpec) -> dict[str, Any]:
    """What a file entry says, independent of how it is written (``250`` and ``250.0`` are one amount)."""
    unit = unit_of(spec.kind, spec.currency)
    return {"design": spec.design, "kind": spec.kind, "amount": to_minor(contribution_amount(spec), unit),
            "unit": unit, "date": spec.date.isoformat(), "evidence": list(spec.evidence or ()), "note": spec.note,
            "corrects": spec.corrects or ""}


def file_entry_ids(maker_slug: str, specs: Iterable[ContributionSpec]) -> list[str]:
    """The ids of a maker file's entries: identical entries are told apart by their occurrence."""
    seen: Counter[str] = Counter()
    ids = []
    for spec in specs:
        canonical = json.dumps(_canonical(spec), sort_keys=True)
        ids.append(_digest("contribution", maker_slug, canonical, seen[canonical]))
        seen[canonical] += 1
    return ids


def random_id(session: Session, model, column) -> str:
    while True:
        candidate = secrets.token_hex(8)
        if session.scalar(select(func.count()).select_from(model).where(column == candidate)) == 0:
            return candidate


def entry_version(session: Session, spec: ContributionSpec, design: Design) -> DesignVersion | None:
    """The version whose lineage the entry flows up: the one it names, else the design's latest."""
    if "@" in spec.design:
        return get_version(session, spec.design)
    return design.latest_version


def _corrected(session: Session, maker: Maker, entry_id: str, display: str, field: str,
               pending: dict[str, Contribution]) -> Contribution:
    target = pending.get(entry_id) or session.scalar(select(Contribution).where(Contribution.entry_id == entry_id))
    if target is None or (target.maker_id != maker.id and target.maker is not maker):
        raise ManifestError([FieldError(display, field, f"{entry_id!r} is not an entry of maker {maker.slug!r}")])
    successor = target.corrected_by or next((c for c in pending.values() if c.corrects is target), None)
    if successor is not None:
        raise ManifestError([FieldError(display, field, f"entry {entry_id} is already corrected by "
                                                        f"{successor.entry_id}; correct that one instead")])
    return target


def build_entry(session: Session, maker: Maker, spec: ContributionSpec, design: Design, *, entry_id: str,
                origin: str, recorded_by: str, position: int, display: str = "", prefix: str = "",
                pending: dict[str, Contribution] | None = None) -> Contribution:
    """A new entry for *spec* (validated and resolved to *design*), not yet added to the session.

    :raises ManifestError: ``corrects`` names no entry of this maker, or one already corrected.
    """
    unit = unit_of(spec.kind, spec.currency)
    with session.no_autoflush:
        corrects = (_corrected(session, maker, spec.corrects, display, f"{prefix}corrects", pending or {})
                    if spec.corrects else None)
        return Contribution(entry_id=entry_id, maker=maker, design=design, version=entry_version(session, spec, design),
                            kind=spec.kind, amount_minor=to_minor(contribution_amount(spec), unit),
                            scale=scale_of(unit), currency=spec.currency, date=spec.date,
                            evidence=list(spec.evidence or ()), note=spec.note, corrects=corrects, origin=origin,
                            recorded_by=recorded_by[:300], position=position)


def _legacy_match(entry: Contribution, spec: ContributionSpec, design: Design) -> bool:
    """Does *spec* say what a pre-ledger entry said (which had no evidence)?"""
    unit = unit_of(spec.kind, spec.currency)
    return (entry.design_id == design.id and entry.kind == spec.kind and entry.currency == spec.currency
            and entry.amount_minor == to_minor(contribution_amount(spec), unit) and entry.date == spec.date
            and entry.note == spec.note and not spec.corrects)


def sync_file_entries(session: Session, maker: Maker, specs: list[ContributionSpec], designs: list[Design],
                      display: str) -> list[Contribution]:
    """Record the entries of a maker file that the ledger does not hold yet; return them.

    An entry recorded before the ledger existed (``legacy``, without evidence)
    that the file now repeats with evidence is corrected by the file's entry.

    :raises ManifestError: an entry recorded from this file is missing from it
        (an edit the ledger refuses), or a ``corrects`` that does not resolve.
    """
    ids = file_entry_ids(maker.slug, specs)
    recorded = {c.entry_id: c for c in maker.contributions}
    missing = [c for c in maker.contributions if c.origin == "file" and c.entry_id not in set(ids)]
    if missing:
        raise ManifestError([FieldError(display, "contributions", (
            f"entry {c.entry_id} ({format_amount(c.amount_minor, c.scale, unit_of(c.kind, c.currency))} "
            f"{c.kind} to {c.design.slug} on {c.date}) was recorded from this file and is no longer in it; the "
            f"ledger is append-only: put it back as it was, and add an entry with corrects = \"{c.entry_id}\" "
            "to change it")) for c in missing])
    legacy = [c for c in maker.contributions if c.origin == "legacy" and c.corrected_by is None]
    position = max((c.position for c in maker.contributions), default=-1) + 1
    pending: dict[str, Contribution] = {}
    errors: list[FieldError] = []
    for i, (spec, design, entry_id) in enumerate(zip(specs, designs, ids, strict=True)):
        if entry_id in recorded:
            continue
        adopted = next((c for c in legacy if _legacy_match(c, spec, design)), None)
        if adopted is not None:
            legacy.remove(adopted)
            spec = spec.model_copy(update={"corrects": adopted.entry_id})
        try:
            entry = build_entry(session, maker, spec, design, entry_id=entry_id, origin="file", recorded_by=display,
                                position=position, display=display, prefix=f"contributions[{i}].", pending=pending)
        except ManifestError as exc:
            errors.extend(exc.errors)
            continue
        pending[entry_id] = entry
        position += 1
    if errors:
        raise ManifestError(errors)
    for entry in pending.values():
        session.add(entry)
    return list(pending.values())


def state(entry: Contribution) -> str:
    """The entry's state now: ``corrected`` once a later entry corrects it, else its latest review's."""
    if entry.corrected_by is not None:
        return CORRECTED
    return entry.reviews[-1].state if entry.reviews else CLAIMED


def review_state(entry: Contribution) -> str:
    """The state its reviews left it in (``claimed`` without one), corrected or not."""
    return entry.reviews[-1].state if entry.reviews else CLAIMED


def get_entry(session: Session, text: str) -> Contribution:
    """The entry *text* names: its id, or a unique prefix of at least :data:`MIN_PREFIX` digits.

    :raises NotFound: no such entry, or the prefix is ambiguous or too short.
    """
    text = text.strip().lower()
    if len(text) < MIN_PREFIX or any(ch not in "0123456789abcdef" for ch in text):
        raise NotFound(f"{text!r} is not a ledger entry id (16 hexadecimal digits, or a unique prefix of at least "
                       f"{MIN_PREFIX}; `opendesign ledger export` lists them)")
    rows = list(session.scalars(select(Contribution).where(Contribution.entry_id.startswith(text, autoescape=True))
                                .limit(3)))
    if not rows:
        raise NotFound(f"no ledger entry {text!r}")
    if len(rows) > 1:
        raise NotFound(f"{text!r} is the start of several entries ({', '.join(r.entry_id for r in rows)}, ...); "
                       "give more digits")
    return rows[0]


def entry_view(entry: Contribution) -> dict[str, Any]:
    """One entry as plain data; amounts are exact decimal strings (``"120.50"``)."""
    unit = unit_of(entry.kind, entry.currency)
    last = entry.reviews[-1] if entry.reviews else None
    disputes = [r for r in entry.reviews if r.state == DISPUTED]
    return {
        "id": entry.entry_id,
        "maker": entry.maker.slug,
        "design": entry.design.slug,
        "version": entry.version.version if entry.version is not None else None,
        "kind": entry.kind,
        "amount": json_amount(entry.amount_minor, entry.scale),
        "amount_minor": entry.amount_minor,
        "scale": entry.scale,
        "currency": entry.currency,
        "unit": unit,
        "display": format_amount(entry.amount_minor, entry.scale, unit),
        "date": entry.date.isoformat(),
        "evidence": list(entry.evidence or []),
        "note": entry.note,
        "state": state(entry),
        "reason": disputes[-1].reason if disputes and last is disputes[-1] else "",
        "reviewed_by": last.actor if last else None,
        "reviewed_at": last.at.isoformat() if last else None,
        "corrects": entry.corrects.entry_id if entry.corrects is not None else None,
        "corrected_by": entry.corrected_by.entry_id if entry.corrected_by is not None else None,
        "origin": entry.origin,
        "recorded_by": entry.recorded_by,
        "recorded_at": entry.recorded_at.isoformat() if entry.recorded_at else None,
        "history": [{"action": r.action, "state": r.state, "reason": r.reason, "by": r.actor, "via": r.via,
                     "at": r.at.isoformat()} for r in entry.reviews],
    }
