"""Confirming and disputing ledger entries: the only way an entry's state changes.

A steward of the entry's design acts on the web or through the API; the
catalogue's operator acts from the CLI (``opendesign ledger confirm``), where
no account is involved and the review is recorded as the operator's. Each
review is a new :class:`~opendesign.models.LedgerReview` row and an
AuditEvent. Confirming an entry that is confirmed (or disputing a disputed
one) is refused, as is reviewing a corrected entry or one's own maker's entry.
"""

from __future__ import annotations

import getpass

from sqlalchemy.orm import Session

from ...accounts import PermissionDenied, audit
from ...errors import FieldError, ManifestError
from ...models import ApiToken, Contribution, LedgerReview, User
from .entries import CONFIRMED, DISPUTED, LedgerConflict, review_state
from .stewards import check_steward

MAX_REASON = 2000


def operator_name() -> str:
    """How a CLI review names who made it: the operator's login on this machine."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    return f"operator ({login})"


def _check(session: Session, entry: Contribution, target: str, user: User | None, token: ApiToken | None,
           operator: bool) -> None:
    if not operator:
        check_steward(session, user, entry.design, token)
        if entry.maker.owner_id is not None and user is not None and entry.maker.owner_id == user.id:
            raise PermissionDenied(f"you own maker {entry.maker.slug!r}, which recorded entry {entry.entry_id}; "
                                   "another steward must review it")
    if entry.corrected_by is not None:
        raise LedgerConflict(f"entry {entry.entry_id} was corrected by entry {entry.corrected_by.entry_id}; "
                             f"review {entry.corrected_by.entry_id} instead")
    current = review_state(entry)
    if current == target:
        last = entry.reviews[-1]
        raise LedgerConflict(f"entry {entry.entry_id} is already {target} (by {last.actor} on {last.at:%Y-%m-%d})")


def _reason(text: str, required: bool) -> str:
    reason = (text or "").strip()
    if required and not reason:
        raise ManifestError([FieldError("", "reason", "required: say why the entry is disputed (what the evidence "
                                                      "does not show)")])
    if len(reason) > MAX_REASON:
        raise ManifestError([FieldError("", "reason", f"at most {MAX_REASON} characters (got {len(reason)})")])
    return reason


def _review(session: Session, entry: Contribution, action: str, target: str, reason: str, *, user: User | None,
            token: ApiToken | None, via: str, operator: bool, remote_addr: str | None,
            source_key: str | None) -> LedgerReview:
    # Who may act comes before what they typed: a non-steward learns nothing about the form.
    _check(session, entry, target, user, token, operator)
    reason = _reason(reason, required=target == DISPUTED)
    previous = review_state(entry)
    actor = operator_name() if operator and user is None else (user.username if user else "unknown")
    review = LedgerReview(contribution=entry, action=action, state=target, reason=reason, user_id=user.id if user
                          else None, actor=actor[:100], via=via, source_key=source_key)
    session.add(review)
    audit.record(session, f"ledger.{action}", audit.OK, target=f"{entry.entry_id}: {entry.maker.slug} -> "
                 f"{entry.design.slug}", user=user, token=token, remote_addr=remote_addr,
                 detail={"entry": entry.entry_id, "from": previous, "to": target, "reason": reason, "via": via,
                         "actor": actor})
    session.flush()
    return review


def confirm(session: Session, entry: Contribution, *, user: User | None = None, token: ApiToken | None = None,
            via: str = "web", note: str = "", operator: bool = False, remote_addr: str | None = None,
            source_key: str | None = None) -> LedgerReview:
    """Confirm *entry*: it counts in totals and flows from now on.

    :raises PermissionDenied: not a steward of its design (or the token is not scoped for it).
    :raises LedgerConflict: already confirmed, or corrected.
    """
    return _review(session, entry, "confirm", CONFIRMED, note, user=user, token=token, via=via,
                   operator=operator, remote_addr=remote_addr, source_key=source_key)


def dispute(session: Session, entry: Contribution, reason: str, *, user: User | None = None,
            token: ApiToken | None = None, via: str = "web", operator: bool = False, remote_addr: str | None = None,
            source_key: str | None = None) -> LedgerReview:
    """Dispute *entry* with *reason* (required): it stops counting and shows the reason.

    :raises ManifestError: no reason (field ``reason``).
    :raises PermissionDenied: not a steward of its design.
    :raises LedgerConflict: already disputed, or corrected.
    """
    return _review(session, entry, "dispute", DISPUTED, reason, user=user, token=token, via=via,
                   operator=operator, remote_addr=remote_addr, source_key=source_key)
