"""Who is asking: the logged-in user (cookie session) or an API token (Bearer header)."""

from __future__ import annotations

import functools

from flask import Flask, abort, g, redirect, request, session, url_for

from opendesign.accounts import audit, verify_token
from opendesign.models import User

from .db import get_session


def current_user() -> User | None:
    """The logged-in user, loaded once per request (no query for anonymous visitors)."""
    if "user" not in g:
        user_id = session.get("user_id")
        g.user = get_session().get(User, user_id) if user_id is not None else None
        if user_id is not None and g.user is None:
            session.clear()
    return g.user


def log_in(user: User) -> None:
    session.clear()
    session["user_id"] = user.id
    session.permanent = True
    g.user = user


def log_out() -> None:
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
