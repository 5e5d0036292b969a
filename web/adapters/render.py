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

import logging
import os
import re
import time
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
#: What a job id looks like (renderers.jobs.job_id_for): anything else is not looked up.
_JOB_ID = re.compile(r"[0-9a-f]{32}")


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

    def render(self, session, version, params, formats, quality="normal", wait=None, part=None, queue="preview",
               **options) -> RenderSet:
        raise RenderUnavailable("the render pipeline is not available on this server")

    def cached(self, session, version, params, formats, quality="normal") -> RenderSet:
        return RenderSet()

    def locate(self, session, sha256: str, fmt: str) -> tuple[Path, str] | None:
        return None

    def known(self, sha256: str, fmt: str) -> tuple[Path, str, tuple[int, int]] | None:
        return None

    def job(self, job_id: str) -> dict | None:
        return None

    def describe(self) -> dict:
        return {"kind": "none"}

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
    """Renders for the pages and the API through the job seam (``renderers.jobs`` + a dispatcher).

    A request never renders on its own thread: it looks in the cache, else
    queues a job (one per render, shared by every process through the database)
    and waits for it at most *wait* seconds — and only while fewer than
    ``RENDER_WAITERS`` request threads are already waiting, so a burst of
    renders cannot take every thread of the server away from the pages. The
    others answer at once with the job to poll.
    """

    available = True

    def __init__(self, app: Flask):
        from renderers import jobs, service
        from renderers.cache import FileArtifactStore
        from renderers.dispatch import get_dispatcher
        from renderers.formats import FORMATS as REGISTRY

        self._service = service
        self._jobs = jobs
        self.settings = app.config["SETTINGS"]
        self.db = app.extensions["opendesign.db"]
        self.store = FileArtifactStore(self.db, self.settings)
        self.registry = REGISTRY
        self.dispatcher = get_dispatcher(self.settings, self.db)
        self._waiters = app.extensions["opendesign.render_waiters"]
        self._verified: dict[str, tuple[int, int]] = {}
        # (sha256, format) -> (path, download filename, (size, mtime_ns)) of files located and verified before.
        self._located: dict[tuple[str, str], tuple[Path, str, tuple[int, int]]] = {}

    # -- helpers ----------------------------------------------------------------------------
    def _snapshot(self, version: DesignVersion):
        return self._service.DesignSnapshot.of(version)

    @staticmethod
    def _files(job: dict) -> list[RenderedFile]:
        return [RenderedFile(format=f["format"], part=f["part"], sha256=f["sha256"], size=f["bytes"],
                             filename=f["filename"], triangles=f.get("triangles")) for f in job.get("files", [])]

    def _complete(self, session, renders: RenderSet, formats: tuple[str, ...], part: str | None) -> bool:
        """Whether *renders* holds every file asked for, each still on disk with its recorded bytes."""
        for fmt in formats:
            # A design that declares one part may render it as the whole model: the API serves that.
            wanted = renders.get(fmt, part) or renders.get(fmt, None)
            if wanted is None or self.locate(session, wanted.sha256, fmt) is None:
                return False
        return True

    def _wait(self, job: dict, wait: float | None) -> dict:
        """Poll *job* until it is no longer pending, for at most *wait* seconds (the database is the truth)."""
        if not wait or wait <= 0 or not self._waiters.acquire(blocking=False):
            return job
        try:
            deadline = time.monotonic() + wait
            pause = 0.02
            while job["status"] == "pending":
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                time.sleep(min(pause, left))
                pause = min(pause * 1.5, 0.25)
                job = self._jobs.get_job(self.db, job["id"]) or job
            return job
        finally:
            self._waiters.release()

    # -- rendering --------------------------------------------------------------------------
    def render(self, session, version: DesignVersion, params: dict[str, Any], formats, quality="normal",
               wait: float | None = None, part: str | None = None, queue: str = "preview", **options) -> RenderSet:
        """The files of one render from the cache, else the job that makes them (waited on up to *wait* s).

        :raises RenderError: the render failed (now, or remembered from a while ago), or bad parameters.
        :raises RenderRateLimited: a new render over the client's or the design's limit.
        """
        from renderers.errors import CATEGORIES, SANDBOX_FAILURE, RenderError

        from ..render_limits import charge

        formats = tuple(formats)
        hit = self.cached(session, version, params, formats, quality)
        if self._complete(session, hit, formats, part):
            return hit
        snap = self._snapshot(version)
        request_ = self._jobs.prepare(self.db, snap, params, formats, quality, part, queue)
        known = self._jobs.get_job(self.db, request_.id)
        if known is None or known["state"] not in ("queued", "running"):
            # Only what may start a render counts: not a job already under way, not a remembered failure.
            if self._jobs.remembered_failure(self.db, request_.version_id, request_.params_json,
                                             request_.quality) is None:
                charge(snap.slug)
        job = self._jobs.enqueue(self.db, self.dispatcher, request_, None, formats, quality, part, queue, **options)
        job = self._wait(job, wait)
        if job["status"] == "failed":
            category = job.get("category") if job.get("category") in CATEGORIES else SANDBOX_FAILURE
            raise RenderError(category, job.get("error") or "the render failed", ref=snap.ref)
        if job["status"] == "done":
            return RenderSet(files=self._files(job))
        return RenderSet(pending_job=job["id"])

    def job(self, job_id: str) -> dict | None:
        """The job as ``/api/v1/jobs/<id>`` shows it (any process's job: the state is in the database)."""
        from ..redact import redact

        if not _JOB_ID.fullmatch(job_id):
            return None
        job = self._jobs.get_job(self.db, job_id)
        if job is None:
            return None
        if job.get("error"):
            job["error"] = redact(job["error"])
        for f in job.get("files", []):
            f.pop("key", None)  # the cache's internal name: nothing a client can use
        return job

    def describe(self) -> dict:
        return self.dispatcher.describe()

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
