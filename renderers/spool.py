"""Bytes from the sandbox, kept on disk: the host copies them, it never holds or parses them.

What a render job or the conversion helper hands back is untrusted and may be
hundreds of megabytes. The host streams each blob of a frame (see
:mod:`renderers.sandbox.protocol`) into a file of a private :class:`Spool`
folder in fixed-size chunks, within a per-file and a total cap, so its memory
does not grow with what the other side sends. The only looks it takes are
cheap ones: sizes, a binary STL's triangle count against its size
(:func:`stl_triangles`), and a sha256 while copying.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import struct
import tempfile
import time
from pathlib import Path

from .sandbox import protocol

CHUNK = 1024 * 1024
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,120}$")


class SpoolError(Exception):
    """A blob broke a cap, the peer went away or the deadline passed; the message says which."""


class Spool:
    """A private (0700) folder of spooled files, removed with :meth:`close`."""

    def __init__(self, parent: str | Path | None = None):
        if parent is not None:
            Path(parent).mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix="spool-", dir=parent))
        self._count = 0

    def unique(self, stem: str = "blob") -> Path:
        self._count += 1
        return self.path / f"{stem}-{self._count}"

    def file(self, name: str) -> Path:
        if not _SAFE_NAME.match(name):
            raise SpoolError(f"refusing the file name {name[:60]!r}")
        return self.path / name

    def write(self, name: str, data: bytes) -> Path:
        """For pools that already hold the bytes (in-process, tests): the same shape of output."""
        path = self.file(name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with open(fd, "wb") as f:
            f.write(data)
        return path

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def recv_blob(sock: socket.socket, size: int, path: Path, deadline: float | None) -> str:
    """Stream *size* bytes from *sock* into a new file *path*; return their sha256."""
    digest = hashlib.sha256()
    buf = bytearray(min(CHUNK, max(size, 1)))
    view = memoryview(buf)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with open(fd, "wb") as out:
        left = size
        while left:
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SpoolError("timed out while the files were copied")
                sock.settimeout(remaining)
            try:
                n = sock.recv_into(view, min(left, len(buf)))
            except TimeoutError:
                raise SpoolError("timed out while the files were copied") from None
            except OSError as exc:
                raise SpoolError(f"the channel failed: {exc}") from None
            if n == 0:
                raise SpoolError("the peer closed the channel in the middle of a file")
            out.write(view[:n])
            digest.update(view[:n])
            left -= n
    return digest.hexdigest()


def recv_frame(sock: socket.socket, spool: Spool, names: list[str] | None = None, *, max_each: int,
               max_total: int, deadline: float | None = None,
               max_header: int = protocol.MAX_HEADER) -> tuple[dict, list[Path]]:
    """One frame: its header, and its blobs as files of *spool* (named *names*, or numbered).

    :raises SpoolError: a blob over *max_each*, blobs over *max_total*, a bad
        header, a closed channel or the deadline.
    """
    try:
        header = protocol.recv_header(sock, max_total=max_total, deadline=deadline, max_header=max_header)
    except protocol.ProtocolError as exc:
        raise SpoolError(str(exc)) from None
    sizes = header.get("blobs", [])
    if names is not None and len(names) != len(sizes):
        raise SpoolError(f"{len(sizes)} files sent where {len(names)} were expected")
    for i, size in enumerate(sizes):
        if size > max_each:
            what = names[i] if names else f"file {i + 1}"
            raise SpoolError(f"{what} is {size} bytes, over the limit of {max_each}")
    paths, digests = [], []
    for i, size in enumerate(sizes):
        path = spool.file(names[i]) if names else spool.unique()
        digests.append(recv_blob(sock, size, path, deadline))
        paths.append(path)
    header["sha256"] = digests
    return header, paths


def send_files(sock: socket.socket, header: dict, paths: list[Path]) -> None:
    """Send *header* and the files *paths* as one frame, file to socket without passing through memory."""
    handles = [open(p, "rb") for p in paths]
    try:
        sizes = [os.fstat(f.fileno()).st_size for f in handles]
        _send_header(sock, dict(header, blobs=sizes))
        for f in handles:
            sock.sendfile(f)
    finally:
        for f in handles:
            f.close()


def _send_header(sock: socket.socket, header: dict) -> None:
    data = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    sock.sendall(struct.pack("!I", len(data)) + data)


_STL_HEADER = 84
_STL_RECORD = 50


def stl_triangles(path: Path) -> int | None:
    """A binary STL's triangle count from its 84-byte header, or None when the size does not match it.

    The one check the host makes on a mesh: reading 4 bytes and a stat, whatever the file's size.
    """
    with open(path, "rb") as f:
        head = f.read(_STL_HEADER)
        size = os.fstat(f.fileno()).st_size
    if len(head) < _STL_HEADER:
        return None
    (count,) = struct.unpack_from("<I", head, 80)
    return count if size == _STL_HEADER + _STL_RECORD * count else None


def chunks(path: Path):
    """The bytes of *path* in :data:`CHUNK`-sized pieces (for :meth:`ArtifactStore.put`)."""
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk
