"""Speculative draft renders: the server renders ahead of a hand on a slider.

When a visitor moves a parameter, the live preview asks for the values one step
either side (``GET /api/v1/designs/<slug>/render?...&quality=draft&speculative=1``),
so the next value is often in the cache before it is chosen. A speculative render
must never delay a render somebody is waiting for, so it is only *offered*: the
:class:`Speculator` accepts it when

- a sandbox slot is idle beyond the ``SPECULATIVE_RESERVED_SLOTS`` kept free for
  real requests (:meth:`~web.adapters.render.WebRenderer.idle_slots`): embedded, the
  pool's own free slots less this process's renders about to take one; on Celery
  (``broker_url``), the live workers' slots less the render jobs queued or running in
  the database, and none unless a live worker serves the ``batch`` queue
  (:mod:`renderers.capacity`);
- the visitor (account, else address) and the design version are within their
  budgets: renders in flight at once and renders accepted per minute;

and runs it through the same :class:`~web.adapters.render.WebRenderer` (same
sandbox, same cache, same single flight: a real request for that value joins it)
at a lower CPU priority (``SPECULATIVE_NICE``). On Celery it goes to the ``batch``
queue, which workers poll after ``preview`` and a ``--queues preview`` worker never
serves. Otherwise it is declined (204) and nothing is made.

Budgets live in this process's memory for the embedded server (the pool they protect
is its own), and in the broker's Redis on a cluster, shared by every web process
(:mod:`web.speculative_budgets`).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, Response, current_app, jsonify, url_for

from opendesign.models import DesignVersion

from .adapters import render_service
from .auth import current_user
from .speculative_budgets import Guard, MemoryBudget, RedisBudget, store_errors

EXTENSION = "opendesign.speculative"
FORMAT, QUALITY = "glb", "draft"
DEFAULTS = {
    "SPECULATIVE_RESERVED_SLOTS": 1,  # sandbox slots always left to real requests
    "SPECULATIVE_PER_VISITOR": 2,  # in flight at once
    "SPECULATIVE_VISITOR_PER_MINUTE": 60,  # accepted; a slider dragged end to end is ~40 steps
    "SPECULATIVE_PER_DESIGN": 2,  # in flight at once, all visitors together
    "SPECULATIVE_DESIGN_PER_MINUTE": 120,
    "SPECULATIVE_NICE": 10,
}


@dataclass(frozen=True)
class Offer:
    """What became of one speculative request."""

    status: str  # "cached" | "accepted" | "declined"
    reason: str = ""
    job: str | None = None
    sha256: str | None = None


class Speculator:
    def __init__(self, config, redis=None, prefix: str = "opendesign:speculative"):
        """*redis*: a client of the broker's Redis to share the budgets and the guard through (None: memory)."""
        self.reserved = int(config["SPECULATIVE_RESERVED_SLOTS"])
        self.nice = int(config["SPECULATIVE_NICE"])
        visitor = int(config["SPECULATIVE_PER_VISITOR"]), int(config["SPECULATIVE_VISITOR_PER_MINUTE"])
        design = int(config["SPECULATIVE_PER_DESIGN"]), int(config["SPECULATIVE_DESIGN_PER_MINUTE"])
        if redis is None:
            self.visitors, self.designs = MemoryBudget(*visitor), MemoryBudget(*design)
        else:
            self.visitors = RedisBudget(redis, f"{prefix}:visitor", *visitor)
            self.designs = RedisBudget(redis, f"{prefix}:design", *design)
        # Held from the idle check to the hand-over, so two offers never take the same idle slot.
        self.guard = Guard(redis, f"{prefix}:lock")

    def offer(self, session, version: DesignVersion, values: dict, visitor: str) -> Offer:
        """Render *values* of *version* ahead of the visitor if that costs nobody anything."""
        renderer = render_service()
        cached = renderer.cached(session, version, values, (FORMAT,), QUALITY).get(FORMAT)
        if cached is not None:
            return Offer("cached", sha256=cached.sha256)
        # The workers' report (a ping of a second, reused a few seconds) is read before the guard is
        # taken, so no other web process waits on this one's ping.
        renderer.describe()
        try:
            return self._decide(session, renderer, version, values, visitor)
        except store_errors():
            return Offer("declined", "unavailable")  # the shared Redis went away: render nothing ahead

    def _decide(self, session, renderer, version: DesignVersion, values: dict, visitor: str) -> Offer:
        def pending(job_id: str) -> bool:
            state = renderer.job(job_id)
            return state is not None and state["status"] == "pending"

        design = f"version:{version.id}"
        with self.guard.held() as held:
            if not held or renderer.idle_slots() <= self.reserved:
                return Offer("declined", "busy")
            if self.visitors.refuses(visitor, pending):
                return Offer("declined", "visitor-budget")
            if self.designs.refuses(design, pending):
                return Offer("declined", "design-budget")
            # On Celery the job row says batch too: a lost message is swept back to batch, not preview.
            queue = "batch" if getattr(renderer, "remote", False) else "preview"
            renders = renderer.render(session, version, values, (FORMAT,), quality=QUALITY, wait=0, queue=queue,
                                      low_priority=True, nice=self.nice)
            self.visitors.take(visitor, renders.pending_job)
            self.designs.take(design, renders.pending_job)
        done = renders.get(FORMAT)
        if done is not None:
            return Offer("cached", sha256=done.sha256)
        return Offer("accepted", job=renders.pending_job)


def visitor_key() -> str:
    """Who a budget is for: the account when signed in, else the address."""
    from flask import request

    user = current_user()
    return f"user:{user.id}" if user is not None else f"addr:{request.remote_addr or '?'}"


def respond(session, version: DesignVersion, values: dict) -> Response | tuple:
    """The HTTP answer to a speculative request: 200 cached, 202 accepted, 204 declined."""
    offer = current_app.extensions[EXTENSION].offer(session, version, values, visitor_key())
    headers = {"Cache-Control": "no-store", "X-Speculative": offer.status}
    if offer.status == "cached":
        return jsonify({"status": "cached", "url": url_for("files.serve", name=f"{offer.sha256}.{FORMAT}")}), 200, headers
    if offer.status == "accepted":
        return jsonify({"status": "accepted", "job": url_for("api.job", job_id=offer.job, _external=True)}), 202, headers
    return Response(status=204, headers={**headers, "X-Speculative-Reason": offer.reason})


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    broker_url = app.config["SETTINGS"].broker_url
    redis = None
    if broker_url:
        from redis import Redis

        # The broker's Redis, as the rate limits use it; short timeouts: a lost Redis declines offers.
        redis = Redis.from_url(broker_url, socket_timeout=2, socket_connect_timeout=2)
    prefix = f"{app.config.get('RATELIMIT_KEY_PREFIX') or 'opendesign'}:speculative"
    app.extensions[EXTENSION] = Speculator(app.config, redis, prefix)
