"""Rate limits (Flask-Limiter), shared across processes when a broker is configured.

Each app gets its own :class:`~flask_limiter.Limiter` (:func:`limiter`), made
in the factory from its config: Flask-Limiter keeps some settings (the key
prefix) from the first app an instance met, so one instance per process
would mix up apps made in one process (tests, several deployments). Areas
limit their views with :func:`limit` once the blueprints are registered.

Storage: the ``broker_url`` setting's Redis when set (limits hold across
every web process), else the process's memory. ``RATELIMIT_KEY_PREFIX``
keeps deployments (and test runs) sharing one Redis apart.

Login is limited per account and per address; only failed attempts count,
so the limit never gets in the way of a user who types the password right,
and once it is reached even the right password is refused until it resets
(429 with ``Retry-After``). Registration is limited per address.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

EXTENSION = "opendesign.limiter"

DEFAULTS = {
    "LOGIN_LIMIT_PER_ACCOUNT": "10 per minute; 50 per hour",
    "LOGIN_LIMIT_PER_ADDRESS": "20 per minute; 200 per hour",
    "REGISTER_LIMIT_PER_ADDRESS": "20 per hour",
    "RATELIMIT_KEY_PREFIX": "opendesign",
    "RATELIMIT_HEADERS_ENABLED": True,
    # Storage down: refuse nothing rather than every login (the limits are a brake, not a lock).
    "RATELIMIT_SWALLOW_ERRORS": True,
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
}
TOO_MANY_LOGINS = "too many failed log-ins for this account or from this address; wait a minute and try again"


def limiter(app: Flask | None = None) -> Limiter:
    """The app's limiter (the current app's by default)."""
    return (app or current_app).extensions[EXTENSION]


def limit(app: Flask, endpoint: str, value: str | Callable[[], str], **options) -> None:
    """Put the limit *value* (``"10 per minute; 50 per hour"``) on the view of *endpoint*.

    *options* go to :meth:`flask_limiter.Limiter.limit` (``key_func``, ``methods``,
    ``deduct_when``, ``scope``, ``error_message``...).
    """
    app.view_functions[endpoint] = limiter(app).limit(value, **options)(app.view_functions[endpoint])


def failed(response: Response) -> bool:
    """A login that did not log in (the form is shown again rather than redirecting)."""
    return response.status_code != 302


def login_account() -> str:
    """The account a login attempt is for, however it is spelt."""
    return "login:" + (request.form.get("login") or "").strip().lower()[:300]


def init_app(app: Flask) -> None:
    """Make the app's limiter and put the account limits on; call after the blueprints are registered."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["SETTINGS"].broker_url or "memory://")
    app.extensions[EXTENSION] = Limiter(get_remote_address, app=app)
    config = app.config
    limit(app, "account.login", config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=login_account, methods=["POST"],
          deduct_when=failed, scope="login-account", error_message=TOO_MANY_LOGINS)
    limit(app, "account.login", config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"], deduct_when=failed,
          scope="login-address", error_message=TOO_MANY_LOGINS)
    limit(app, "account.register_view", config["REGISTER_LIMIT_PER_ADDRESS"], methods=["POST"],
          scope="register-address",
          error_message="too many registrations from this address; try again in an hour")
