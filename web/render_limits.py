"""Limits on new renders, per client and per design (429 with ``Retry-After``).

A render costs seconds of a sandboxed CPU; a page view costs milliseconds. So
only requests that may *start* a render are counted — a file already in the
cache, a job already queued or running, a failure remembered by the job table
cost nothing and are never refused. The counting is Flask-Limiter's (its
``limits`` strategy on the app's storage): Redis when ``broker_url`` is set, so
every web process shares the counts, else this process's memory.

Limits (Flask-Limiter notation, several separated by ``;``):
``RENDER_LIMIT_PER_CLIENT`` — per logged-in user, else per address;
``RENDER_LIMIT_PER_DESIGN`` — per design, whoever asks (a popular design's
custom renders cannot starve every other design).
"""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, current_app, request
from limits import parse_many

from opendesign.errors import OpenDesignError

from .limits import limiter

log = logging.getLogger(__name__)

DEFAULTS = {
    "RENDER_LIMIT_PER_CLIENT": "30 per minute; 300 per hour",
    "RENDER_LIMIT_PER_DESIGN": "120 per minute; 1200 per hour",
}


class RenderRateLimited(OpenDesignError):
    """Too many new renders for this client or this design; try again after :attr:`retry_after` seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def _client() -> str:
    from .auth import current_user

    user = current_user()
    return f"user:{user.id}" if user is not None else f"addr:{request.remote_addr or 'unknown'}"


def _retry_after(strategy, item, key: tuple[str, ...]) -> int:
    reset, _remaining = strategy.get_window_stats(item, *key)
    return max(1, math.ceil(reset - time.time()))


def charge(design: str) -> None:
    """Count one new render of *design* for the current client, or refuse it.

    Both limits are tested before either is charged, so a refused request costs nothing.

    :raises RenderRateLimited: with the seconds until the limit that refused it resets.
    """
    config = current_app.config
    prefix = config["RATELIMIT_KEY_PREFIX"]
    checks = [(item, (prefix, "render-client", _client()), "you have started too many renders")
              for item in parse_many(config["RENDER_LIMIT_PER_CLIENT"])]
    checks += [(item, (prefix, "render-design", design), f"{design} has had too many renders started")
               for item in parse_many(config["RENDER_LIMIT_PER_DESIGN"])]
    try:
        strategy = limiter().limiter
        for item, key, what in checks:
            if not strategy.test(item, *key):
                wait = _retry_after(strategy, item, key)
                raise RenderRateLimited(f"{what} ({item}); cached files stay available; try again in {wait} s",
                                        wait)
        for item, key, _what in checks:
            strategy.hit(item, *key)
    except RenderRateLimited:
        raise
    except Exception:  # noqa: BLE001 - storage down: the limits are a brake, not a lock (RATELIMIT_SWALLOW_ERRORS)
        log.warning("render limits unavailable; letting the render through", exc_info=True)


def _limited(exc: RenderRateLimited):
    from .errors import error_response

    response = error_response(429, str(exc), title="Too many renders")
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.register_error_handler(RenderRateLimited, _limited)
