"""Telling a job at its memory cap from one that failed on its own (renderers.sandbox.memory).

The end-to-end cases (models in a design folder, rendered in the pool) are in
test_render_sandbox.py; these pin the rule itself and that it can only choose
the category of a failure.
"""

from __future__ import annotations

import os
import signal

from renderers.sandbox import memory, supervisor
from renderers.sandbox.confine import Limits

GiB, MiB = 1024 ** 3, 1024 ** 2
LIMITS = Limits(cpu_seconds=4, memory_bytes=2 * GiB, file_bytes=64 * MiB, wall_seconds=8)
#: What an idle worker forked from the zygote looked like here (VmSize, VmRSS).
IDLE = memory.Baseline(mapped=1315 * MiB, resident=304 * MiB)


def killed(sig: int) -> int:
    return sig  # a wait status: the signal in the low bits


def exited(code: int) -> int:
    return code << 8


class FakeJob:
    limits = LIMITS


def test_the_cap_is_named_in_gib_or_mib():
    assert memory.cap_text(LIMITS) == "2 GiB"
    assert memory.cap_text(Limits(cpu_seconds=1, memory_bytes=1600 * MiB, file_bytes=1)) == "1600 MiB"


def test_near_the_cap_counts_what_was_mapped_before_the_job():
    headroom = 2 * GiB - IDLE.mapped
    assert IDLE.near_cap(LIMITS, IDLE.resident + int(0.96 * headroom))
    assert not IDLE.near_cap(LIMITS, IDLE.resident + 20 * MiB)
    assert not memory.Baseline().near_cap(LIMITS, 2 * GiB)  # nothing known: no guess
    assert not memory.Baseline(mapped=3 * GiB, resident=GiB).near_cap(LIMITS, 2 * GiB)


def test_a_baseline_is_read_from_proc():
    mine = memory.Baseline.of(os.getpid())
    assert mine.mapped >= mine.resident > 0
    assert memory.Baseline.of(2 ** 22 + 12345).mapped == 0  # no such process


def test_only_crashes_and_failed_exits_can_be_the_cap():
    at_cap = IDLE.resident + 700 * MiB
    assert memory.crashed_at_cap(LIMITS, killed(signal.SIGSEGV), IDLE, at_cap, [])
    assert memory.crashed_at_cap(LIMITS, killed(signal.SIGABRT), IDLE, at_cap, [])
    assert not memory.crashed_at_cap(LIMITS, killed(signal.SIGSEGV), IDLE, IDLE.resident, [])
    assert not memory.crashed_at_cap(LIMITS, killed(signal.SIGKILL), IDLE, at_cap, [])
    assert not memory.crashed_at_cap(LIMITS, killed(signal.SIGXCPU), IDLE, at_cap, [])
    assert not memory.crashed_at_cap(LIMITS, exited(0), IDLE, at_cap, [])
    said = ["terminate called after throwing an instance of 'std::bad_alloc'", "  what():  std::bad_alloc"]
    assert memory.crashed_at_cap(LIMITS, killed(signal.SIGABRT), IDLE, IDLE.resident, said)


def test_from_exit_says_too_large_with_the_cap_and_keeps_other_crashes():
    at_cap = IDLE.resident + 700 * MiB
    big = supervisor.from_exit(FakeJob, killed(signal.SIGSEGV), 1.0, False, [], IDLE, at_cap)
    assert big["category"] == "too-large" and "more than 2 GiB, the render memory cap" in big["message"]
    assert "SIGSEGV" in big["message"] and big["ok"] is False
    small = supervisor.from_exit(FakeJob, killed(signal.SIGSEGV), 1.0, False, [], IDLE, IDLE.resident)
    assert small["category"] == "script-error" and "SIGSEGV" in small["message"]
    # The time caps keep their own words, whatever the memory.
    wall = supervisor.from_exit(FakeJob, None, 0.0, True, [], IDLE, at_cap)
    assert wall["category"] == "timeout" and "longer than 8 s" in wall["message"]
    cpu = supervisor.from_exit(FakeJob, killed(signal.SIGXCPU), 4.0, False, [], IDLE, at_cap)
    assert cpu["category"] == "timeout" and "4 s of CPU time" in cpu["message"]


def test_a_report_can_mislabel_its_failure_but_never_make_it_a_success():
    oom = supervisor.from_report({"ok": False, "category": "out-of-memory", "message": "build() failed: the model "
                                  "ran out of memory"}, [], LIMITS)
    assert oom["ok"] is False and oom["category"] == "too-large"
    assert "2 GiB, the render memory cap (build() failed: the model ran out of memory)" in oom["message"]
    claimed = supervisor.from_report({"ok": False, "category": "too-large", "message": "x"}, [], LIMITS)
    assert claimed["ok"] is False and claimed["category"] == "script-error"
    for report in ({"ok": "yes", "category": "out-of-memory"}, {"category": "out-of-memory"}, {"ok": 1}):
        assert supervisor.from_report(report, [], LIMITS)["ok"] is False
