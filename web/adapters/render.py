"""The render pipeline (``renderers.service``) as the pages, the API and ``/files`` use it.

- :meth:`WebRenderer.render` renders (or finds in the cache) the files of one
  (version, parameters, formats, quality), waiting at most *wait* seconds; a
  longer render goes on in the background and is reported as a job to poll.
- :meth:`WebRenderer.cached` lists what the cache already holds for a
  parameter set, with one query and no render (the design page uses it).
- :meth:`WebRenderer.locate` finds the file of ``/files/<sha256>.<ext>``; its
  bytes are checked against the recorded sha256 the first time this process
  serves them and again whenever the file changes on disk.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor, TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import bindparam, select

from opendesign.errors import OpenDesignError
from opendesign.models import Artifact, Design, DesignVersion

log = logging.getLogger(__name__)

FORMATS = ("stl", "3mf", "step", "glb", "svg")
CONTENT_TYPES = {"stl": "model/stl", "3mf": "model/3mf", "glb": "model/gltf-binary", "step": "model/step",
                 "svg": "image/svg+xml"}
QUALITIES = ("draft", "normal", "fine")
MAX_JOBS = 1000


class RenderUnavailable(OpenDesignError):
    """The render pipeline is not installed on this server."""


@dataclass(frozen=True)
class RenderedFile:
    format: str
    part: str | None
    sha256: str
    size: int
    filename: str
    triangles: int | None = None
    cached: bool = False

    @property
    def name(self) -> str:
        return f"{self.sha256}.{self.format}"


@dataclass
class RenderSet:
    """The files of one (version, parameters, quality): the whole model and one per part."""

    files: list[RenderedFile] = field(default_factory=list)
    pending_job: str | None = None
    error: str | None = None

    def get(self, fmt: str, part: str | None = None) -> RenderedFile | None:
        return next((f for f in self.files if f.format == fmt and f.part == part), None)


class NullRenderer:
    """Used when ``renderers`` cannot be imported: pages work, models are not rendered."""

    available = False

    def render(self, session, version, params, formats, quality="normal", wait=None, part=None) -> RenderSet:
        raise RenderUnavailable("the render pipeline is not available on this server")

    def cached(self, session, version, params, formats, quality="normal") -> RenderSet:
        return RenderSet()

    def locate(self, session, sha256: str, fmt: str) -> tuple[Path, str] | None:
        return None

    def known(self, sha256: str, fmt: str) -> tuple[Path, str, tuple[int, int]] | None:
        return None

    def job(self, job_id: str) -> dict | None:
        return None

    def idle_slots(self) -> int:
        return 0

    def warm(self) -> None:
        pass


_CACHED_ARTIFACTS = (select(Artifact.cache_key, Artifact.sha256, Artifact.size, Artifact.triangles)
                     .where(Artifact.cache_key.in_(bindparam("keys", expanding=True))))


@lru_cache(maxsize=4096)
def _cache_keys(content_hash: str, params_json: str, formats: tuple[str, ...], quality: str,
                parts: tuple[str | None, ...], base_url: str) -> dict[str, tuple[str, str | None]]:
    """cache key -> (format, part) of every file of one parameter set (a page view asks again and again)."""
    from renderers.keys import cache_key

    return {cache_key(content_hash, params_json, fmt, quality, part, base_url): (fmt, part)
            for fmt in formats for part in parts}


def _render_status(exc: BaseException) -> int:
    category = getattr(exc, "category", "")
    return {"invalid-params": 422, "script-error": 422, "invalid-geometry": 422, "timeout": 504,
            "out-of-memory": 503, "sandbox-failure": 503, "sandbox-required": 503,
            "disk-full": 422}.get(category, 500)


class WebRenderer:
    available = True

    def __init__(self, app: Flask):
        from renderers import service
        from renderers.cache import FileArtifactStore
        from renderers.formats import FORMATS as REGISTRY

        self._service = service
        self.settings = app.config["SETTINGS"]
        self.db = app.extensions["opendesign.db"]
        self.store = FileArtifactStore(self.db, self.settings)
        self.registry = REGISTRY
        self._executor = ThreadPoolExecutor(max(2, self.settings.render_pool_size * 2), thread_name_prefix="web-render")
        self._jobs: OrderedDict[str, Future] = OrderedDict()
        self._jobs_lock = threading.Lock()
        self._verified: dict[str, tuple[int, int]] = {}
        # (sha256, format) -> (path, download filename, (size, mtime_ns)) of files located and verified before.
        self._located: dict[tuple[str, str], tuple[Path, str, tuple[int, int]]] = {}

    # -- helpers ----------------------------------------------------------------------------
    @staticmethod
    def _file(info) -> RenderedFile:
        return RenderedFile(format=info.format, part=info.part, sha256=info.sha256, size=info.bytes,
                            filename=info.filename, triangles=info.triangles, cached=info.cache_hit)

    def _snapshot(self, version: DesignVersion):
        return self._service.DesignSnapshot.of(version)

    def _job_id(self, snap, params: dict, formats: tuple[str, ...], quality: str) -> str:
        raw = json.dumps([snap.content_hash, params, sorted(formats), quality], sort_keys=True, default=str)
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    # -- rendering --------------------------------------------------------------------------
    def render(self, session, version: DesignVersion, params: dict[str, Any], formats, quality="normal",
               wait: float | None = None, part: str | None = None, nice: int = 0) -> RenderSet:
        """The files, or (after *wait* seconds) the job to poll; *nice* > 0 for speculative renders.

        A render of the same job already under way is joined, not started again, so a request
        for a value the server is rendering ahead of the user waits for that render.
        """
        snap = self._snapshot(version)
        formats = tuple(formats)
        job_id = self._job_id(snap, params, formats, quality)
        with self._jobs_lock:
            future = self._jobs.get(job_id)
            if future is None or (future.done() and future.exception() is not None):
                future = self._executor.submit(self._service.render, self.db, self.settings, snap, params,
                                               formats, quality, nice=nice)
                self._jobs[job_id] = future
                while len(self._jobs) > MAX_JOBS:
                    self._jobs.popitem(last=False)
        try:
            infos = future.result(timeout=wait)
        except FutureTimeout:
            return RenderSet(pending_job=job_id)
        return RenderSet(files=[self._file(i) for i in infos])

    def running(self) -> int:
        """Renders this process has started and not finished (those waiting for a slot too)."""
        with self._jobs_lock:
            return sum(1 for future in self._jobs.values() if not future.done())

    def idle_slots(self) -> int:
        """Sandbox slots free right now and not about to be taken by a render of this process.

        The pool's free slots miss a render that is still looking in the cache or loading its
        files; counting this process's unfinished renders against the pool's size catches it.
        """
        from renderers.pool import get_pool

        pool = get_pool(self.settings)
        return max(0, min(pool.idle_slots(), pool.size - self.running()))

    def job(self, job_id: str) -> dict | None:
        with self._jobs_lock:
            future = self._jobs.get(job_id)
        if future is None:
            return None
        if not future.done():
            return {"id": job_id, "status": "pending"}
        exc = future.exception()
        if exc is not None:
            from ..redact import redact

            return {"id": job_id, "status": "failed", "error": redact(str(exc)),
                    "category": getattr(exc, "category", None)}
        return {"id": job_id, "status": "done", "files": [
            {"format": i.format, "part": i.part, "sha256": i.sha256, "bytes": i.bytes, "filename": i.filename,
             "url": f"/files/{i.sha256}.{i.format}"} for i in future.result()]}

    def cached(self, session, version: DesignVersion, params: dict[str, Any], formats, quality="normal") -> RenderSet:
        """What the cache already holds for these parameters: one query, nothing rendered."""
        from opendesign.parameters import ParameterError, canonical_json, canonicalise

        try:
            canonical = canonicalise(version.parameters, params)
        except ParameterError:
            return RenderSet()
        parts = (None, *(p.name for p in version.parts))
        keys = _cache_keys(version.content_hash, canonical_json(canonical), tuple(formats), quality, parts,
                           self.settings.base_url)
        rows = session.execute(_CACHED_ARTIFACTS, {"keys": list(keys)})
        files = []
        for row in rows:
            fmt, part = keys[row.cache_key]
            ext = self.registry[fmt].extension if fmt in self.registry else fmt
            files.append(RenderedFile(fmt, part, row.sha256, row.size,
                                      f"{version.design.slug}-{version.version}{'-' + part if part else ''}.{ext}",
                                      row.triangles, True))
        return RenderSet(files=files)

    # -- serving ----------------------------------------------------------------------------
    def known(self, sha256: str, fmt: str) -> tuple[Path, str, tuple[int, int]] | None:
        """(path, download filename, (size, mtime_ns)) of a file this process located and verified before.

        No query and no hashing: the caller must check that the file it opens still has that
        (size, mtime_ns), and go through :meth:`locate` when it does not.
        """
        return self._located.get((sha256, fmt))

    def forget(self, sha256: str, fmt: str) -> None:
        self._located.pop((sha256, fmt), None)

    def locate(self, session, sha256: str, fmt: str) -> tuple[Path, str] | None:
        """(path, download filename) of the cached file with these bytes, or None."""
        hit = self._located.get((sha256, fmt))
        if hit is not None:
            try:
                st = os.stat(hit[0], follow_symlinks=False)
            except OSError:
                st = None
            if st is not None and (st.st_size, st.st_mtime_ns) == hit[2]:
                return hit[0], hit[1]
            self.forget(sha256, fmt)
        row = session.execute(
            select(Artifact.cache_key, Artifact.size, Artifact.part, Design.slug, DesignVersion.version)
            .join(DesignVersion, DesignVersion.id == Artifact.version_id)
            .join(Design, Design.id == DesignVersion.design_id)
            .where(Artifact.sha256 == sha256, Artifact.format == fmt)
            .order_by(Artifact.id).limit(1)).first()
        if row is None:
            return None
        path = self.store.path(row.cache_key, fmt)
        try:
            st = os.stat(path, follow_symlinks=False)
        except OSError:
            return None
        stamp = (st.st_size, st.st_mtime_ns)
        if self._verified.get(row.cache_key) != stamp:
            opened = self.store.open_verified(row.cache_key)  # hashes the bytes; drops a corrupt entry
            if opened is None:
                self._verified.pop(row.cache_key, None)
                return None
            opened[0].close()
            if len(self._verified) > 100_000:
                self._verified.clear()
            self._verified[row.cache_key] = stamp
        ext = self.registry[fmt].extension if fmt in self.registry else fmt
        filename = f"{row.slug}-{row.version}{'-' + row.part if row.part else ''}.{ext}"
        if len(self._located) > 100_000:
            self._located.clear()
        self._located[(sha256, fmt)] = (path, filename, stamp)
        return path, filename

    def warm(self) -> None:
        """Start the sandboxed zygote now, so the first render does not pay for importing CadQuery."""
        from renderers.pool import get_pool

        get_pool(self.settings).start()


def init_app(app: Flask) -> None:
    from ..errors import register_error

    try:
        renderer = WebRenderer(app)
    except ImportError as exc:
        log.warning("render pipeline unavailable (%s); pages show no models", exc)
        app.extensions["opendesign.render"] = NullRenderer()
        register_error(RenderUnavailable, 503)
        return
    from renderers.errors import RenderError

    register_error(RenderUnavailable, 503)
    register_error(RenderError, _render_status)
    app.extensions["opendesign.render"] = renderer
