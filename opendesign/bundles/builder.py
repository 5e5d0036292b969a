"""Build the bundle of one design version: every file a maker needs, in one reproducible zip.

Layout of ``<name>.zip`` (one top-level folder ``<name>/``)::

    README.md  design.toml  model.py  (and any other file of the design folder)
    BOM.csv  LICENSE  ATTRIBUTION  okh.toml  PARAMETERS.toml  MANIFEST.sha256
    export/<part>.stl  export/<part>.3mf  export/<part>.step   (per part)
    export/<slug>.glb  export/<slug>.svg                       (combined model, drawing)

Rendered files come from a :class:`~.artifacts.Renderer` (the render cache)
and get their provenance embedded here, so the same inputs give the same
bytes however warm the cache is.
"""

from __future__ import annotations

import csv
import io
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit

from ..catalogue.queries import get_version, version_detail
from ..errors import OpenDesignError
from ..parameters import canonicalise, params_hash
from ..manifests import kinds
from . import archive, okh, texts
from .artifacts import COMBINED_FORMATS, FORMATS, PART_FORMATS, ProvenanceRecord, Rendered, Renderer

DEFAULT_QUALITY = "normal"
QUALITIES = ("draft", "normal", "fine")


class BundleError(OpenDesignError):
    """A bundle that cannot be built (missing render output, stale design folder...)."""


@dataclass
class BundleResult:
    """What :func:`build_bundle` made."""

    name: str
    path: Path
    ref: str
    #: ``False`` when the file already held exactly these bytes.
    written: bool
    custom: bool
    parameters: dict[str, Any]
    quality: str
    files: list[str] = field(default_factory=list)
    sha256: str = ""
    size: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "ref": self.ref, "written": self.written,
                "custom": self.custom, "parameters": self.parameters, "quality": self.quality,
                "files": self.files, "sha256": self.sha256, "bytes": self.size, "seconds": round(self.seconds, 3)}


def bundle_name(slug: str, version: str, *, custom_hash: str | None = None, quality: str = DEFAULT_QUALITY) -> str:
    """``<slug>-<version>[-p<hash>][-<quality>]``; the default bundle is ``<slug>-<version>``."""
    name = f"{slug}-{version}"
    if custom_hash:
        name += f"-p{custom_hash}"
    if quality != DEFAULT_QUALITY:
        name += f"-{quality}"
    return name


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "part"


@dataclass
class _Snapshot:
    """Everything the bundle needs from the catalogue, read in one session."""

    detail: dict[str, Any]
    files: dict[str, bytes]
    chain_text: str
    parent_urls: list[str]
    url: str
    repo: str
    canonical: dict[str, Any]
    defaults: dict[str, Any]
    base_url: str
    origin: str = ""


def _snapshot(db, settings, ref: str, parameters: Mapping[str, Any] | None) -> _Snapshot:
    from ..commons.attribution import attribution_chain, attribution_text, design_url

    base = settings.base_url.rstrip("/")
    with db.session() as session:
        version = get_version(session, ref)
        detail = version_detail(version)
        defaults = canonicalise(version.parameters, {})
        canonical = canonicalise(version.parameters, parameters or {})
        chain = attribution_chain(session, version, base)
        parents = [edge.parent for edge in sorted(version.parents, key=lambda e: e.position)]
        return _Snapshot(
            detail=detail, files={f.path: f.data for f in version.files}, chain_text=attribution_text(chain),
            parent_urls=[design_url(base, p.design.slug, p.version) for p in parents],
            url=design_url(base, version.design.slug, version.version), repo=f"{base}/designs/{version.design.slug}",
            canonical=canonical, defaults=defaults, base_url=base, origin=version.origin)


def check_folder(snap: _Snapshot, folder: Path) -> None:
    """Refuse to bundle a catalogue version whose design folder has changed since import."""
    from ..manifests import load_design_folder

    loaded = load_design_folder(folder)
    ref = f"{snap.detail['slug']}@{snap.detail['version']}"
    if loaded.slug != snap.detail["slug"] or loaded.version != snap.detail["version"]:
        raise BundleError(f"{folder} holds {loaded.slug}@{loaded.version}, not {ref}; run `opendesign import`")
    if loaded.content_hash != snap.detail["content_hash"]:
        raise BundleError(f"{folder} differs from {ref} in the catalogue; a published version is immutable: "
                          f"bump the version in design.toml and run `opendesign import`")


def _bom_csv(detail: dict[str, Any], files: dict[str, bytes]) -> bytes:
    if "bom.csv" in files:
        return files["bom.csv"]  # the designer's own BOM is the source of truth
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["item", "quantity", "unit", "note"])
    for line in detail["bom"]:
        writer.writerow([line["item"], f"{line['quantity']:g}", line["unit"], line["note"]])
    return out.getvalue().encode()


def _parameters_toml(snap: _Snapshot, ref: str, quality: str, custom_hash: str | None) -> bytes:
    doc = tomlkit.document()
    doc.add(tomlkit.comment(f"Parameters the files of this bundle were rendered with ({ref})."))
    doc["design"] = ref
    doc["quality"] = quality
    doc["custom"] = custom_hash is not None
    if custom_hash:
        doc["hash"] = custom_hash
    doc["parameters"] = dict(snap.canonical)
    doc["changed"] = {k: v for k, v in snap.canonical.items() if snap.defaults.get(k) != v}
    return tomlkit.dumps(doc).encode()


def _provenance(snap: _Snapshot, base_url: str, part: str | None, custom: bool) -> ProvenanceRecord:
    d = snap.detail
    # The same record the render service embeds in single downloads, so a file is
    # byte-identical whether it came from a bundle or from the catalogue.
    return ProvenanceRecord(d["slug"], d["version"], d["license"], title=d["title"],
                            authors=tuple(a["name"] for a in d["authors"]), base_url=base_url, part=part,
                            parameters=snap.canonical if custom else None)


def _place(rendered: list[Rendered], parts: list[dict[str, Any]]) -> dict[tuple[str, str | None], Rendered]:
    """Index rendered files by (format, part); a single-part design's combined files are its part's."""
    by_key = {(r.format, r.part): r for r in rendered}
    if len(parts) == 1:
        only = parts[0]["name"]
        for fmt in PART_FORMATS:
            if (fmt, only) not in by_key and (fmt, None) in by_key:
                by_key[(fmt, only)] = by_key[(fmt, None)]
    return by_key


def _require(by_key, fmt: str, part: str | None, ref: str) -> Rendered:
    item = by_key.get((fmt, part))
    if item is None:
        what = f"part {part!r}" if part else "the combined model"
        raise BundleError(f"{ref}: the renderer returned no {fmt.upper()} of {what}")
    return item


def compose(snap: _Snapshot, rendered: list[Rendered], quality: str,
            renderer: Renderer) -> tuple[str, dict[str, bytes]]:
    """The bundle's name and files (paths relative to its folder), without the manifest."""
    embed = renderer.embed_provenance
    d = snap.detail
    slug, version = d["slug"], d["version"]
    ref = f"{slug}@{version}"
    custom = snap.canonical != snap.defaults
    custom_hash = params_hash(snap.canonical) if custom else None
    name = bundle_name(slug, version, custom_hash=custom_hash, quality=quality)

    files: dict[str, bytes] = {path: data for path, data in snap.files.items() if path != "bom.csv"}
    by_key = _place(rendered, d["parts"])
    exports: list[str] = []
    parts: list[okh.PartInfo] = []
    # A design of mesh files has no STEP (see manifests.kinds.no_step_reason).
    part_formats = [f for f in PART_FORMATS if f != "step" or not d.get("no_step")]
    combined = list(COMBINED_FORMATS)
    for spec in d["parts"]:
        info = okh.PartInfo(spec["name"], spec["material"], spec["process"], spec["quantity"])
        if ("stl", spec["name"]) not in by_key:
            # build() may return fewer parts than design.toml declares (the rest made by
            # hand, or merged): keep the whole model's meshes so no geometry is lost.
            combined = part_formats + list(COMBINED_FORMATS)
            parts.append(info)
            continue
        for fmt in part_formats:
            item = _require(by_key, fmt, spec["name"], ref)
            path = f"export/{safe_name(spec['name'])}.{fmt}"
            files[path] = embed(item.data, fmt, _provenance(snap, snap.base_url, spec["name"], custom))
            info.files.append(path)
            exports.append(path)
            if fmt == "stl":
                info.size, info.volume = item.size, item.volume
        parts.append(info)
    for fmt in combined:
        item = _require(by_key, fmt, None, ref)
        path = f"export/{safe_name(slug)}.{fmt}"
        files[path] = embed(item.data, fmt, _provenance(snap, snap.base_url, None, custom))
        exports.append(path)

    files["BOM.csv"] = _bom_csv(d, snap.files)
    files["LICENSE"] = texts.license_file(d["license"], ref).encode()
    files["ATTRIBUTION"] = snap.chain_text.encode()
    files["PARAMETERS.toml"] = _parameters_toml(snap, ref, quality, custom_hash)
    manifest = bundle_manifest(snap, exports, parts, quality, custom_hash)
    files["okh.toml"] = okh.dumps(manifest).encode()
    return name, files


def bundle_manifest(snap: _Snapshot, exports: list[str], parts: list[okh.PartInfo], quality: str,
                    custom_hash: str | None) -> dict[str, Any]:
    """The okh.toml of a bundle as data; ``opendesign okh export`` prints the same without measures."""
    from ..okh.extras import merge_extras

    d = snap.detail
    source = [*kinds.model_files(d), "design.toml"]
    manifest = okh.okh_manifest(d, repo=snap.repo, parent_urls=snap.parent_urls, source=source,
                                export=sorted(exports), parts=parts, image=f"export/{safe_name(d['slug'])}.svg",
                                parameters=snap.canonical, custom=custom_hash is not None)
    manifest["opendesign"]["quality"] = quality
    manifest["opendesign"]["tags"] = list(d["tags"])
    manifest["opendesign"]["links"] = dict(d["links"] or {})
    if custom_hash:
        manifest["opendesign"]["parameters-hash"] = custom_hash
    if snap.origin == "okh":
        manifest = merge_extras(manifest, snap.files)
    return manifest


def snapshot(db, settings, ref: str, parameters: Mapping[str, Any] | None = None) -> _Snapshot:
    """What a bundle of *ref* needs from the catalogue, read in one session."""
    return _snapshot(db, settings, ref, parameters)


def build_bundle(db, settings, ref: str, *, renderer: Renderer, parameters: Mapping[str, Any] | None = None,
                 quality: str = DEFAULT_QUALITY, out_dir: str | Path = "dist",
                 check_folder_path: str | Path | None = None) -> BundleResult:
    """Build (or confirm) ``<out_dir>/<name>.zip`` for the version *ref*.

    :param parameters: custom values (``NAME -> value``); defaults fill the rest.
    :param renderer: where rendered files and their provenance come from (the core renders
        nothing itself: ``renderers.bundle_renderer.ServiceRenderer`` in production).
    :param check_folder_path: a design folder that must match the catalogue version.
    """
    started = time.perf_counter()
    if quality not in QUALITIES:
        raise BundleError(f"unknown quality {quality!r}; choose one of {', '.join(QUALITIES)}")
    snap = _snapshot(db, settings, ref, parameters)
    if check_folder_path is not None:
        check_folder(snap, Path(check_folder_path))
    full_ref = f"{snap.detail['slug']}@{snap.detail['version']}"
    formats = [f for f in FORMATS if f != "step" or not snap.detail.get("no_step")]
    rendered = renderer(full_ref, snap.canonical, formats, quality)
    name, files = compose(snap, rendered, quality, renderer)
    data = archive.zip_bytes(name, files)
    path = Path(out_dir) / f"{name}.zip"
    written = archive.write_atomic(path, data)
    if not written:
        os.utime(path)  # same bytes: tell make the target is up to date without rewriting it
    return BundleResult(name=name, path=path, ref=full_ref, written=written, custom=snap.canonical != snap.defaults,
                        parameters=snap.canonical, quality=quality,
                        files=sorted(files) + [archive.MANIFEST], sha256=archive.sha256(data), size=len(data),
                        seconds=time.perf_counter() - started)
