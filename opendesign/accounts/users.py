"""Registering users and checking their passwords.

Passwords are hashed with werkzeug's default (scrypt, salted); only the hash
is stored.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import FieldError, NotFound
from ..models import User
from .errors import AccountError

USERNAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{1,62}[a-z0-9])?$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
# A fixed hash checked when the user does not exist, so a login attempt takes
# as long for an unknown name as for a wrong password.
_DUMMY_HASH = generate_password_hash("opendesign-timing-equaliser")


def _problems(session: Session, username: str, email: str, password: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if not USERNAME_RE.match(username):
        errors.append(FieldError("", "username", "use 3-64 lowercase letters, digits, '-' or '_'"))
    elif session.scalar(select(User.id).where(func.lower(User.username) == username)) is not None:
        errors.append(FieldError("", "username", "this username is taken"))
    if len(email) > 300 or not EMAIL_RE.match(email):
        errors.append(FieldError("", "email", "not a valid e-mail address"))
    elif session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        errors.append(FieldError("", "email", "an account with this e-mail address exists"))
    if len(password) < MIN_PASSWORD:
        errors.append(FieldError("", "password", f"use at least {MIN_PASSWORD} characters"))
    elif len(password) > MAX_PASSWORD:
        errors.append(FieldError("", "password", f"use at most {MAX_PASSWORD} characters"))
    return errors


def register(session: Session, username: str, email: str, password: str) -> User:
    """Create a user; the caller commits.

    :raises AccountError: naming each invalid or taken field.
    """
    username = username.strip().lower()
    email = email.strip().lower()
    errors = _problems(session, username, email, password)
    if errors:
        raise AccountError(errors)
    user = User(username=username, email=email, password_hash=generate_password_hash(password))
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # registered concurrently under the same name
        raise AccountError([FieldError("", "username", "this username is taken")]) from None
    return user


def authenticate(session: Session, login: str, password: str) -> User | None:
    """The user whose username or e-mail is *login*, if *password* is theirs."""
    login = login.strip().lower()
    user = session.scalar(select(User).where((User.username == login) | (User.email == login)))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user
