"""Telling a job that ran out of its memory cap from one that failed on its own.

A worker's address space is capped (``RLIMIT_AS``, :attr:`.confine.Limits.memory_bytes`).
An honest model over the cap ends in one of three ways: Python raises
``MemoryError`` (C++'s ``std::bad_alloc`` becomes one through pybind11), OCC's
allocator raises ``Standard_OutOfMemory``, or OCC dereferences the allocation it
did not get and the worker dies of SIGSEGV (or aborts on an uncaught
``bad_alloc``). The first two the worker reports (category ``out-of-memory``);
for a crash the supervisor, which reaps the worker, has the worker's peak
resident size (``wait4``'s ``ru_maxrss``).

The resident peak alone understates the address space: a worker forked from
the zygote starts with ~1.3 GB mapped of which only ~0.3 GB is resident
(libraries, reserved arenas). So the supervisor reads the idle worker's mapped
and resident sizes just before it hands over the job, and a crash counts as
memory exhaustion when the resident peak, plus what was mapped but not resident
at the start, comes within :data:`NEAR` of the cap.

None of this can turn a failure into a success: it only chooses the category
of a job that has already failed. The evidence that comes from the job (its
report, its log) is the job's to forge, which only mislabels its own failure.
"""

from __future__ import annotations

import os
import re
import signal

from .confine import Limits

TOO_LARGE = "too-large"
#: A crashed job whose estimated address space reached this share of its headroom
#: (cap minus what the idle worker had mapped) ran out of memory. Measured (2 GiB cap):
#: a CadQuery model meshing at a tiny deflection died of SIGSEGV at 96% of it, one filling
#: OCC arrays at 100%; a small model that crashes is near 0%. The estimate misses what the
#: job maps without touching: a model that first imports a module the zygote had not
#: (cadquery.occ_impl.nurbs maps ~120 MB of it) and then dies at the cap reads ~85%.
NEAR = 0.8
#: Signals an allocation failure ends in: a null dereference, an abort (uncaught
#: std::bad_alloc, glibc's malloc checks), a bus error on an unbacked mapping.
CRASHES = {signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS}
#: What the C++ runtime or OCC prints when an allocation fails and nothing catches it.
_SAID = re.compile(r"std::bad_alloc|Standard_OutOfMemory|MemoryError|Cannot allocate memory")


class Baseline:
    """The idle worker's mapped and resident bytes before the job runs (``/proc/<pid>/status``)."""

    def __init__(self, mapped: int = 0, resident: int = 0):
        self.mapped, self.resident = mapped, resident

    @classmethod
    def of(cls, pid: int) -> Baseline:
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
                text = f.read()
        except OSError:
            return cls()
        sizes = {k: int(v) * 1024 for k, v in re.findall(r"^(VmSize|VmRSS):\s+(\d+) kB", text, re.M)}
        return cls(sizes.get("VmSize", 0), sizes.get("VmRSS", 0))

    def near_cap(self, limits: Limits, peak_resident: int) -> bool:
        """Whether a worker whose resident peak was *peak_resident* bytes used up its address space."""
        if not self.mapped or self.mapped >= limits.memory_bytes:
            return False
        headroom = limits.memory_bytes - self.mapped
        used = peak_resident - self.resident
        return used >= NEAR * headroom


def cap_text(limits: Limits) -> str:
    mib = limits.memory_bytes / (1024 * 1024)
    return f"{mib / 1024:g} GiB" if mib >= 1024 and mib % 1024 == 0 else f"{mib:.0f} MiB"


def too_large(limits: Limits, detail: str = "") -> str:
    """The message of a job stopped at its memory cap (what the user can do about it included)."""
    why = f" ({detail})" if detail else ""
    return (f"the model needed more than {cap_text(limits)}, the render memory cap{why}; make it simpler "
            "(fewer or coarser features) or ask the operator to raise render_memory_mb")


def crashed_at_cap(limits: Limits, status: int, baseline: Baseline, peak_resident: int, log: list[str]) -> bool:
    """Whether a worker that ended without a report (exit *status*) ran out of memory."""
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) not in CRASHES:
        return False  # SIGKILL, SIGXCPU: the time caps or the kernel, told apart by the caller
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return False
    return baseline.near_cap(limits, peak_resident) or any(_SAID.search(line) for line in log[-5:])
