"""``/healthz``: is this server fit to serve, and if not, what is wrong.

Each check reports its own state; the whole is ``ok`` (HTTP 200) only when
every one is, else ``degraded`` (HTTP 503, so a load balancer or a monitor
notices): the database unreachable, the disk under ``OPENDESIGN_HOME`` low
(below ``health_min_free_mb``) or full, the search index missing, the render
sandbox not isolated (see :mod:`opendesign.trust`) or the render pipeline
not installed.
"""

from __future__ import annotations

import os
import shutil
import time

from flask import current_app
from sqlalchemy import text

from opendesign.trust import render_mode

from .db import get_session
from .redact import redact

MiB = 1024 * 1024
#: Below this the disk is not low but full: writes are failing or about to.
FULL_BYTES = 16 * MiB


def _database() -> dict:
    try:
        get_session().execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 — any failure means unreachable, and is what we report
        get_session().rollback()
        return {"status": "unreachable", "error": redact(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")}
    return {"status": "ok"}


def _disk(settings) -> dict:
    try:
        usage = shutil.disk_usage(settings.home)
    except OSError as exc:
        return {"status": "unknown", "error": exc.strerror}
    threshold = settings.health_min_free_mb * MiB
    status = "full" if usage.free < FULL_BYTES else "low" if usage.free < threshold else "ok"
    return {"status": status, "free_bytes": usage.free, "total_bytes": usage.total, "min_free_bytes": threshold}


def _search() -> dict:
    index = current_app.extensions["opendesign.search"].index
    try:
        exists = index.exists()
    except Exception as exc:  # noqa: BLE001
        return {"status": "error", "error": redact(str(exc))}
    return {"status": "ok" if exists else "missing", "backend": current_app.config["SETTINGS"].search_engine}


def _render(settings) -> dict:
    service = current_app.extensions["opendesign.render"]
    if not service.available:
        return {"status": "unavailable", "available": False}
    from renderers.launcher import plan

    sandbox = plan(settings)
    mode = render_mode(settings, sandbox.isolated)
    jobs = service.describe()
    status = "ok" if mode.isolated else "not-isolated"
    if jobs.get("kind") == "celery":
        # Renders go to Celery workers: without the broker or a worker, none will be made.
        if not jobs.get("reachable"):
            status = "broker-unreachable"
        elif not jobs.get("workers"):
            status = "no-workers"
        elif not all(w.get("isolated") for w in jobs["workers"].values()):
            status = "not-isolated"
    return {"status": status, "available": True, "sandbox": sandbox.mode,
            "mode": mode.name, "detail": mode.describe(), "jobs": jobs}


def report() -> tuple[dict, bool]:
    """The health report and whether everything is ok."""
    started = time.perf_counter()
    settings = current_app.config["SETTINGS"]
    checks = {"database": _database(), "disk": _disk(settings), "search_index": _search(),
              "render": _render(settings)}
    ok = all(c["status"] == "ok" for c in checks.values())
    degraded = [name for name, c in checks.items() if c["status"] != "ok"]
    # Which web process answered: with ``serve --processes N`` a monitor (and the tests) can tell them apart.
    body = {"status": "ok" if ok else "degraded", "degraded": degraded, "process": os.getpid(), **checks,
            "ms": round((time.perf_counter() - started) * 1000, 2)}
    return body, ok
