"""``Server-Timing`` on responses that measured something: where a request's time went on the server.

The live preview reads it (``web/static/preview.js``) to split a draft request into
the server's part and the transport's, and browsers' developer tools show it beside
the request. A view adds a metric with :func:`timed`; the header then names each
metric and ``app``, the whole request inside Flask from the first ``before_request``
hook on. Durations only, in milliseconds (W3C Server Timing): nothing about files,
jobs or hosts, and nothing a visitor could not time for themselves.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, g
from flask.wrappers import Response


@contextmanager
def timed(name: str) -> Iterator[None]:
    """Time the block as metric *name* of this request's ``Server-Timing``."""
    started = time.perf_counter()
    try:
        yield
    finally:
        g.setdefault("server_timing", []).append((name, time.perf_counter() - started))


def _start() -> None:
    g.server_started = time.perf_counter()


def _header(response: Response) -> Response:
    metrics = g.get("server_timing")
    if metrics:
        parts = [f"{name};dur={seconds * 1000:.1f}" for name, seconds in metrics]
        started = g.get("server_started")
        if started is not None:
            parts.append(f"app;dur={(time.perf_counter() - started) * 1000:.1f}")
        response.headers["Server-Timing"] = ", ".join(parts)
    return response


def init_app(app: Flask) -> None:
    """Register first, so ``app`` spans every other hook (after_request hooks run in reverse)."""
    app.before_request(_start)
    app.after_request(_header)
