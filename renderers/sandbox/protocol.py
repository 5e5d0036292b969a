"""Framing between the host and a job supervisor: a JSON header, then binary blobs.

One frame is ``u32 header length | header JSON | blob bytes...``; the header's
``"blobs"`` entry lists each blob's length. Every read is bounded (header
size, total size, deadline), because the other end may be hostile or dead.
Standard library only (runs inside the sandbox too).
"""

from __future__ import annotations

import json
import socket
import struct
import time

MAX_HEADER = 4 * 1024 * 1024
_LEN = struct.Struct("!I")


class ProtocolError(Exception):
    """The peer closed the channel early, sent garbage, exceeded a limit or timed out."""


class PeerClosed(ProtocolError):
    pass


class Timeout(ProtocolError):
    pass


def send_frame(sock: socket.socket, header: dict, blobs: list[bytes] = ()) -> None:
    header = dict(header, blobs=[len(b) for b in blobs])
    data = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    sock.sendall(_LEN.pack(len(data)) + data)
    for blob in blobs:
        sock.sendall(blob)


def _recv_exact(sock: socket.socket, size: int, deadline: float | None) -> bytes:
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    while got < size:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Timeout("timed out waiting for the peer")
            sock.settimeout(remaining)
        try:
            n = sock.recv_into(view[got:], min(size - got, 1 << 20))
        except TimeoutError:
            raise Timeout("timed out waiting for the peer") from None
        except OSError as exc:
            raise PeerClosed(f"channel failed: {exc}") from None
        if n == 0:
            raise PeerClosed("the peer closed the channel")
        got += n
    return bytes(buf)


def recv_frame(sock: socket.socket, *, max_total: int, deadline: float | None = None,
               max_header: int = MAX_HEADER) -> tuple[dict, list[bytes]]:
    header = recv_header(sock, max_total=max_total, deadline=deadline, max_header=max_header)
    return header, [_recv_exact(sock, n, deadline) for n in header.get("blobs", [])]


def recv_header(sock: socket.socket, *, max_total: int, deadline: float | None = None,
                max_header: int = MAX_HEADER) -> dict:
    """A frame's header, checked; its blobs (sizes in ``header["blobs"]``) are still to be read.

    For a reader that streams the blobs somewhere else than memory (the host spools them to disk).
    """
    (length,) = _LEN.unpack(_recv_exact(sock, _LEN.size, deadline))
    if length > max_header:
        raise ProtocolError(f"header of {length} bytes exceeds {max_header}")
    try:
        header = json.loads(_recv_exact(sock, length, deadline))
    except ValueError:
        raise ProtocolError("header is not JSON") from None
    if not isinstance(header, dict):
        raise ProtocolError("header is not an object")
    sizes = header.get("blobs", [])
    if not isinstance(sizes, list) or not all(isinstance(n, int) and n >= 0 for n in sizes):
        raise ProtocolError("bad blob sizes")
    if sum(sizes) > max_total:
        raise ProtocolError(f"{sum(sizes)} bytes of blobs exceed the limit of {max_total}")
    return header
