"""Building bundles for the design page in the background (:func:`opendesign.bundles.build_bundle`).

A bundle for a custom parameter set renders every part in every format
first, which can take longer than a browser should wait for a response. A
build runs in a small thread pool; the request waits at most *wait* seconds
— and only while fewer than ``RENDER_WAITERS`` request threads wait for a
render or a bundle — and otherwise gets a job to come back for (the page
refreshes itself). Equal
requests share one build: the job key is the version's content hash and the
canonical parameters. Finished builds are remembered while their file exists,
so a repeated download does not rebuild the zip.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor, TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from flask import Flask

from opendesign.parameters import canonical_json

#: Builds remembered (done or running); the oldest are forgotten first.
MAX_JOBS = 256
#: Concurrent builds: each drives several renders through the shared render pool.
WORKERS = 2


@dataclass(frozen=True)
class BundleJob:
    """A bundle being built: ``result`` is set once it is done."""

    key: str
    result: Any = None


class BundleBuilder:
    def __init__(self, app: Flask):
        self.settings = app.config["SETTINGS"]
        self.db = app.extensions["opendesign.db"]
        self._executor = ThreadPoolExecutor(WORKERS, thread_name_prefix="web-bundle")
        self._jobs: OrderedDict[str, Future] = OrderedDict()
        self._lock = threading.Lock()
        self._waiters = app.extensions["opendesign.render_waiters"]

    def _build(self, ref: str, values: dict[str, Any]):
        from opendesign.bundles import build_bundle
        from renderers.bundle_renderer import ServiceRenderer

        return build_bundle(self.db, self.settings, ref, renderer=ServiceRenderer(self.db, self.settings),
                            parameters=values, out_dir=self.settings.home / "bundles")

    def build(self, version, canonical: dict[str, Any], wait: float) -> BundleJob:
        """The finished bundle of *version* with *canonical* values, or a running job after *wait* seconds.

        :raises OpenDesignError: the build failed (a render error, a missing file); the next call retries.
        """
        key = hashlib.sha256(f"{version.content_hash}\n{canonical_json(canonical)}".encode()).hexdigest()[:32]
        ref = f"{version.design.slug}@{version.version}"
        with self._lock:
            future = self._jobs.get(key)
            stale = future is not None and future.done() and (
                future.exception() is not None or not future.result().path.exists())
            if future is None or stale:
                future = self._executor.submit(self._build, ref, canonical)
                self._jobs[key] = future
                while len(self._jobs) > MAX_JOBS:
                    self._jobs.popitem(last=False)
            self._jobs.move_to_end(key)
        if future.done():
            return BundleJob(key, future.result())
        if not self._waiters.acquire(blocking=False):
            return BundleJob(key)  # enough request threads wait already: come back for it
        try:
            return BundleJob(key, future.result(timeout=wait))
        except FutureTimeout:
            return BundleJob(key)
        finally:
            self._waiters.release()


def init_app(app: Flask) -> None:
    app.extensions["opendesign.bundles"] = BundleBuilder(app)
