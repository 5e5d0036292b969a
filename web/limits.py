"""Rate limits (Flask-Limiter), shared across processes when a broker is configured.

:data:`limiter` is created unbound and attached in the factory, like every
extension; other areas add their own limits with ``@limiter.limit(...)`` or
:meth:`~flask_limiter.Limiter.shared_limit`. Storage: the ``broker_url``
setting's Redis when set (limits hold across every web process), else each
process's memory. ``RATELIMIT_KEY_PREFIX`` keeps deployments (and test runs)
sharing one Redis apart.

Login is limited per account and per address; only failed attempts count,
so the limit never gets in the way of a user who types the password right,
and once it is reached even the right password is refused until it resets
(429 with ``Retry-After``).
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, headers_enabled=True)

DEFAULTS = {
    "LOGIN_LIMIT_PER_ACCOUNT": "10 per minute; 50 per hour",
    "LOGIN_LIMIT_PER_ADDRESS": "20 per minute; 200 per hour",
    "REGISTER_LIMIT_PER_ADDRESS": "10 per hour",
    "RATELIMIT_KEY_PREFIX": "opendesign",
    # Storage down: refuse nothing rather than every login (the limits are a brake, not a lock).
    "RATELIMIT_SWALLOW_ERRORS": True,
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
}


def failed(response: Response) -> bool:
    """A login that did not log in (the form is shown again rather than redirecting)."""
    return response.status_code != 302


def login_account() -> str:
    """The account a login attempt is for, however it is spelt."""
    return "login:" + (request.form.get("login") or "").strip().lower()[:300]


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    broker = app.config["SETTINGS"].broker_url
    app.config.setdefault("RATELIMIT_STORAGE_URI", broker or "memory://")
    limiter.init_app(app)


def login_limits(view):
    """Per account and per address, counting failed attempts only (see the module docstring)."""
    from flask import current_app

    per_account = limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=login_account,
                                methods=["POST"], deduct_when=failed, scope="login-account")
    per_address = limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"],
                                deduct_when=failed, scope="login-address")
    return per_address(per_account(view))


def register_limits(view):
    """Per address: accounts are cheap to probe with, so their creation is not."""
    from flask import current_app

    return limiter.limit(lambda: current_app.config["REGISTER_LIMIT_PER_ADDRESS"], methods=["POST"],
                         scope="register-address")(view)
