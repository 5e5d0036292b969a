"""Accounts: users, API tokens and the audit trail, without any web framework.

The web layer calls these services; they raise :class:`AccountError` (with
per-field problems) or :class:`PermissionDenied`, which it maps to HTTP
statuses in one place.
"""

from .audit import record as record_event
from .errors import AccountError, PermissionDenied
from .passwords import weakness
from .sessions import end_all_sessions, end_session, session_user, start_session
from .tokens import SCOPE_KINDS, check_scope, create_token, parse_scopes, revoke_token, verify_token
from .users import authenticate, get_user, register

__all__ = [
    "SCOPE_KINDS", "AccountError", "PermissionDenied", "authenticate", "check_scope", "create_token",
    "end_all_sessions", "end_session", "get_user", "parse_scopes", "record_event", "register", "revoke_token",
    "session_user", "start_session", "verify_token", "weakness",
]
