"""Scoped API tokens: shown once, stored as a hash, revocable.

A token is ``od_`` followed by 32 random bytes (URL-safe base64). Because it
is random and long, a plain sha256 is a sufficient stored hash (no salt or
slow hash needed, unlike passwords) and lets a request find its token by an
indexed equality look-up.

Scopes: ``publish:<slug>`` (publish new versions of one design),
``publish:*`` (publish anything the user may publish), ``makers:<slug>``
(manage one maker organisation), ``makers:*``, ``presets:<slug>`` (save and
delete one's parameter sets of one design), ``presets:*``, ``steward:<slug>`` (confirm and
dispute what makers give back to a design the user stewards, resolve
challenges, name stewards if the user owns it), ``steward:*``, and
``challenge:<maker-slug>`` / ``challenge:*`` (challenge makers' attestations).
"""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import FieldError, NotFound
from ..models import ApiToken, User, utcnow
from .errors import AccountError, PermissionDenied

TOKEN_PREFIX = "od_"
SCOPE_KINDS = ("publish", "makers", "presets", "steward", "challenge")
_SCOPE_RE = re.compile(r"^(publish|makers|presets|steward|challenge):(\*|[a-z0-9]+(?:-[a-z0-9]+)*)$")
MAX_TOKENS_PER_USER = 50


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_scopes(text: str | list[str]) -> list[str]:
    """Normalise scopes given as a list or a comma/space separated string.

    :raises AccountError: for an unknown or malformed scope.
    """
    items = text if isinstance(text, list) else re.split(r"[\s,]+", text)
    scopes = sorted({s.strip() for s in items if s and s.strip()})
    bad = [s for s in scopes if not _SCOPE_RE.match(s)]
    if bad:
        raise AccountError([FieldError("", "scopes", f"unknown scope {bad[0]!r}; use publish:<slug>, publish:*, "
                                                      "makers:<slug>, makers:*, presets:<slug>, presets:*, "
                                                      "steward:<slug>, steward:*, "
                                                      "challenge:<maker-slug> or challenge:*")])
    if not scopes:
        raise AccountError([FieldError("", "scopes", "give at least one scope")])
    return scopes


def create_token(session: Session, user: User, name: str, scopes: str | list[str]) -> tuple[ApiToken, str]:
    """Create a token; return the row and the plain token, which is never stored."""
    name = name.strip()
    errors = []
    if not name or len(name) > 100:
        errors.append(FieldError("", "name", "give the token a name of 1-100 characters"))
    try:
        scopes = parse_scopes(scopes)
    except AccountError as exc:
        errors.extend(exc.errors)
    active = [t for t in user.tokens if t.revoked_at is None]
    if len(active) >= MAX_TOKENS_PER_USER:
        errors.append(FieldError("", "name", f"at most {MAX_TOKENS_PER_USER} active tokens; revoke one first"))
    if errors:
        raise AccountError(errors)
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, prefix=plain[:10], token_hash=hash_token(plain), scopes=list(scopes))
    session.add(token)
    session.flush()
    return token, plain


def verify_token(session: Session, plain: str) -> ApiToken | None:
    """The active token *plain* is, or None; records when it was last used."""
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plain)))
    if token is None or token.revoked_at is not None:
        return None
    token.last_used_at = utcnow()
    return token


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(f"no token {token_id} in your account")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def scope_allows(scopes: list[str], kind: str, slug: str) -> bool:
    return f"{kind}:*" in scopes or f"{kind}:{slug}" in scopes


def check_scope(token: ApiToken | None, kind: str, slug: str) -> None:
    """Raise :class:`PermissionDenied` unless *token* (if any) carries a scope for *slug*.

    A request without a token (a logged-in browser session) is not limited by scopes.
    """
    if token is None or scope_allows(list(token.scopes or []), kind, slug):
        return
    raise PermissionDenied(f"token {token.prefix}… is not scoped for {kind}:{slug} "
                           f"(its scopes: {', '.join(token.scopes) or 'none'})")
