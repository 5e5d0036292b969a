"""Registering users and checking their passwords.

Passwords are hashed with werkzeug's default (scrypt, salted); only the hash
is stored, and a new one must be strong enough (:mod:`.passwords`).

Registration never says whether an e-mail address has an account: a taken
username or address gives one message, naming neither, and the password is
hashed either way so the answer takes as long.
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
from .passwords import weakness

USERNAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{1,62}[a-z0-9])?$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
# A fixed hash checked when the user does not exist, so a login attempt takes
# as long for an unknown name as for a wrong password.
_DUMMY_HASH = generate_password_hash("opendesign-timing-equaliser")
#: What a refused registration says when the username or the e-mail is taken (either, or both).
TAKEN = ("this username or e-mail address cannot be used for a new account; if you have an account, "
         "log in (or choose another username)")


def _problems(session: Session, username: str, email: str, password: str) -> list[FieldError]:
    errors: list[FieldError] = []
    valid_username = bool(USERNAME_RE.match(username))
    valid_email = len(email) <= 300 and bool(EMAIL_RE.match(email))
    if not valid_username:
        errors.append(FieldError("", "username", "use 3-64 lowercase letters, digits, '-' or '_'"))
    if not valid_email:
        errors.append(FieldError("", "email", "not a valid e-mail address"))
    if len(password) < MIN_PASSWORD:
        errors.append(FieldError("", "password", f"use at least {MIN_PASSWORD} characters"))
    elif len(password) > MAX_PASSWORD:
        errors.append(FieldError("", "password", f"use at most {MAX_PASSWORD} characters"))
    elif (weak := weakness(password, [username, email, *email.split("@")])) is not None:
        errors.append(FieldError("", "password", weak))
    if valid_username and valid_email:
        # Both looked up always, and one message for either: the answer never tells which.
        taken_name = session.scalar(select(User.id).where(func.lower(User.username) == username)) is not None
        taken_email = session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None
        if taken_name or taken_email:
            errors.append(FieldError("", "username", TAKEN))
    return errors


def register(session: Session, username: str, email: str, password: str) -> User:
    """Create a user; the caller commits.

    :raises AccountError: naming each invalid or taken field.
    """
    username = username.strip().lower()
    email = email.strip().lower()
    errors = _problems(session, username, email, password)
    # Hashed before the outcome is known, so refusals take as long as an account creation.
    password_hash = generate_password_hash(password[:MAX_PASSWORD])
    if errors:
        raise AccountError(errors)
    user = User(username=username, email=email, password_hash=password_hash)
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # registered concurrently under the same name or address
        raise AccountError([FieldError("", "username", TAKEN)]) from None
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
