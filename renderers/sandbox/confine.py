"""Process confinement used inside the sandbox: limits, privilege drop, killing a job's tree.

Standard library only: this module runs in the zygote, in job supervisors and
in workers, where nothing of the application is importable.
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import signal
import struct
import time
from dataclasses import dataclass

_libc = ctypes.CDLL(None, use_errno=True)

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38


def _prctl(option: int, arg: int = 0) -> None:
    if _libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}): {os.strerror(err)}")


CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


def unshare_network() -> None:
    """Move into a new, empty network namespace (as root directly, else inside a new user namespace)."""
    flags = CLONE_NEWNET if os.geteuid() == 0 else CLONE_NEWUSER | CLONE_NEWNET
    if _libc.unshare(flags) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"cannot cut the network off (unshare: {os.strerror(err)}); install bubblewrap")


def set_pdeathsig(sig: int = signal.SIGKILL) -> None:
    """Be killed with *sig* when the parent (thread) that forked us dies."""
    _prctl(PR_SET_PDEATHSIG, sig)


def set_child_subreaper() -> None:
    """Orphaned descendants are re-parented to us, so none escape :func:`kill_descendants`."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1)


def set_no_new_privs() -> None:
    """execve can never grant privileges again (setuid binaries, file capabilities)."""
    _prctl(PR_SET_NO_NEW_PRIVS, 1)


def set_undumpable() -> None:
    """No core dumps and no ptrace attach by processes of the same uid."""
    _prctl(PR_SET_DUMPABLE, 0)


def drop_bounding_set() -> None:
    """Remove every capability from the bounding set (needs CAP_SETPCAP, i.e. root)."""
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            last = int(f.read())
    except OSError:
        last = 40
    for cap in range(last + 1):
        try:
            _prctl(PR_CAPBSET_DROP, cap)
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise


@dataclass(frozen=True)
class Limits:
    """Resource limits of one render worker."""

    cpu_seconds: int
    memory_bytes: int
    file_bytes: int
    open_files: int = 256
    processes: int = 64
    wall_seconds: float = 60.0
    #: Most bytes of output files a job may hand back, all files together.
    output_bytes: int = 512 * 1024 * 1024
    #: The job folder's own disk (a tmpfs of this size, beyond its inputs); 0: no quota of its own.
    disk_bytes: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def apply_limits(limits: Limits) -> None:
    """Set soft = hard limits; CPU gets a one-second grace between SIGXCPU and SIGKILL."""
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def drop_privileges(uid: int, gid: int) -> None:
    """Become *uid*/*gid* for good: no supplementary groups, real = effective = saved."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (gid, gid, gid):
        raise OSError("privilege drop did not take effect")


def close_fds(keep: set[int]) -> None:
    """Close every inherited descriptor except *keep* (control sockets must not leak)."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def children(pid: int) -> list[int]:
    """Direct children of *pid* (every thread's), from /proc."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found.extend(int(x) for x in f.read().split())
        except OSError:
            continue
    return found


def descendants(pid: int) -> list[int]:
    seen: list[int] = []
    stack = children(pid)
    while stack:
        child = stack.pop()
        if child in seen:
            continue
        seen.append(child)
        stack.extend(children(child))
    return seen


def reap_children() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_uid(uid: int, gid: int) -> None:
    """SIGKILL every process of *uid* visible here (needs root; used with per-job uids).

    ``kill(-1, SIGKILL)`` from a helper running as *uid* reaches every process
    that uid owns, however it forked or whatever session it made, and the
    kernel aborts a fork whose parent is being killed, so a fork bomb cannot
    outrun it. Within bubblewrap's pid namespace it sees only the sandbox.
    """
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
            for _ in range(1000):
                os.kill(-1, signal.SIGKILL)  # raises ProcessLookupError once none is left
        except BaseException:  # noqa: BLE001
            pass
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def kill_descendants(deadline: float = 5.0) -> bool:
    """SIGKILL every descendant of this process (a subreaper) and reap them.

    Descendants are first stopped until no new one appears (a stopped process
    cannot fork), then killed; orphans re-parented to us are caught on the next
    round. Returns whether none is left.
    """
    me = os.getpid()
    end = time.monotonic() + deadline
    while True:
        frozen: set[int] = set()
        while time.monotonic() < end:
            new = [pid for pid in descendants(me) if pid not in frozen]
            if not new:
                break
            for pid in new:
                signal_quietly(pid, signal.SIGSTOP)
                frozen.add(pid)
        for pid in frozen:
            signal_quietly(pid, signal.SIGKILL)
        reap_children()
        left = descendants(me)
        if not left or time.monotonic() > end:
            return not left
        time.sleep(0.002)


def signal_quietly(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except OSError:
        pass


# -- seccomp ------------------------------------------------------------------------------------

#: x86_64 system calls a render never needs and that widen the kernel surface a
#: hostile script could attack: tracing other processes, namespaces and mounts,
#: keyrings, BPF, io_uring, userfaultfd, perf, modules, kexec, raw I/O ports.
DENIED_SYSCALLS_X86_64 = {
    "ptrace": 101, "syslog": 103, "personality": 135, "vhangup": 153, "pivot_root": 155, "chroot": 161,
    "acct": 163, "mount": 165, "umount2": 166, "swapon": 167, "swapoff": 168, "reboot": 169, "iopl": 172,
    "ioperm": 173, "init_module": 175, "delete_module": 176, "quotactl": 179, "lookup_dcookie": 212,
    "io_setup": 206, "io_destroy": 207, "io_getevents": 208, "io_submit": 209, "io_cancel": 210,
    "kexec_load": 246, "add_key": 248, "request_key": 249, "keyctl": 250, "unshare": 272,
    "perf_event_open": 298, "fanotify_init": 300, "name_to_handle_at": 303, "open_by_handle_at": 304,
    "setns": 308, "process_vm_readv": 310, "process_vm_writev": 311, "finit_module": 313,
    "kexec_file_load": 320, "bpf": 321, "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427, "io_pgetevents": 333, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431,
    "fsmount": 432, "fspick": 433, "mount_setattr": 442,
}
_NR_CLONE, _NR_CLONE3 = 56, 435
_AUDIT_ARCH_X86_64 = 0xC000003E
_CLONE_NAMESPACES = 0x7E020000  # NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET (and NEWTIME below)
_CLONE_NEWTIME = 0x80
_SECCOMP_RET_KILL_PROCESS = 0x80000000
_SECCOMP_RET_ERRNO = 0x00050000
_SECCOMP_RET_ALLOW = 0x7FFF0000
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2


def _bpf(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def seccomp_program() -> bytes:
    """A classic-BPF seccomp filter: deny :data:`DENIED_SYSCALLS_X86_64` and namespace-creating clones."""
    ld_w_abs, jeq_k, jge_k, jset_k, ret_k = 0x20, 0x15, 0x35, 0x45, 0x06
    eperm = _SECCOMP_RET_ERRNO | errno.EPERM
    denied = sorted(DENIED_SYSCALLS_X86_64.values())
    prog = [
        _bpf(ld_w_abs, 0, 0, 4),                                   # arch
        _bpf(jeq_k, 1, 0, _AUDIT_ARCH_X86_64),
        _bpf(ret_k, 0, 0, _SECCOMP_RET_KILL_PROCESS),
        _bpf(ld_w_abs, 0, 0, 0),                                   # syscall number
        _bpf(jge_k, 0, 1, 0x40000000),                             # the x32 ABI: refuse
        _bpf(ret_k, 0, 0, eperm),
        _bpf(jeq_k, 0, 1, _NR_CLONE3),                             # clone3 hides its flags: ENOSYS makes
        _bpf(ret_k, 0, 0, _SECCOMP_RET_ERRNO | errno.ENOSYS),      # libc fall back to clone
        _bpf(jeq_k, 0, 4, _NR_CLONE),
        _bpf(ld_w_abs, 0, 0, 16),                                  # clone's flags (low word of args[0])
        _bpf(jset_k, 1, 0, _CLONE_NAMESPACES | _CLONE_NEWTIME),
        _bpf(ret_k, 0, 0, _SECCOMP_RET_ALLOW),
        _bpf(ret_k, 0, 0, eperm),
    ]
    for i, nr in enumerate(denied):
        remaining = len(denied) - i - 1
        prog.append(_bpf(jeq_k, remaining + 1, 0, nr))             # match -> the final ERRNO return
    prog.append(_bpf(ret_k, 0, 0, _SECCOMP_RET_ALLOW))
    prog.append(_bpf(ret_k, 0, 0, eperm))
    return b"".join(prog)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def seccomp_supported() -> bool:
    return os.uname().machine == "x86_64"


def apply_seccomp() -> None:
    """Install the filter for this process and its future children (needs no_new_privs first)."""
    program = seccomp_program()
    buf = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    if _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp: {os.strerror(err)}")
