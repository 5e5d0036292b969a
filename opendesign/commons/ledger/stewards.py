"""Stewards: the accounts that may confirm and dispute what makers give back to a design.

A design's stewards are its owner (the account that published it) and the
accounts the owner names. Through the API, a steward's token must also carry
the scope ``steward:<slug>`` (or ``steward:*``). Designs imported from
``designs/`` have no owner, so only the catalogue's operator (the CLI) reviews
what they receive.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...accounts import PermissionDenied, check_scope
from ...accounts.errors import AccountError
from ...errors import FieldError, NotFound
from ...models import ApiToken, Design, DesignSteward, User


def named_stewards(session: Session, design: Design) -> list[DesignSteward]:
    return list(session.scalars(select(DesignSteward).where(DesignSteward.design_id == design.id)
                                .order_by(DesignSteward.added_at, DesignSteward.user_id)))


def stewards_of(session: Session, design: Design) -> list[User]:
    """The owner first, then the named stewards in the order they were named."""
    users = [design.owner] if design.owner is not None else []
    users += [s.user for s in named_stewards(session, design) if s.user_id != design.owner_id]
    return users


def is_steward(session: Session, user: User | None, design: Design) -> bool:
    if user is None:
        return False
    if design.owner_id == user.id:
        return True
    return session.get(DesignSteward, (design.id, user.id)) is not None


def check_steward(session: Session, user: User | None, design: Design, token: ApiToken | None = None,
                  action: str = "confirm or dispute what makers give back to it") -> None:
    """Refuse unless *user* (with *token*, when given) stewards *design*.

    :raises PermissionDenied: wrong token scope, or not a steward.
    """
    check_scope(token, "steward", design.slug)
    if not is_steward(session, user, design):
        owner = f" (its owner is {design.owner.username})" if design.owner is not None else \
            " (it has no owner account: only the catalogue's operator can, with `opendesign ledger`)"
        raise PermissionDenied(f"only a steward of design {design.slug!r} may {action}{owner}")


def _owner_only(design: Design, user: User | None, token: ApiToken | None) -> None:
    check_scope(token, "steward", design.slug)
    if user is None or design.owner_id != user.id:
        raise PermissionDenied(f"only the owner of design {design.slug!r} may name or remove its stewards")


def _user_named(session: Session, username: str) -> User:
    name = (username or "").strip().lower()
    user = session.scalar(select(User).where(func.lower(User.username) == name)) if name else None
    if user is None:
        raise AccountError([FieldError("", "username", f"no account {username!r}" if name else "give a username")])
    return user


def name_steward(session: Session, owner: User | None, design: Design, username: str,
                 token: ApiToken | None = None) -> DesignSteward:
    """Make *username* a steward of *design*; only its owner may.

    :raises PermissionDenied: not the owner, or the token is not scoped for the design.
    :raises AccountError: no such account, or already a steward (field ``username``).
    """
    _owner_only(design, owner, token)
    user = _user_named(session, username)
    if user.id == design.owner_id or session.get(DesignSteward, (design.id, user.id)) is not None:
        raise AccountError([FieldError("", "username", f"{user.username} is already a steward of {design.slug}")])
    steward = DesignSteward(design_id=design.id, user_id=user.id, added_by_id=owner.id)
    session.add(steward)
    session.flush()
    return steward


def remove_steward(session: Session, owner: User | None, design: Design, username: str,
                   token: ApiToken | None = None) -> User:
    """Stop *username* stewarding *design* (what they reviewed stays on record).

    :raises NotFound: *username* is not a named steward of the design.
    """
    _owner_only(design, owner, token)
    user = _user_named(session, username)
    steward = session.get(DesignSteward, (design.id, user.id))
    if steward is None:
        raise NotFound(f"{user.username} is not a named steward of {design.slug}")
    session.delete(steward)
    session.flush()
    return user


def stewarded_designs(session: Session, user: User) -> list[Design]:
    """Designs *user* owns or was named a steward of, by slug."""
    named = select(DesignSteward.design_id).where(DesignSteward.user_id == user.id)
    return list(session.scalars(select(Design).where((Design.owner_id == user.id) | Design.id.in_(named))
                                .order_by(Design.slug)))
