"""Publishing from the web: safe extraction of an uploaded design zip, then an import.

The zip is untrusted. Every entry is checked before a single byte is
extracted (path traversal, absolute paths, symlinks and other special files,
entry count, declared sizes, compression ratio), and extraction then counts
the bytes it actually writes, so a lying header cannot smuggle a bomb past the
declared-size checks. Everything is extracted into a private temporary folder
that is removed afterwards; the catalogue is written only by
:func:`~opendesign.catalogue.importer.import_folder`, in one transaction, once
the folder validated. A refused upload writes nothing.
"""

from __future__ import annotations

import errno
import io
import os
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from .accounts.tokens import check_scope, scope_allows
from .catalogue import origins
from .catalogue.importer import CREATED, import_folder
from .errors import FieldError, ManifestError, OpenDesignError
from .manifests import load_design_folder
from .manifests.loader import MANIFEST, MAX_FILE_BYTES
from .manifests.schema import SLUG_RE
from .manifests.textfiles import TextError, parse_toml
from .models import ApiToken, Design, DesignVersion, User

_CHUNK = 64 * 1024
#: The most of an upload's design.toml read to learn its slug before anything is unpacked.
MAX_PEEK_BYTES = 1024 * 1024
#: Disk full and quota exceeded are the server's problem, not the upload's: they propagate
#: (the web answers 507) instead of becoming "the zip cannot be read".
_STORAGE_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
#: Folders that archivers add and that are never part of a design.
_LITTER = ("__MACOSX/",)


@dataclass(frozen=True)
class UploadLimits:
    """What one uploaded design zip may contain."""

    max_upload_bytes: int = 20 * 1024 * 1024
    max_entries: int = 1000
    max_file_bytes: int = MAX_FILE_BYTES
    max_total_bytes: int = 50 * 1024 * 1024
    #: Uncompressed / compressed size above which an entry is a decompression bomb;
    #: checked only for entries larger than ``ratio_floor_bytes`` (small text compresses well).
    max_ratio: float = 100.0
    ratio_floor_bytes: int = 1024 * 1024


class UnsafeArchive(OpenDesignError):
    """An uploaded archive that is refused before anything is extracted or written."""


class PublishConflict(OpenDesignError):
    """The slug belongs to someone else, or was taken by a concurrent publish."""


@dataclass(frozen=True)
class PublishResult:
    slug: str
    version: str
    status: str  # created | updated | unchanged

    @property
    def ref(self) -> str:
        return f"{self.slug}@{self.version}"


# -- the archive ------------------------------------------------------------------------------

def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    if "\x00" in name:
        return "has a NUL byte in its name"
    if "\\" in name:
        return "uses backslashes in its path"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "is an absolute path"
    if any(part == ".." for part in name.split("/")):
        return "has a '..' path component that escapes the folder"
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        return "is a symbolic link"
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "is not a regular file"
    if info.flag_bits & 0x1:
        return "is encrypted"
    return None


def inspect_archive(archive: zipfile.ZipFile, limits: UploadLimits) -> list[zipfile.ZipInfo]:
    """The file entries to extract, after checking every entry.

    :raises UnsafeArchive: naming the first offending entry and the reason.
    """
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise UnsafeArchive(f"the zip has {len(infos)} entries; the limit is {limits.max_entries}")
    files: list[zipfile.ZipInfo] = []
    seen: set[str] = set()
    total = 0
    for info in infos:
        problem = _entry_problem(info)
        if problem:
            raise UnsafeArchive(f"zip entry {info.filename!r} {problem}; nothing was written")
        if info.is_dir() or info.filename.startswith(_LITTER):
            continue
        key = PurePosixPath(info.filename).as_posix().lower()
        if key in seen:
            raise UnsafeArchive(f"zip entry {info.filename!r} appears twice; nothing was written")
        seen.add(key)
        if info.file_size > limits.max_file_bytes:
            raise UnsafeArchive(f"zip entry {info.filename!r} expands to {info.file_size} bytes; the limit per "
                                f"file is {limits.max_file_bytes}; nothing was written")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_floor_bytes and ratio > limits.max_ratio:
            raise UnsafeArchive(f"zip entry {info.filename!r} has a compression ratio of {ratio:.0f}:1 (limit "
                                f"{limits.max_ratio:.0f}:1): refused as a decompression bomb; nothing was written")
        total += info.file_size
        if total > limits.max_total_bytes:
            raise UnsafeArchive(f"the zip expands to more than {limits.max_total_bytes} bytes; nothing was written")
        files.append(info)
    if not files:
        raise UnsafeArchive("the zip holds no files")
    return files


def _extract_one(archive: zipfile.ZipFile, info: zipfile.ZipInfo, root: Path, limits: UploadLimits) -> None:
    target = root.joinpath(*PurePosixPath(info.filename).parts)
    resolved_root = root.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    if resolved_root not in target.parent.resolve().parents and target.parent.resolve() != resolved_root:
        raise UnsafeArchive(f"zip entry {info.filename!r} escapes the folder; nothing was written")
    written = 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as out, archive.open(info) as src:
        try:
            while chunk := src.read(_CHUNK):
                written += len(chunk)
                if written > info.file_size or written > limits.max_file_bytes:
                    raise UnsafeArchive(f"zip entry {info.filename!r} expands beyond its declared size: refused "
                                        "as a decompression bomb; nothing was written")
                out.write(chunk)
        except zipfile.BadZipFile:
            # zipfile stops reading at the declared size, so a header that lies
            # about a larger body shows up as a checksum mismatch.
            raise UnsafeArchive(f"zip entry {info.filename!r} does not match its declared size and checksum "
                                "(corrupt, or a disguised decompression bomb); nothing was written") from None


def extract_archive(source: bytes | BinaryIO | Path, dest: Path, limits: UploadLimits = UploadLimits()) -> Path:
    """Check and extract a design zip into *dest* (an empty folder); return the design folder.

    The design folder is the zip's top level if it holds ``design.toml``, else
    its single top-level folder. It is renamed after the manifest's slug, so
    the name of the folder inside the zip does not matter.
    """
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        with zipfile.ZipFile(source) as archive:
            files = inspect_archive(archive, limits)
            raw = dest / "_upload"
            raw.mkdir()
            for info in files:
                _extract_one(archive, info, raw, limits)
    except zipfile.BadZipFile as exc:
        raise UnsafeArchive(f"not a valid zip archive ({exc}); nothing was written") from None
    except OSError as exc:
        if exc.errno in _STORAGE_ERRNOS:
            raise
        # strerror only: the exception's text would name a server path.
        raise UnsafeArchive(f"the zip cannot be read ({exc.strerror or type(exc).__name__}); nothing was "
                            "written") from None
    except (zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError) as exc:
        raise UnsafeArchive(f"the zip cannot be read ({exc}); nothing was written") from None
    return _design_root(raw, dest)


def _manifest_entry(files: list[zipfile.ZipInfo]) -> str | None:
    """The name of the design.toml that :func:`_design_root` will take, from the zip's listing alone."""
    names = {info.filename for info in files}
    if MANIFEST in names:
        return MANIFEST
    tops = {name.split("/", 1)[0] for name in names if not name.startswith((".", "_"))}
    if len(tops) == 1:
        top = tops.pop()
        if f"{top}/{MANIFEST}" in names:
            return f"{top}/{MANIFEST}"
    return None


def peek_slug(source: BinaryIO, limits: UploadLimits = UploadLimits()) -> str:
    """The slug an upload's design.toml declares, read without unpacking anything else.

    Only the zip's central directory and at most :data:`MAX_PEEK_BYTES` of the
    manifest are read, so a token's scope can be checked before the upload
    costs any disk.

    :raises UnsafeArchive: the zip is refused by :func:`inspect_archive`.
    :raises ManifestError: there is no readable slug (naming design.toml and why).
    """
    start = source.tell()
    try:
        with zipfile.ZipFile(source) as archive:
            files = inspect_archive(archive, limits)
            name = _manifest_entry(files)
            if name is None:
                raise ManifestError([FieldError("upload", "", f"the zip must hold {MANIFEST} at its top level or "
                                                              "in a single folder")])
            with archive.open(name) as f:
                data = f.read(MAX_PEEK_BYTES + 1)
    except zipfile.BadZipFile as exc:
        raise UnsafeArchive(f"not a valid zip archive ({exc}); nothing was written") from None
    except (OSError, EOFError, NotImplementedError, zipfile.LargeZipFile, ValueError) as exc:
        raise UnsafeArchive(f"the zip cannot be read ({getattr(exc, 'strerror', None) or exc}); nothing was "
                            "written") from None
    finally:
        source.seek(start)
    if len(data) > MAX_PEEK_BYTES:
        raise ManifestError([FieldError(MANIFEST, "", f"is larger than {MAX_PEEK_BYTES // 1024} KiB")])
    try:
        slug = parse_toml(data, MANIFEST).get("slug")
    except TextError as exc:
        raise ManifestError([exc.error]) from None
    if not isinstance(slug, str) or not re.match(SLUG_RE, slug):
        raise ManifestError([FieldError(MANIFEST, "slug", "must be lowercase words joined by hyphens, e.g. "
                                                          "'solar-dryer'")])
    return slug


def _design_root(raw: Path, dest: Path) -> Path:
    root = raw
    if not (raw / MANIFEST).is_file():
        tops = [p for p in raw.iterdir() if not p.name.startswith((".", "_"))]
        if len(tops) == 1 and tops[0].is_dir() and (tops[0] / MANIFEST).is_file():
            root = tops[0]
        else:
            raise ManifestError([FieldError("upload", "", f"the zip must hold {MANIFEST} at its top level or in "
                                                          "a single folder")])
    try:
        slug = parse_toml((root / MANIFEST).read_bytes(), MANIFEST).get("slug")
    except TextError:
        slug = None  # the loader reports it, with the file and the reason
    name = slug if isinstance(slug, str) and re.match(SLUG_RE, slug) else root.name
    final = dest / name
    if final != root:
        root.rename(final)
    return final


@contextmanager
def unpacked(source: bytes | BinaryIO | Path, limits: UploadLimits = UploadLimits(),
             tmp_dir: Path | None = None) -> Iterator[Path]:
    """Extract *source* into a private temporary folder, removed on exit."""
    if tmp_dir is not None:
        tmp_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="publish-", dir=tmp_dir))
    try:
        yield extract_archive(source, work, limits)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- publishing -------------------------------------------------------------------------------

def _check_owner(session: Session, slug: str, user: User) -> None:
    design = session.scalar(select(Design).where(Design.slug == slug))
    if design is None or design.owner_id == user.id:
        return
    if design.owner_id is None:
        raise PublishConflict(f"the slug {slug!r} is maintained in the catalogue's designs/ folder and cannot be "
                              "published to from an account; fork it to publish your own derivative")
    raise PublishConflict(f"the slug {slug!r} belongs to another designer; choose another slug, or fork "
                          "their design")


def publish_folder(session: Session, folder_path: Path, *, user: User, token: ApiToken | None = None,
                   display: str | None = None, origin: str = origins.WEB) -> PublishResult:
    """Validate the folder and import it as a version owned by *user*, committing *session*.

    Two users publishing one new slug at once: the database's unique
    constraint lets one commit; the other is retried once, sees the slug
    taken, and gets :class:`PublishConflict` (never a bare database error).

    :raises ManifestError: the folder is invalid (per-field errors).
    :raises PermissionDenied: *token* is not scoped for this slug.
    :raises PublishConflict: the slug belongs to someone else.
    :raises VersionConflict: the version is published with different content.
    """
    display = display or folder_path.name
    folder = load_design_folder(folder_path, display=display)
    check_scope(token, "publish", folder.slug)
    session.commit()  # end any read snapshot; the import runs in a transaction of its own
    for attempt in (1, 2):
        try:
            _check_owner(session, folder.slug, user)
            status = import_folder(session, folder, display, origin)
            if status == CREATED:
                design = session.scalar(select(Design).where(Design.slug == folder.slug))
                design.owner_id = user.id
            session.commit()
            return PublishResult(folder.slug, folder.version, status)
        except (IntegrityError, OperationalError):
            # A concurrent publish of the same slug or version committed first
            # (PostgreSQL: unique violation; SQLite: a stale snapshot). Look again.
            session.rollback()
            if attempt == 2:
                raise PublishConflict(f"{folder.slug}@{folder.version} was published concurrently by another "
                                      "request; try again") from None
        except BaseException:
            session.rollback()
            raise
    raise AssertionError("unreachable")


def publish_archive(session: Session, source: bytes | BinaryIO | Path, *, user: User,
                    token: ApiToken | None = None, limits: UploadLimits = UploadLimits(),
                    tmp_dir: Path | None = None, origin: str = origins.WEB) -> PublishResult:
    """Extract, validate and publish an uploaded design zip (see :func:`publish_folder`).

    A token scoped for particular designs is checked against the slug its
    design.toml declares before anything is unpacked (:func:`peek_slug`).
    """
    if isinstance(source, Path):
        with source.open("rb") as f:
            return publish_archive(session, f, user=user, token=token, limits=limits, tmp_dir=tmp_dir, origin=origin)
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    if token is not None and not scope_allows(list(token.scopes or []), "publish", "*"):
        check_scope(token, "publish", peek_slug(source, limits))
    with unpacked(source, limits, tmp_dir) as folder:
        return publish_folder(session, folder, user=user, token=token, display=folder.name, origin=origin)


# -- forking ----------------------------------------------------------------------------------

def fork_version(session: Session, parent: DesignVersion, *, slug: str, user: User, title: str | None = None,
                 license: str | None = None, tmp_dir: Path | None = None) -> PublishResult:
    """Publish a derivative of *parent* as ``slug@0.1.0``, owned by *user*.

    The files and the manifest edit are the commons layer's
    (:func:`opendesign.commons.fork.fork_files`), and so is the license
    choice: a no-derivatives parent, or a license the parent does not allow,
    is refused with the reason (:class:`~opendesign.errors.LicenseConflict`).
    """
    from .commons.fork import choose_license, fork_files

    slug = slug.strip().lower()
    if not re.match(SLUG_RE, slug) or not 2 <= len(slug) <= 64:
        raise ManifestError([FieldError("fork", "slug", "use 2-64 lowercase letters, digits and single hyphens, "
                                                        "e.g. 'solar-dryer-xl'")])
    if session.scalar(select(Design.id).where(Design.slug == slug)) is not None:
        raise PublishConflict(f"the slug {slug!r} is taken; choose another")
    license_ = choose_license(parent, (license or "").strip() or None)
    files = fork_files(parent, slug, license_, (title or "").strip() or None)
    if tmp_dir is not None:
        tmp_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="fork-", dir=tmp_dir))
    try:
        root = work / slug
        for path, data in files.items():
            rel = PurePosixPath(path)
            if rel.is_absolute() or ".." in rel.parts:
                raise UnsafeArchive(f"stored file {path!r} has an unsafe path")
            target = root.joinpath(*rel.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return publish_folder(session, root, user=user, display=slug)
    finally:
        shutil.rmtree(work, ignore_errors=True)
