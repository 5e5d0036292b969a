"""The audit trail: every publish, fork, token use and refusal is one row.

Refusals are recorded after the refused work was rolled back, in a
transaction of their own, so they survive the failure they describe.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ..models import ApiToken, AuditEvent, User

OK, REFUSED, ERROR = "ok", "refused", "error"


def record(session: Session, action: str, outcome: str, *, target: str = "", user: User | int | None = None,
           token: ApiToken | int | None = None, detail: dict[str, Any] | None = None,
           remote_addr: str | None = None) -> AuditEvent:
    """Add an :class:`AuditEvent` to *session* (the caller commits)."""
    user_id = user.id if isinstance(user, User) else user
    token_id = token.id if isinstance(token, ApiToken) else token
    event = AuditEvent(action=action[:40], outcome=outcome[:16], target=target[:200], user_id=user_id,
                       token_id=token_id, detail=dict(detail or {}), remote_addr=(remote_addr or None))
    session.add(event)
    return event
