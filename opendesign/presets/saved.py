"""Parameter sets saved by signed-in users: save, find, share, delete.

A saved set belongs to one design version (parameters are per version) and
holds every parameter's canonical value, so it means the same model forever —
the version is immutable. A private set is seen by its owner only: to anyone
else it does not exist (:class:`NotFound`, never 403, so its existence does not
leak). A public set is listed on the design page with its author and opens
for anyone at its permalink.

Through the API a token must be scoped ``presets:<slug>`` or ``presets:*``
(:func:`opendesign.accounts.check_scope`); a browser session is not limited by
scopes. The caller commits and audits.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ..accounts import PermissionDenied, check_scope
from ..errors import FieldError, NotFound, OpenDesignError
from ..models import Design, DesignVersion, ParameterSet, User
from ..parameters import ParameterError, canonicalise, params_hash

MAX_NAME = 100
MAX_DESCRIPTION = 500
#: Saved sets per user, across all designs: plenty for a person, a wall for a script gone wrong.
MAX_SETS_PER_USER = 500
#: Public sets listed on a design page (newest first).
MAX_LISTED = 50


class ParameterSetError(OpenDesignError):
    """A parameter set that cannot be saved; :attr:`errors` name the fields (``name``, ``values.<param>``)."""

    def __init__(self, errors: list[FieldError]):
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in self.errors))

    def by_field(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for err in self.errors:
            out.setdefault(err.field, []).append(err.reason)
        return out


class ParameterSetConflict(ParameterSetError):
    """The user already has a set of that name for this version (HTTP 409)."""


def _text(value: Any, field: str, limit: int, errors: list[FieldError], *, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.append(FieldError("", field, f"must be text, not {type(value).__name__}"))
        return ""
    text = " ".join(value.split()) if field == "name" else value.strip()
    if required and not text:
        errors.append(FieldError("", field, "give the parameter set a name"))
    elif len(text) > limit:
        errors.append(FieldError("", field, f"use at most {limit} characters (got {len(text)})"))
    elif any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in text):
        errors.append(FieldError("", field, "must not contain control characters"))
    return text


def _canonical(version: DesignVersion, values: Any, errors: list[FieldError]) -> dict[str, Any] | None:
    if not isinstance(values, Mapping):
        errors.append(FieldError("", "values", "send the parameter values as an object of name -> value"))
        return None
    try:
        return canonicalise(version.parameters, values)
    except ParameterError as exc:
        errors.extend(FieldError("", f"values.{name}", reason) for name, reason in exc.errors.items())
        return None


def save_set(session: Session, user: User, version: DesignVersion, *, name: Any, values: Any,
             description: Any = "", public: Any = False, token=None) -> ParameterSet:
    """Save *values* for *version* as *user*'s set called *name*.

    :raises PermissionDenied: *token* is not scoped for the design.
    :raises ParameterSetError: naming every invalid field (values as ``values.<param>``).
    :raises ParameterSetConflict: *user* already has a set of that name for this version.
    """
    slug = version.design.slug
    check_scope(token, "presets", slug)
    errors: list[FieldError] = []
    name = _text(name, "name", MAX_NAME, errors, required=True)
    description = _text(description, "description", MAX_DESCRIPTION, errors, required=False)
    if not isinstance(public, bool):
        errors.append(FieldError("", "public", f"must be true or false, not {public!r:.40}"))
    canonical = _canonical(version, values, errors)
    count = session.scalar(select(func.count()).select_from(ParameterSet).where(ParameterSet.user_id == user.id))
    if count >= MAX_SETS_PER_USER:
        errors.append(FieldError("", "name", f"you have {count} saved parameter sets, the most one account may "
                                             "keep; delete some first"))
    if errors:
        raise ParameterSetError(errors)
    taken = ParameterSetConflict([FieldError("", "name", f"you already have a parameter set called {name!r} for "
                                                         f"{version.ref}; choose another name or delete that one")])
    if session.scalar(select(ParameterSet.id).where(ParameterSet.user_id == user.id,
                                                    ParameterSet.version_id == version.id,
                                                    ParameterSet.name == name)) is not None:
        raise taken
    saved = ParameterSet(public_id=secrets.token_urlsafe(9), user=user, version=version, name=name,
                         description=description, values=canonical, params_hash=params_hash(canonical),
                         is_public=bool(public))
    session.add(saved)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # saved concurrently under the same name
        session.expunge(saved)
        raise taken from None
    return saved


def _visible(viewer: User | None):
    return ParameterSet.is_public.is_(True) if viewer is None else or_(ParameterSet.is_public.is_(True),
                                                                        ParameterSet.user_id == viewer.id)


def _loads():
    version = selectinload(ParameterSet.version)
    return (selectinload(ParameterSet.user), version.selectinload(DesignVersion.design),
            version.selectinload(DesignVersion.parameters))


def get_set(session: Session, public_id: str, viewer: User | None) -> ParameterSet:
    """The set *public_id* if *viewer* may see it (public, or theirs); :class:`NotFound` otherwise."""
    found = session.scalar(select(ParameterSet).where(ParameterSet.public_id == public_id, _visible(viewer))
                           .options(*_loads())) if isinstance(public_id, str) and len(public_id) <= 16 else None
    if found is None:
        raise NotFound(f"no parameter set {public_id[:16]!r}")
    return found


def sets_of_design(session: Session, design_id: int, viewer: User | None, *, version_id: int | None = None,
                   limit: int = MAX_LISTED, offset: int = 0) -> list[ParameterSet]:
    """The design's public sets and *viewer*'s own, newest first (of one version if *version_id*)."""
    stmt = (select(ParameterSet).join(DesignVersion, DesignVersion.id == ParameterSet.version_id)
            .where(DesignVersion.design_id == design_id, _visible(viewer)))
    if version_id is not None:
        stmt = stmt.where(ParameterSet.version_id == version_id)
    return list(session.scalars(stmt.options(*_loads()).order_by(ParameterSet.created_at.desc(),
                                                                  ParameterSet.id.desc())
                                .limit(limit).offset(offset)))


# Built once: the design page asks on every view, and plain columns skip the ORM's statement building
# and identity map, which cost more than the query itself.
_LISTED = (select(ParameterSet.public_id.label("id"), ParameterSet.name, ParameterSet.description,
                  ParameterSet.is_public.label("public"), ParameterSet.user_id, User.username.label("author"),
                  DesignVersion.version)
           .join(User, User.id == ParameterSet.user_id)
           .join(DesignVersion, DesignVersion.id == ParameterSet.version_id)
           .where(DesignVersion.design_id == bindparam("design_id"),
                  or_(ParameterSet.is_public.is_(True), ParameterSet.user_id == bindparam("viewer_id")))
           .order_by(ParameterSet.created_at.desc(), ParameterSet.id.desc())
           .limit(bindparam("limit")))


def listed_sets(session: Session, design_id: int, viewer: User | None, limit: int = MAX_LISTED) -> list:
    """What the design page lists of :func:`sets_of_design`, as rows: id, name, description, public,
    user_id, author, version."""
    return list(session.execute(_LISTED, {"design_id": design_id, "viewer_id": viewer.id if viewer else -1,
                                          "limit": limit}))


def sets_of_user(session: Session, user: User) -> list[ParameterSet]:
    """Every set *user* saved, grouped by design then newest first (the account page)."""
    stmt = (select(ParameterSet).join(DesignVersion, DesignVersion.id == ParameterSet.version_id)
            .join(Design, Design.id == DesignVersion.design_id).where(ParameterSet.user_id == user.id)
            .options(*_loads()).order_by(Design.slug, ParameterSet.created_at.desc(), ParameterSet.id.desc()))
    return list(session.scalars(stmt))


def _own(session: Session, user: User, public_id: str, token) -> ParameterSet:
    found = get_set(session, public_id, user)
    check_scope(token, "presets", found.version.design.slug)
    if found.user_id != user.id:
        raise PermissionDenied(f"parameter set {public_id!r} belongs to {found.user.username}; only its author "
                               "can change or delete it")
    return found


def delete_set(session: Session, user: User, public_id: str, token=None) -> ParameterSet:
    """Delete *user*'s set *public_id*; returns it (detached data stays readable)."""
    found = _own(session, user, public_id, token)
    session.delete(found)
    session.flush()
    return found


def set_public(session: Session, user: User, public_id: str, public: bool, token=None) -> ParameterSet:
    """Make *user*'s set *public_id* public or private."""
    found = _own(session, user, public_id, token)
    found.is_public = bool(public)
    session.flush()
    return found


def changed_values(saved: ParameterSet) -> dict[str, Any]:
    """The values of *saved* that differ from its version's defaults."""
    defaults = canonicalise(saved.version.parameters, {})
    return {k: v for k, v in saved.values.items() if defaults.get(k) != v}


def set_view(saved: ParameterSet) -> dict[str, Any]:
    """Plain data of one set for the API and the pages (no URLs: the web adds them)."""
    version = saved.version
    return {"id": saved.public_id, "name": saved.name, "description": saved.description,
            "design": version.design.slug, "version": version.version, "author": saved.user.username,
            "public": saved.is_public, "values": dict(saved.values), "changed": changed_values(saved),
            "hash": saved.params_hash, "created_at": saved.created_at.isoformat()}
