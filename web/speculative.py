"""Speculative draft renders: the server renders ahead of a hand on a slider.

When a visitor moves a parameter, the live preview asks for the values one step
either side (``GET /api/v1/designs/<slug>/render?...&quality=draft&speculative=1``),
so the next value is often in the cache before it is chosen. A speculative render
must never delay a render somebody is waiting for, so it is only *offered*: the
:class:`Speculator` accepts it when

- a sandbox slot is idle beyond the ``SPECULATIVE_RESERVED_SLOTS`` kept free for
  real requests (the pool's own free slots, less this process's renders about to
  take one: :meth:`~web.adapters.render.WebRenderer.idle_slots`);
- the visitor (account, else address) and the design version are within their
  budgets: renders in flight at once and renders accepted per minute;

and runs it through the same :class:`~web.adapters.render.WebRenderer` (same
sandbox, same cache, same single flight: a real request for that value joins it)
at a lower CPU priority (``SPECULATIVE_NICE``). Otherwise it is declined (204)
and nothing is made.

Budgets live in this process's memory, as the pool they protect does: each web
process has its own sandbox slots.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass

from flask import Flask, Response, current_app, jsonify, url_for

from opendesign.models import DesignVersion

from .adapters import render_service
from .auth import current_user

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
#: Visitors and designs remembered at most (oldest forgotten first), so memory stays bounded.
MAX_TRACKED = 10_000
WINDOW = 60.0


@dataclass(frozen=True)
class Offer:
    """What became of one speculative request."""

    status: str  # "cached" | "accepted" | "declined"
    reason: str = ""
    job: str | None = None
    sha256: str | None = None


class _Budget:
    """Renders in flight and accepted in the last minute, per key (a visitor, a design)."""

    def __init__(self, in_flight: int, per_minute: int):
        self.in_flight, self.per_minute = in_flight, per_minute
        self._jobs: OrderedDict[str, list[str]] = OrderedDict()
        self._accepted: OrderedDict[str, deque[float]] = OrderedDict()

    def refuses(self, key: str, now: float, pending) -> bool:
        jobs = self._jobs.get(key)
        if jobs:
            jobs[:] = [j for j in jobs if pending(j)]
        recent = self._accepted.get(key)
        while recent and now - recent[0] > WINDOW:
            recent.popleft()
        return len(jobs or ()) >= self.in_flight or len(recent or ()) >= self.per_minute

    def take(self, key: str, now: float, job: str | None) -> None:
        if job is not None:
            self._jobs.setdefault(key, []).append(job)
            self._jobs.move_to_end(key)
        self._accepted.setdefault(key, deque()).append(now)
        self._accepted.move_to_end(key)
        for table in (self._jobs, self._accepted):
            while len(table) > MAX_TRACKED:
                table.popitem(last=False)


class Speculator:
    def __init__(self, config):
        self.reserved = int(config["SPECULATIVE_RESERVED_SLOTS"])
        self.nice = int(config["SPECULATIVE_NICE"])
        self.visitors = _Budget(int(config["SPECULATIVE_PER_VISITOR"]), int(config["SPECULATIVE_VISITOR_PER_MINUTE"]))
        self.designs = _Budget(int(config["SPECULATIVE_PER_DESIGN"]), int(config["SPECULATIVE_DESIGN_PER_MINUTE"]))
        # Held from the idle check to the hand-over, so two offers never take the same idle slot.
        self._lock = threading.Lock()

    def offer(self, session, version: DesignVersion, values: dict, visitor: str) -> Offer:
        """Render *values* of *version* ahead of the visitor if that costs nobody anything."""
        renderer = render_service()
        cached = renderer.cached(session, version, values, (FORMAT,), QUALITY).get(FORMAT)
        if cached is not None:
            return Offer("cached", sha256=cached.sha256)

        def pending(job_id: str) -> bool:
            state = renderer.job(job_id)
            return state is not None and state["status"] == "pending"

        design = f"version:{version.id}"
        with self._lock:
            now = time.monotonic()
            if renderer.idle_slots() <= self.reserved:
                return Offer("declined", "busy")
            if self.visitors.refuses(visitor, now, pending):
                return Offer("declined", "visitor-budget")
            if self.designs.refuses(design, now, pending):
                return Offer("declined", "design-budget")
            renders = renderer.render(session, version, values, (FORMAT,), quality=QUALITY, wait=0,
                                        low_priority=True, nice=self.nice)
            self.visitors.take(visitor, now, renders.pending_job)
            self.designs.take(design, now, renders.pending_job)
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
    app.extensions[EXTENSION] = Speculator(app.config)
