"""Browser sessions kept on the server, so that logging out ends them for good.

The signed cookie carries a random session id; the database holds only its
sha256 (as for API tokens), when it expires, and whether it was revoked. A
cookie saved before logout therefore stops working the moment the user logs
out, and :func:`end_all_sessions` ends every session of a user at once (for a
password change or "log out everywhere").
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from ..models import User, UserSession, utcnow


def _hash(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def start_session(session: Session, user: User, lifetime: timedelta) -> str:
    """Record a new session of *user*; return the id to put in the cookie (the caller commits)."""
    plain = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(UserSession(user=user, token_hash=_hash(plain), created_at=now, expires_at=now + lifetime))
    return plain


def session_user(session: Session, plain: str) -> User | None:
    """The user of the live session *plain*, or None if it is unknown, revoked or expired."""
    if not isinstance(plain, str) or len(plain) > 100:
        return None
    row = session.scalar(select(UserSession).options(joinedload(UserSession.user))
                         .where(UserSession.token_hash == _hash(plain)))
    if row is None or row.revoked_at is not None or _utc(row.expires_at) <= utcnow():
        return None
    return row.user


def end_session(session: Session, plain: str) -> None:
    """Revoke the session *plain* (the caller commits)."""
    if isinstance(plain, str):
        session.execute(update(UserSession).where(UserSession.token_hash == _hash(plain),
                                                  UserSession.revoked_at.is_(None)).values(revoked_at=utcnow()))


def end_all_sessions(session: Session, user: User, keep: str | None = None) -> None:
    """Revoke every session of *user* but *keep* (the caller commits)."""
    stmt = update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if keep:
        stmt = stmt.where(UserSession.token_hash != _hash(keep))
    session.execute(stmt.values(revoked_at=utcnow()))
