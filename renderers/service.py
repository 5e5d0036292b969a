"""The render service: what the CLI, the web app and the bundles call.

:func:`render` turns (design version, parameters, formats, quality) into
cached artifacts — one per format for the whole model, plus one per part of a
multi-part design — rendering only what the cache does not already hold, once
across all processes. :func:`fetch` returns an artifact's verified bytes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from opendesign import trust
from opendesign.catalogue import origins
from opendesign.catalogue.queries import get_version
from opendesign.manifests.schema import MESH_SUFFIXES
from opendesign.config import Settings
from opendesign.db import Database
from opendesign.models import DesignVersion
from opendesign.parameters import ParameterError, canonical_json, canonicalise, defaults

from . import caps, converter, meshes
from .cache import ArtifactMeta, ArtifactStore, StoredArtifact, artifact_store
from .errors import INVALID_PARAMS, SANDBOX_FAILURE, SANDBOX_REQUIRED, SCRIPT_ERROR, RenderError
from .formats import DEFAULT_QUALITY, FORMATS, Quality, get_format, get_quality
from .convert import Request as ConvertRequest
from .keys import cache_key
from .provenance import for_design
from .pool import RenderJob, RenderOutput, RenderPool, get_pool
from .spool import Spool, chunks, stl_triangles

log = logging.getLogger(__name__)

#: Design files that a model cannot use and that are not worth copying into every job.
_NOT_FOR_BUILD = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".pdf", ".md")


@dataclass(frozen=True)
class ParamSpec:
    name: str
    type: str
    default: Any
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: list[str] | None = None


@dataclass(frozen=True)
class DesignSnapshot:
    """What rendering needs from a design version, detached from any database session."""

    version_id: int
    slug: str
    version: str
    content_hash: str
    specs: tuple[ParamSpec, ...]
    parts: tuple[str, ...]
    #: The files ``build()`` may read; None until a render needs them (see :func:`with_files`).
    files: Mapping[str, bytes] | None = field(default=None, repr=False)
    #: What every produced file says about where it comes from (see renderers.provenance).
    license: str = ""
    title: str = ""
    authors: tuple[str, ...] = ()
    #: Where the version came from (opendesign.catalogue.origins); untrusted unless known.
    origin: str = origins.FOLDER
    #: design.toml's kind; ``cadquery`` for versions stored before kinds existed.
    kind: str = "cadquery"
    #: A static design's parts: part name -> file of the design.
    part_files: tuple[tuple[str, str], ...] = ()

    @property
    def mesh_parts(self) -> tuple[str, ...]:
        """Parts that are mesh files (STL, 3MF, OBJ): they have no B-rep, so no STEP."""
        return tuple(name for name, path in self.part_files if path.lower().endswith(MESH_SUFFIXES))

    @property
    def ref(self) -> str:
        return f"{self.slug}@{self.version}"

    @classmethod
    def of(cls, version: DesignVersion, *, files: bool = False) -> DesignSnapshot:
        return cls(version_id=version.id, slug=version.design.slug, version=version.version,
                   content_hash=version.content_hash,
                   specs=tuple(ParamSpec(p.name, p.type, p.default, p.min, p.max, p.step, p.choices)
                               for p in version.parameters),
                   parts=tuple(p.name for p in version.parts),
                   files=_build_files(version) if files else None,
                   license=version.license, title=version.title, authors=tuple(a.name for a in version.authors),
                   origin=version.origin, kind=(version.manifest or {}).get("kind") or "cadquery",
                   part_files=tuple((p["name"], p["file"]) for p in (version.manifest or {}).get("parts", [])
                                    if p.get("file")))


def _build_files(version: DesignVersion) -> dict[str, bytes]:
    return {f.path: f.data for f in version.files if not f.path.lower().endswith(_NOT_FOR_BUILD)}


def snapshot(db: Database, version: str | DesignVersion | DesignSnapshot) -> DesignSnapshot:
    """What rendering needs to know about *version*, without its files (a cache hit needs none)."""
    if isinstance(version, DesignSnapshot):
        return version
    with db.session() as session:
        if isinstance(version, DesignVersion):
            version = session.get(DesignVersion, version.id)
        else:
            version = get_version(session, version)
        return DesignSnapshot.of(version)


def with_files(db: Database, snap: DesignSnapshot) -> DesignSnapshot:
    if snap.files is not None:
        return snap
    with db.session() as session:
        return replace(snap, files=_build_files(session.get(DesignVersion, snap.version_id)))


@dataclass(frozen=True)
class ArtifactInfo:
    """One rendered file, as the callers of :func:`render` see it."""

    key: str
    ref: str
    format: str
    quality: str
    part: str | None
    path: Path
    bytes: int
    sha256: str
    triangles: int | None
    watertight: bool | None
    volume: float | None
    bbox: list | None
    #: Time this call spent on the artifact: the render for a miss, the look-up for a hit.
    seconds: float
    cache_hit: bool
    parameters: dict
    media_type: str
    filename: str

    @property
    def cache(self) -> str:
        return "hit" if self.cache_hit else "miss"

    def as_dict(self) -> dict:
        return {"ref": self.ref, "format": self.format, "quality": self.quality, "part": self.part,
                "path": str(self.path), "bytes": self.bytes, "sha256": self.sha256, "triangles": self.triangles,
                "watertight": self.watertight, "volume": self.volume, "bbox": self.bbox,
                "seconds": round(self.seconds, 6), "cache": self.cache, "key": self.key,
                "parameters": self.parameters, "media_type": self.media_type, "filename": self.filename}


@dataclass(frozen=True)
class Produced:
    """One artifact fresh from a render, spooled on disk, not yet stored."""

    format: str
    part: str | None
    path: Path
    stats: meshes.MeshStats
    parts: tuple[str, ...] = ()

    @property
    def data(self) -> bytes:
        """The artifact's bytes (tests and small callers; storing streams :attr:`path` instead)."""
        return self.path.read_bytes()


def _filename(snap: DesignSnapshot, fmt: str, part: str | None) -> str:
    return f"{snap.slug}-{snap.version}{'-' + part if part else ''}.{FORMATS[fmt].extension}"


def _formats(formats: str | Iterable[str]) -> list[str]:
    names = [formats] if isinstance(formats, str) else list(formats)
    out: list[str] = []
    for name in names:
        fmt = get_format(name).name
        if fmt not in out:
            out.append(fmt)
    if not out:
        raise RenderError(INVALID_PARAMS, "no output format requested")
    return out


def check_formats(snap: DesignSnapshot, formats: list[str]) -> None:
    """A design made of mesh files cannot give STEP: refuse it before anything renders."""
    if "step" in formats and snap.mesh_parts:
        raise RenderError(INVALID_PARAMS, f"{snap.ref} has no STEP: part(s) {', '.join(snap.mesh_parts)} are mesh "
                                          "files (STL, 3MF or OBJ), which hold triangles, not the exact geometry "
                                          "STEP needs; download STL, 3MF or GLB instead", ref=snap.ref)


def canonical_parameters(snap: DesignSnapshot, params: Mapping[str, Any] | None) -> dict[str, Any]:
    try:
        return canonicalise(snap.specs, params)
    except ParameterError as exc:
        raise RenderError(INVALID_PARAMS, str(exc), fields=exc.errors, ref=snap.ref) from None


def _provenance(snap: DesignSnapshot, canonical: Mapping[str, Any], part: str | None, base_url: str):
    # Custom parameters are recorded; the defaults are not, so a default file is
    # the same whichever way its parameters were spelled.
    custom = dict(canonical) != defaults(snap.specs)
    return for_design(snap.slug, snap.version, snap.license, title=snap.title, authors=snap.authors,
                      base_url=base_url, part=part, parameters=dict(canonical) if custom else None)


def produce(snap: DesignSnapshot, canonical: Mapping[str, Any], formats: list[str], quality: Quality,
            pool: RenderPool, *, max_triangles: int, base_url: str = "",
            nice: int = 0, settings: Settings | None = None) -> tuple[list[Produced], RenderOutput]:
    """Render without the cache: run the job, then convert its meshes in the bounded helper.

    This process only copies the job's files to disk and reads each STL's
    triangle count from its header (:func:`renderers.caps.check`); parsing,
    checking and writing every format happens in :mod:`renderers.converter`'s
    helper. Every file carries its provenance (slug, version, license, authors,
    a link to the attribution chain), so a mesh that leaves the catalogue keeps
    its license. The caller closes the returned output (its spool holds the
    artifacts' files).
    """
    if snap.files is None:
        raise ValueError("produce() needs a snapshot with its files (see with_files)")
    spool_dir = settings.cache_dir / "spool" if settings is not None else None
    settings = settings or Settings()
    job = RenderJob(files=snap.files, params=dict(canonical),
                    shape_formats=tuple(f for f in formats if FORMATS[f].kind == "shape"),
                    tolerance=quality.tolerance, angular_tolerance=quality.angular_tolerance,
                    parts=snap.parts, label=snap.ref, kind=snap.kind, part_files=dict(snap.part_files),
                    max_triangles=max_triangles,
                    nice=nice)
    out = pool.render(job)
    try:
        if out.spool is None:  # a pool that hands bytes (in-process, tests): spooled the same way
            out.spool = Spool(spool_dir)
            out.files = {name: out.spool.write(name, data) if isinstance(data, bytes | bytearray) else data
                         for name, data in out.files.items()}
        parts = tuple(out.parts)
        if snap.parts and not set(parts) <= set(snap.parts):
            raise RenderError(SCRIPT_ERROR, f"build() returned undeclared parts {sorted(set(parts) - set(snap.parts))}")
        request = ConvertRequest(slug=snap.slug, ref=snap.ref, formats=tuple(formats), parts=parts,
                                 max_triangles=max_triangles,
                                 provenance={part or "": _provenance(snap, canonical, part, base_url).as_dict()
                                             for part in (None, *parts)})
        inputs = []
        for name in request.inputs():
            if name not in out.files:
                raise RenderError(SANDBOX_FAILURE, f"the render returned no {name}")
            inputs.append(Path(out.files[name]))
        triangles = 0
        for name, path in zip(request.inputs(), inputs):
            if name.endswith(".stl"):
                count = stl_triangles(path)
                if count is None:
                    raise RenderError(SANDBOX_FAILURE, f"{name}: not a binary STL (its size does not match "
                                                       "its triangle count)")
                triangles += count
        helper = converter.limits_for(settings)
        caps.check(triangles, list(formats), memory_bytes=helper.memory_bytes, cpu_seconds=helper.cpu_seconds,
                   limit=max_triangles, parts=len(parts), ref=snap.ref)
        converted, out.conversion = converter.convert(settings, request, inputs, out.spool, nice=nice)
        produced = [Produced(c.format, c.part, c.path, c.stats, parts if c.part is None else ())
                    for c in converted]
    except BaseException:
        out.close()
        raise
    return produced, out


class _Request:
    """The keys and look-ups of one render() call."""

    def __init__(self, snap: DesignSnapshot, canonical: dict, quality: str, store: ArtifactStore, base_url: str):
        self.snap, self.canonical, self.quality, self.store = snap, canonical, quality, store
        self.base_url = base_url
        self.params_json = canonical_json(canonical)
        #: Drafts are rebuilt in a fraction of a second; they are not worth an fsync each.
        self.durable = quality != "draft"

    def key(self, fmt: str, part: str | None) -> str:
        return cache_key(self.snap.content_hash, self.params_json, fmt, self.quality, part, self.base_url)

    def info(self, entry: StoredArtifact, seconds: float, hit: bool) -> ArtifactInfo:
        m = entry.meta
        return ArtifactInfo(key=entry.key, ref=self.snap.ref, format=m.format, quality=m.quality, part=m.part,
                            path=entry.path, bytes=entry.size, sha256=entry.sha256, triangles=m.triangles,
                            watertight=m.watertight, volume=m.volume, bbox=m.bbox, seconds=seconds, cache_hit=hit,
                            parameters=self.canonical, media_type=FORMATS[m.format].media_type,
                            filename=_filename(self.snap, m.format, m.part))

    def lookup(self, fmt: str) -> list[ArtifactInfo] | None:
        """Every artifact of *fmt* (whole model, then parts) if the cache holds them all."""
        started = time.perf_counter()
        whole = self.store.get(self.key(fmt, None))
        if whole is None:
            return None
        entries = [whole]
        for part in whole.meta.parts:
            entry = self.store.get(self.key(fmt, part))
            if entry is None:
                return None
            entries.append(entry)
        seconds = time.perf_counter() - started
        return [self.info(e, seconds, True) for e in entries]

    def store_all(self, produced: list[Produced], seconds: float) -> dict[str, list[ArtifactInfo]]:
        out: dict[str, list[ArtifactInfo]] = {}
        for p in produced:
            s = p.stats
            meta = ArtifactMeta(format=p.format, quality=self.quality, part=p.part, version_id=self.snap.version_id,
                                parameters=self.canonical,
                                triangles=s.triangles if FORMATS[p.format].kind == "mesh" else None,
                                watertight=s.watertight, volume=s.volume, bbox=[list(s.bbox[0]), list(s.bbox[1])],
                                parts=list(p.parts), render_seconds=round(seconds, 6))
            key = self.key(p.format, p.part)
            # An intact entry (a part's, say, when only a sibling had been evicted) is kept, not
            # rewritten under readers' feet.
            entry = self.store.get(key) or self.store.put(key, chunks(p.path), meta, durable=self.durable)
            out.setdefault(p.format, []).append(self.info(entry, seconds, False))
        return out


def render(db: Database, settings: Settings, version: str | DesignVersion | DesignSnapshot,
           params: Mapping[str, Any] | None = None, formats: str | Iterable[str] = ("stl",),
           quality: str = DEFAULT_QUALITY, *, pool: RenderPool | None = None,
           store: ArtifactStore | None = None, nice: int = 0) -> list[ArtifactInfo]:
    """Render *version* (a ``slug[@version]`` ref, a row or a snapshot) with *params*.

    Returns, for each format in order, the whole-model artifact and then one per
    part. Cached artifacts are returned as they are; missing ones are rendered
    in *pool* (default: the process-wide :func:`~renderers.pool.get_pool`),
    holding per-key locks so concurrent identical requests render once.

    A version that is not the operator's seed is refused (``sandbox-required``)
    before anything runs when *pool* cannot isolate it (:func:`check_trust`);
    what the cache holds is returned all the same.

    *nice* lowers the priority of the sandboxed build (speculative renders).

    :raises RenderError: with a category; nothing is cached on failure.
    """
    snap = snapshot(db, version)
    try:
        canonical = canonical_parameters(snap, params)
        fmts = _formats(formats)
        check_formats(snap, fmts)
        q = get_quality(quality)
        store = store or artifact_store(db, settings)
        request = _Request(snap, canonical, q.name, store, settings.base_url)
        results: dict[str, list[ArtifactInfo]] = {}
        for fmt in fmts:
            hit = request.lookup(fmt)
            if hit is not None:
                results[fmt] = hit
        missing = [f for f in fmts if f not in results]
        if missing:
            with store.lock(request.key(f, None) for f in missing):
                for fmt in list(missing):
                    hit = request.lookup(fmt)  # rendered by someone else while we waited
                    if hit is not None:
                        results[fmt] = hit
                        missing.remove(fmt)
                if missing:
                    pool = pool or get_pool(settings)
                    check_trust(settings, pool, snap)
                    started = time.perf_counter()
                    snap = with_files(db, snap)
                    request.snap = snap
                    produced, output = produce(snap, canonical, missing, q, pool,
                                               max_triangles=settings.render_max_triangles,
                                               base_url=settings.base_url, settings=settings, nice=nice)
                    try:
                        results.update(request.store_all(produced, time.perf_counter() - started))
                    finally:
                        output.close()
                    store.evict(protect=[info.key for infos in results.values() for info in infos])
    except RenderError as exc:
        raise exc.with_ref(snap.ref) from None
    return [info for fmt in fmts for info in results[fmt]]


_warned: set[str] = set()


def check_trust(settings: Settings, pool: RenderPool, snap: DesignSnapshot) -> None:
    """Refuse to run *snap*'s model in a pool that cannot isolate it, unless it is the operator's seed.

    :raises RenderError: ``sandbox-required``, naming the missing sandbox and the setting.
    """
    isolated = bool(getattr(pool, "isolated", False))
    reason = getattr(getattr(pool, "sandbox", None), "reason", "") or "the render pool is not sandboxed"
    refused = trust.refusal(settings, isolated, snap.origin, snap.ref, reason)
    if refused:
        raise RenderError(SANDBOX_REQUIRED, refused, ref=snap.ref)
    if not isolated and snap.ref not in _warned:
        _warned.add(snap.ref)
        log.warning("rendering %s (%s) WITHOUT filesystem isolation: %s", snap.ref, snap.origin,
                    trust.render_mode(settings, False).describe())


def fetch(db: Database, settings: Settings, version: str | DesignVersion | DesignSnapshot,
          params: Mapping[str, Any] | None = None, fmt: str = "stl", quality: str = DEFAULT_QUALITY,
          part: str | None = None, *, pool: RenderPool | None = None,
          store: ArtifactStore | None = None) -> tuple[ArtifactInfo, BinaryIO]:
    """One artifact and an open file of its bytes, checked against the recorded sha256.

    Renders when needed; an entry whose bytes no longer match is dropped and
    rendered again. The caller closes the file.
    """
    snap = snapshot(db, version)
    store = store or artifact_store(db, settings)
    for _attempt in (1, 2):
        infos = render(db, settings, snap, params, [fmt], quality, pool=pool, store=store)
        matching = [i for i in infos if i.part == part]
        if not matching:
            known = ", ".join(i.part for i in infos if i.part) or "none"
            raise RenderError(INVALID_PARAMS, f"{snap.ref} has no part {part!r} (parts: {known})", ref=snap.ref)
        opened = store.open_verified(matching[0].key)
        if opened is not None:
            return matching[0], opened[0]
    raise RenderError(SANDBOX_FAILURE, "the render cache could not keep a verified copy", ref=snap.ref)
