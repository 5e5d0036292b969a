"""Who is asking: the logged-in user (cookie session) or an API token (Bearer header).

The cookie holds a server-side session id (:mod:`opendesign.accounts.sessions`),
checked on every request: once its session is revoked (log out) or expired,
the cookie is worth nothing, even a copy saved before.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from flask import Flask, abort, current_app, g, redirect, request, session, url_for

from opendesign.accounts import audit, end_session, session_user, start_session, verify_token
from opendesign.models import User

from .db import get_session

SESSION_KEY = "sid"


def current_user() -> User | None:
    """The logged-in user, loaded once per request (no query for anonymous visitors)."""
    if "user" not in g:
        sid = session.get(SESSION_KEY)
        g.user = session_user(get_session(), sid) if sid is not None else None
        if g.user is None and session:
            session.pop(SESSION_KEY, None)
            session.pop("user_id", None)  # cookies of before server-side sessions
    return g.user


def log_in(user: User) -> None:
    """Start a session for *user* (the caller commits)."""
    lifetime = current_app.permanent_session_lifetime
    if not isinstance(lifetime, timedelta):
        lifetime = timedelta(seconds=lifetime)
    session.clear()
    session[SESSION_KEY] = start_session(get_session(), user, lifetime)
    session.permanent = True
    g.user = user


def log_out() -> None:
    """End this browser's session on the server too (the caller commits)."""
    sid = session.get(SESSION_KEY)
    if sid is not None:
        end_session(get_session(), sid)
    session.clear()
    g.user = None


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            return redirect(url_for("account.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def token_required(view):
    """API views that need a token: 401 without a valid one; every use is audited."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        plain = bearer_token()
        db = get_session()
        token = verify_token(db, plain) if plain else None
        if token is None:
            audit.record(db, "token.use", audit.REFUSED, target=request.path,
                         detail={"reason": "missing or invalid token" if plain is None else "invalid token"},
                         remote_addr=request.remote_addr)
            db.commit()
            abort(401, description="a valid API token is required (Authorization: Bearer od_...)")
        audit.record(db, "token.use", audit.OK, target=f"{request.method} {request.path}", user=token.user_id,
                     token=token, remote_addr=request.remote_addr)
        db.commit()
        g.token = token
        g.user = token.user
        return view(*args, **kwargs)

    return wrapped


def init_app(app: Flask) -> None:
    app.context_processor(lambda: {"current_user": current_user()})
