"""Each job's private view of the filesystem: its own mount namespace, disk quota and /proc.

A spare supervisor calls :func:`private_namespace` before it forks its worker,
so the supervisor, the worker and everything the job starts share one mount
namespace that nothing else sees, and that the kernel tears down with the last
of them. In it:

- ``/proc`` is mounted afresh with ``hidepid=invisible``: a job's uid sees its
  own processes only, never the command lines of the host's or other jobs'.
- Without bubblewrap (the host's filesystem is in view), fresh, tiny, read-only
  for the job tmpfs mounts hide ``OPENDESIGN_HOME``, the database folder, the
  config file, ``/tmp``, ``/var/tmp``, ``/dev/shm`` and ``/run`` (where the
  PostgreSQL and other local sockets live).

:func:`job_disk` then mounts a size-capped tmpfs as the job's folder: a job
that fills its disk fills only its own (``disk-full``), never a neighbour's.

Needs CAP_SYS_ADMIN (root, or root in bubblewrap); without it each step is
skipped and the job runs as before. Standard library only (runs in the sandbox).
"""

from __future__ import annotations

import ctypes
import os
import sys

_libc = ctypes.CDLL(None, use_errno=True)

CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x2, 0x4, 0x8
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
MNT_DETACH = 2
#: Always hidden when the host's filesystem is in view (no bubblewrap).
SCRATCH_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run")
#: Free space below which a job's disk counts as full (tmpfs rounds to pages).
FULL_SLACK = 64 * 1024


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None) -> None:
    enc = [None if v is None else v.encode() for v in (source, target, fstype, data)]
    _check(_libc.mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]), f"mount {target}")


def umount(target: str) -> None:
    _check(_libc.umount2(target.encode(), MNT_DETACH), f"umount {target}")


def _inside(path: str, ancestor: str) -> bool:
    return path == ancestor or path.startswith(ancestor.rstrip("/") + "/")


def _needed() -> list[str]:
    """Folders the sandbox's own code lives in: never hidden, whatever the settings say."""
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return [os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, here)]


def private_namespace(jobs_dir: str, hide: list[str], isolated: bool) -> bool:
    """Enter a mount namespace of our own and arrange it (see the module docstring).

    :param hide: host paths to cover when not *isolated* (folders get an empty
        tmpfs, files an empty file).
    :returns: whether the namespace exists (False without CAP_SYS_ADMIN).
    """
    if _libc.unshare(CLONE_NEWNS) != 0:
        return False
    try:
        mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we mount leaks back to the host
    except OSError:
        return False
    if not isolated:
        needed = _needed()
        for path in [*hide, *SCRATCH_DIRS]:
            path = os.path.realpath(path)
            if any(_inside(n, path) for n in needed) or not os.path.exists(path):
                continue
            try:
                if os.path.isdir(path):
                    mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=0755")
                else:
                    mount("/dev/null", path, None, MS_BIND)
            except OSError as exc:
                print(f"supervisor: cannot hide {path}: {exc}", file=sys.stderr)
        # The jobs folder sat in the host's /tmp, now covered: make it again, in this namespace only.
        os.makedirs(jobs_dir, 0o711, exist_ok=True)
    try:
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible")
    except OSError as exc:
        print(f"supervisor: cannot remount /proc with hidepid: {exc}", file=sys.stderr)
    return True


def job_disk(root: str, size_bytes: int) -> bool:
    """Mount a tmpfs of *size_bytes* on the (empty) job folder *root*; False if it cannot be."""
    if size_bytes <= 0:
        return False
    try:
        mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size_bytes},mode=0711")
    except OSError:
        return False
    return True


def release_job_disk(root: str) -> None:
    try:
        umount(root)
    except OSError:
        pass


def disk_full(path: str) -> bool:
    """Whether the filesystem holding *path* has (next to) no free space left."""
    try:
        st = os.statvfs(path)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < FULL_SLACK
