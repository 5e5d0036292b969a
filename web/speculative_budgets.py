"""The budgets of speculative renders (:mod:`web.speculative`), in memory or shared through Redis.

A budget counts, per key (a visitor, a design version), the renders accepted and
still pending, and those accepted in the last minute. A :class:`Guard` is held from
the idle check to the hand-over of the job, so two offers never take the same idle
slot or the last unit of a budget.

- Embedded (no ``broker_url``): :class:`MemoryBudget` and a thread lock. The sandbox
  slots they protect are this process's own, so are the budgets.
- A cluster (``broker_url`` set): :class:`RedisBudget` and a Redis lock, shared by every
  web process on that Redis (the rate limits of :mod:`web.limits` live there too). A
  visitor whose requests are spread over two web processes has one budget, and two
  processes never accept at once for the same idle worker slot.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: Visitors and designs remembered at most in memory (oldest forgotten first), so memory stays bounded.
MAX_TRACKED = 10_000
WINDOW = 60.0
#: Seconds a Redis set of pending jobs outlives its last acceptance: a job pending longer is forgotten.
PENDING_TTL = 3600
#: The Redis lock: held at most this long (a process that died holding it), waited for at most this long.
LOCK_TIMEOUT, LOCK_WAIT = 10.0, 2.0

Pending = Callable[[str], bool]


class MemoryBudget:
    """Renders in flight and accepted in the last minute, per key, in this process's memory."""

    def __init__(self, in_flight: int, per_minute: int):
        self.in_flight, self.per_minute = in_flight, per_minute
        self._jobs: OrderedDict[str, list[str]] = OrderedDict()
        self._accepted: OrderedDict[str, deque[float]] = OrderedDict()

    def refuses(self, key: str, pending: Pending) -> bool:
        now = time.monotonic()
        jobs = self._jobs.get(key)
        if jobs:
            jobs[:] = [j for j in jobs if pending(j)]
        recent = self._accepted.get(key)
        while recent and now - recent[0] > WINDOW:
            recent.popleft()
        return len(jobs or ()) >= self.in_flight or len(recent or ()) >= self.per_minute

    def take(self, key: str, job: str | None) -> None:
        if job is not None:
            self._jobs.setdefault(key, []).append(job)
            self._jobs.move_to_end(key)
        self._accepted.setdefault(key, deque()).append(time.monotonic())
        self._accepted.move_to_end(key)
        for table in (self._jobs, self._accepted):
            while len(table) > MAX_TRACKED:
                table.popitem(last=False)


class RedisBudget:
    """The same budget in Redis: a set of pending job ids and a sorted set of acceptance times per key.

    Keys expire on their own (the minute's window, :data:`PENDING_TTL`), so Redis keeps
    nothing for a visitor who has gone. Wall-clock times, since every web host reads them.
    """

    def __init__(self, client, prefix: str, in_flight: int, per_minute: int):
        self.client, self.prefix = client, prefix
        self.in_flight, self.per_minute = in_flight, per_minute

    def _keys(self, key: str) -> tuple[str, str]:
        return f"{self.prefix}:jobs:{key}", f"{self.prefix}:accepted:{key}"

    def refuses(self, key: str, pending: Pending) -> bool:
        jobs_key, accepted_key = self._keys(key)
        pipe = self.client.pipeline(transaction=False)
        pipe.smembers(jobs_key)
        pipe.zremrangebyscore(accepted_key, "-inf", time.time() - WINDOW)
        pipe.zcard(accepted_key)
        members, _removed, recent = pipe.execute()
        finished = [m for m in members if not pending(m.decode())]
        if finished:
            self.client.srem(jobs_key, *finished)
        return len(members) - len(finished) >= self.in_flight or recent >= self.per_minute

    def take(self, key: str, job: str | None) -> None:
        jobs_key, accepted_key = self._keys(key)
        now = time.time()
        pipe = self.client.pipeline(transaction=True)
        if job is not None:
            pipe.sadd(jobs_key, job)
            pipe.expire(jobs_key, PENDING_TTL)
        pipe.zadd(accepted_key, {f"{now:.6f}:{uuid.uuid4().hex[:8]}": now})
        pipe.expire(accepted_key, int(WINDOW) + 1)
        pipe.execute()


class Guard:
    """Held from the idle check to the hand-over: a thread lock, or a Redis lock shared by every web process."""

    def __init__(self, client=None, name: str = "", wait: float = LOCK_WAIT):
        self.client, self.name, self.wait = client, name, wait
        self._local = threading.Lock()

    @contextmanager
    def held(self) -> Iterator[bool]:
        """Yields whether the guard was taken (False: a Redis lock held elsewhere for all of *wait* seconds)."""
        if self.client is None:
            with self._local:
                yield True
            return
        from redis.exceptions import LockError

        lock = self.client.lock(self.name, timeout=LOCK_TIMEOUT, blocking_timeout=self.wait)
        if not lock.acquire():
            yield False
            return
        try:
            yield True
        finally:
            try:
                lock.release()
            except LockError:
                pass  # it expired meanwhile: nothing of ours to release


def store_errors() -> tuple[type[BaseException], ...]:
    """What a Redis that went away raises (an offer is then declined, never an error page)."""
    try:
        from redis.exceptions import RedisError
    except ImportError:
        return ()
    return (RedisError,)
