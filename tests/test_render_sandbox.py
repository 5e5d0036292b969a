"""The render sandbox against hostile and broken design scripts.

Every hostile script must end in a clean, categorised RenderError within the
(small, test-sized) time limits, leave no process behind, cache nothing, and
leave the pool able to render the next design.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from opendesign.catalogue.importer import import_designs
from opendesign.config import load_settings
from opendesign.models import Artifact
from renderers import service
from renderers.errors import INVALID_GEOMETRY, SANDBOX_FAILURE, SCRIPT_ERROR, TIMEOUT, TOO_LARGE, RenderError
from renderers.launcher import JOB_UID_BASE
from renderers.pool import RenderJob, WarmPool
from renderers.sandbox import confine

BWRAP = shutil.which("bwrap") is not None
needs_bwrap = pytest.mark.skipif(not BWRAP, reason="filesystem and network isolation need bubblewrap (bwrap)")

BOX = '''import cadquery as cq


def build(params):
    return cq.Workplane("XY").box(params["width"], 10, 5)
'''


def _started_pool(tmp_path_factory, **limits):
    settings = load_settings(environ={}, home=str(tmp_path_factory.mktemp("pool")), render_pool_size=2,
                             render_memory_mb=2048, **limits)
    pool = WarmPool(settings)
    pool.start()
    return pool


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    pool = _started_pool(tmp_path_factory, render_timeout=8, render_cpu_seconds=4)
    yield pool
    pool.close()


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def zygote_pid(pool: WarmPool) -> int:
    """The zygote's host pid (below bwrap when bwrap is used)."""
    top = pool.zygote_pid
    assert top is not None, "the pool has no running zygote"
    for pid in [top, *confine.descendants(top)]:
        if "renderers.sandbox.zygote" in _cmdline(pid) and "bwrap" not in _cmdline(pid).split(" ")[0]:
            return pid
    raise AssertionError("no zygote process found")


def _uid(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/status").read_text().split("Uid:")[1].split()[0])
    except (OSError, IndexError, ValueError):
        return None


def job_processes(pool: WarmPool) -> list[int]:
    """Processes below the zygote other than its idle spares (a supervisor and its waiting worker each).

    As root, job processes are also told apart by their uid; otherwise by count.
    """
    procs = [p for p in confine.descendants(zygote_pid(pool)) if _cmdline(p)]
    by_uid = [p for p in procs if (_uid(p) or 0) >= JOB_UID_BASE]
    extra = procs[2 * pool.spares:] if len(procs) > 2 * pool.spares else []
    return sorted(set(by_uid) | set(extra))


def running_job(pool: WarmPool) -> list[int]:
    """Processes of a job under way. As root, only a worker that took a job runs as a job slot's uid:
    counting processes would also see a spare the zygote is forking, before the job reached it."""
    if os.geteuid() == 0:
        return [p for p in confine.descendants(zygote_pid(pool)) if (_uid(p) or 0) >= JOB_UID_BASE]
    return job_processes(pool)


def leftovers(pool: WarmPool, wait: float = 20.0) -> list[int]:
    """Job processes still alive once the job is over (waits for supervisors to exit)."""
    end = time.monotonic() + wait
    while True:
        left = job_processes(pool)
        if not left or time.monotonic() > end:
            return left
        time.sleep(0.05)


def artifact_count(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count(Artifact.id)))


def cached_files(settings) -> list[Path]:
    objects = settings.cache_dir / "objects"
    return [p for p in objects.rglob("*") if p.is_file()] if objects.exists() else []


@pytest.fixture
def render_design(db, settings, make_design, pool):
    """Import a one-off design with *model*, render it in the shared pool; return the infos."""
    counter = iter(range(1000))

    def run(model: str, params: dict | None = None, formats=("stl",), slug: str | None = None, **manifest):
        slug = slug or f"case-{next(counter)}"
        path = make_design(slug, model=model, **manifest)
        report = import_designs(db, [path])
        assert report.ok, report.as_dict()["errors"]
        return service.render(db, settings, slug, params or {}, list(formats), pool=pool)

    return run


# -- hostile scripts ------------------------------------------------------------------------------

def hostile_cases(secret: Path, port: int, outside: Path) -> dict[str, tuple[str, str, str]]:
    """name -> (model source, expected category, a phrase the message must contain)."""
    ok = 'return cq.Workplane("XY").box(1, 1, 1)'
    return {
        "infinite-loop": ("def build(params):\n    while True:\n        pass\n", TIMEOUT, "s of CPU time"),
        "long-sleep": ("import time\n\ndef build(params):\n    time.sleep(3600)\n", TIMEOUT, "longer than 8 s"),
        "huge-allocation": ("def build(params):\n    block = bytearray(50 * 1024 ** 3)\n    return block\n",
                            TOO_LARGE, "2 GiB, the render memory cap"),
        "fork-bomb": ("import os\n\ndef build(params):\n    while True:\n        try:\n            os.fork()\n"
                      "        except OSError:\n            pass\n", TIMEOUT, ""),
        "socket": (f"import socket\nimport cadquery as cq\n\ndef build(params):\n"
                   f"    socket.create_connection(('127.0.0.1', {port}), timeout=3).close()\n    {ok}\n",
                   SCRIPT_ERROR, "Error"),
        "write-outside-scratch": (f"import cadquery as cq\n\ndef build(params):\n"
                                  f"    open({str(outside)!r}, 'w').write('pwned')\n    {ok}\n", SCRIPT_ERROR, "Error"),
        "write-into-design-folder": (f"import cadquery as cq\n\ndef build(params):\n"
                                     f"    open('model.py', 'a').write('pwned')\n    {ok}\n", SCRIPT_ERROR, "Error"),
        "read-secret-file": (f"import cadquery as cq\n\ndef build(params):\n"
                             f"    open({str(secret)!r}, 'rb').read()\n    {ok}\n", SCRIPT_ERROR, "Error"),
        "read-etc-shadow": (f"import cadquery as cq\n\ndef build(params):\n    open('/etc/shadow').read()\n    {ok}\n",
                            SCRIPT_ERROR, "Error"),
        "output-symlink": ("import os\nimport cadquery as cq\n\n"
                           f"def _evil(self, path, *args, **kwargs):\n    os.symlink({str(secret)!r}, path)\n"
                           "    return True\n\ncq.Shape.exportStl = _evil\n\n"
                           f"def build(params):\n    {ok}\n", SCRIPT_ERROR, "symbolic link"),
        "stdout-flood": ("import sys\nimport cadquery as cq\n\ndef build(params):\n    chunk = 'x' * 1_000_000\n"
                         f"    for _ in range(100):\n        sys.stdout.write(chunk)\n    {ok}\n",
                         SCRIPT_ERROR, "stdout"),
        "impossible-fillet": ("import cadquery as cq\n\ndef build(params):\n"
                              "    return cq.Workplane('XY').box(1, 1, 1).edges().fillet(5)\n",
                              INVALID_GEOMETRY, "geometry kernel"),
    }


CASES = list(hostile_cases(Path("/x"), 1, Path("/y")))
ISOLATION = {"socket", "write-outside-scratch", "read-secret-file"}


@pytest.mark.parametrize("case", CASES)
def test_hostile_script_fails_cleanly(case, render_design, pool, db, settings, tmp_path):
    if case in ISOLATION and not BWRAP:
        pytest.skip("filesystem and network isolation need bubblewrap (bwrap)")
    secret = settings.home / "secret.txt"
    secret.write_text("TOP-SECRET-TOKEN")
    outside = tmp_path / "pwned.txt"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    source, category, phrase = hostile_cases(secret, listener.getsockname()[1], outside)[case]
    before = pool.starts
    with pytest.raises(RenderError) as info:
        render_design(source)
    err = info.value
    assert err.category == category, str(err)
    assert phrase in str(err)
    assert "TOP-SECRET-TOKEN" not in str(err)
    assert err.ref and err.ref.startswith("case-")
    # the attack did nothing outside
    assert not outside.exists()
    with pytest.raises(TimeoutError):
        listener.accept()
    listener.close()
    # nothing cached, nothing left running, the same zygote keeps serving
    assert artifact_count(db) == 0 and cached_files(settings) == []
    assert leftovers(pool) == []
    assert pool.starts == before
    infos = render_design(BOX, {"width": 12})
    assert infos[0].triangles == 12 and infos[0].watertight


def test_a_crash_of_the_worker_is_a_script_error(render_design, pool):
    with pytest.raises(RenderError) as info:
        render_design("import ctypes\n\ndef build(params):\n    ctypes.string_at(0)\n")
    assert info.value.category == SCRIPT_ERROR and "SIGSEGV" in info.value.message
    assert leftovers(pool) == []


# -- the memory cap (the pool's 2 GiB) ------------------------------------------------------------

MEMORY_CAP = "more than 2 GiB, the render memory cap"
#: Python's own allocations until one fails (MemoryError, reported by the worker).
PYTHON_ALLOCATES = "def build(params):\n    blocks = []\n    while True:\n        blocks.append(b'x' * 2 ** 23)\n"
#: OCC's allocator until it fails; the worker usually dies of SIGSEGV inside OCC, or OCP raises
#: Standard_OutOfMemory (either way the cap). OCP's classes are reached through cadquery, which
#: is what model.py may import.
OCC_ALLOCATES = ("from cadquery.occ_impl.shapes import TColgp_Array1OfPnt, gp_Pnt\n\n"
                 "def build(params):\n    arrays = []\n    while True:\n"
                 "        arrays.append(TColgp_Array1OfPnt(1, 1_000_000))\n        arrays[-1].Init(gp_Pnt(1, 2, 3))\n")
#: A crash once the memory is used up (what OCC does when an allocation it does not check fails).
CRASHES_AT_CAP = ("import os\nimport signal\n\ndef build(params):\n    blocks = []\n    try:\n        while True:\n"
                  "            blocks.append(b'x' * 2 ** 23)\n    except MemoryError:\n"
                  "        os.kill(os.getpid(), signal.SIGSEGV)\n")


class TestTheMemoryCap:
    """Filling 2 GiB costs seconds of CPU in page faults on a slow host (once over the module pool's
    4 s in a CI run: a timeout, not the cap), so these renders run where only the memory cap stops them."""

    @pytest.fixture(scope="class")
    @classmethod
    def pool(cls, tmp_path_factory):  # overrides the module's pool for render_design too
        pool = _started_pool(tmp_path_factory, render_timeout=90, render_cpu_seconds=60)
        yield pool
        pool.close()

    @pytest.mark.parametrize("source", [PYTHON_ALLOCATES, OCC_ALLOCATES, CRASHES_AT_CAP],
                             ids=["python", "occ", "crash-at-cap"])
    def test_a_model_over_the_memory_cap_is_too_large(self, source, render_design, pool, db):
        with pytest.raises(RenderError) as info:
            render_design(source)
        assert info.value.category == TOO_LARGE, str(info.value)
        assert MEMORY_CAP in info.value.message and "render_memory_mb" in info.value.message
        assert artifact_count(db) == 0 and leftovers(pool) == []
        assert render_design(BOX, {"width": 12})[0].watertight


@pytest.mark.parametrize("source,phrase", [
    ("def build(params):\n    raise ValueError('the flange is too thin')\n", "ValueError: the flange is too thin"),
    ("import os\nimport signal\n\ndef build(params):\n    os.kill(os.getpid(), signal.SIGSEGV)\n", "SIGSEGV"),
    ("import os\nimport signal\n\ndef build(params):\n    os.kill(os.getpid(), signal.SIGABRT)\n", "SIGABRT"),
], ids=["exception", "segfault", "abort"])
def test_a_small_model_that_fails_is_not_too_large(source, phrase, render_design):
    with pytest.raises(RenderError) as info:
        render_design(source)
    assert info.value.category == SCRIPT_ERROR, str(info.value)
    assert phrase in info.value.message and "memory cap" not in info.value.message


# -- plain mistakes --------------------------------------------------------------------------------

@pytest.mark.parametrize("source,category,phrases", [
    ("import cadquery as cq\n\ndef build(params):\n    x = 1\n    raise ValueError('the flange is too thin')\n",
     SCRIPT_ERROR, ["ValueError: the flange is too thin", 'File "model.py", line 5, in build']),
    ("def build(params):\n    return 42\n", SCRIPT_ERROR, ["int", "Workplane"]),
    ("import cadquery as cq\n\ndef build(params):\n    return cq.Workplane('XY')\n", INVALID_GEOMETRY, ["no shape"]),
    ("import cadquery as cq\n\ndef build(params):\n    return {'body': cq.Workplane().box(1, 1, 1),"
     " 'wing': cq.Workplane().box(2, 2, 2)}\n", SCRIPT_ERROR, ["'wing'", "does not declare"]),
    ("import sys\n\ndef build(params):\n    sys.exit(3)\n", SCRIPT_ERROR, ["SystemExit"]),
    ("import os\n\ndef build(params):\n    os._exit(0)\n", SCRIPT_ERROR, ["without reporting a result"]),
    ("def build(params):\n    return build(params)\n", SCRIPT_ERROR, ["recursed too deeply"]),
])
def test_broken_scripts_give_categorised_errors(source, category, phrases, render_design, db):
    with pytest.raises(RenderError) as info:
        render_design(source)
    assert info.value.category == category, str(info.value)
    for phrase in phrases:
        assert phrase in str(info.value)
    assert artifact_count(db) == 0


@pytest.mark.parametrize("source,phrase", [
    ("def build(params):\n    return (\n", "line 2: syntax error"),
    ("import cadquery as cq\n", "no build(params) function"),
    ("import cadquery as cq\n\ndef build(params):\n    return cq.Workplane().box(1, 1, 1)\n\nraise KeyError('x')\n",
     "importing model.py failed: KeyError"),
])
def test_scripts_the_importer_refuses_fail_in_the_pool_too(source, phrase, pool):
    """The importer rejects these already; the pool must not rely on that."""
    with pytest.raises(RenderError) as info:
        pool.render(RenderJob(files={"model.py": source.encode()}, params={}))
    assert info.value.category == SCRIPT_ERROR and phrase in str(info.value)


def test_invalid_parameters_are_refused_before_anything_runs(render_design, pool):
    with pytest.raises(RenderError) as info:
        render_design(BOX, {"width": "1e308", "bogus": 1})
    assert info.value.category == "invalid-params"
    assert set(info.value.fields) == {"width", "bogus"}


# -- what a worker sees ----------------------------------------------------------------------------

def test_the_worker_environment_is_bare(render_design):
    checks = '''import os
import cadquery as cq


def build(params):
    problems = []
    extra = set(os.environ) - {"HOME", "TMPDIR", "PATH", "LANG"}
    if extra:
        problems.append(f"environment leaks {sorted(extra)}")
    status = open("/proc/self/status").read()
    if "NoNewPrivs:\\t1" not in status:
        problems.append("no_new_privs is not set")
    if "CapEff:\\t0000000000000000" not in status:
        problems.append("capabilities remain")
    for fd in os.listdir("/proc/self/fd"):
        if int(fd) > 3 and os.path.exists(f"/proc/self/fd/{fd}"):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if "socket" in target:
                problems.append(f"inherited socket fd {fd}")
    if os.geteuid() == 0:
        problems.append("still root")
    import resource
    if resource.getrlimit(resource.RLIMIT_NPROC)[0] in (resource.RLIM_INFINITY, -1):
        problems.append("no process limit")
    if problems:
        raise RuntimeError("; ".join(problems))
    open(os.path.join(os.environ["HOME"], "scratch.txt"), "w").write("scratch is writable")
    import decimal, fractions, statistics, random  # stdlib modules the zygote did not preload
    return cq.Workplane("XY").box(float(fractions.Fraction(3, 2)), 1, 1)
'''
    if os.geteuid() != 0:
        checks = checks.replace('    if os.geteuid() == 0:\n        problems.append("still root")\n', "")
    infos = render_design(checks)
    assert infos[0].bbox[1][0] - infos[0].bbox[0][0] == pytest.approx(1.5)


@needs_bwrap
def test_the_worker_sees_a_read_only_system_and_no_host_processes(render_design, settings):
    probe = f'''import os
import cadquery as cq


def build(params):
    problems = []
    if os.path.exists({str(settings.home)!r}):
        problems.append("OPENDESIGN_HOME is visible")
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    if len(pids) > 20:
        problems.append(f"{{len(pids)}} processes visible")
    for path in ("/usr/pwned", "/tmp/pwned", "/jobs/pwned"):
        try:
            open(path, "w")
            problems.append(f"wrote {{path}}")
        except OSError:
            pass
    if problems:
        raise RuntimeError("; ".join(problems))
    return cq.Workplane("XY").box(1, 1, 1)
'''
    render_design(probe)


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the seccomp filter is written for x86_64")
def test_the_kernel_surface_is_narrowed_by_seccomp(render_design):
    probe = """import ctypes
import os
import threading
import cadquery as cq

libc = ctypes.CDLL(None, use_errno=True)


def build(params):
    attempts = {
        "new user namespace": lambda: libc.unshare(0x10000000),
        "new network namespace": lambda: libc.unshare(0x40000000),
        "clone into a new pid namespace": lambda: libc.syscall(56, 0x20000000 | 17, 0, 0, 0, 0),
        "io_uring": lambda: libc.syscall(425, 8, ctypes.c_void_p(0)),
        "ptrace": lambda: libc.ptrace(16, 1, 0, 0),
        "mount": lambda: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None),
        "bpf": lambda: libc.syscall(321, 0, 0, 0),
        "keyctl": lambda: libc.syscall(250, 0, 0, 0),
        "userfaultfd": lambda: libc.syscall(323, 0),
    }
    allowed = [name for name, attempt in attempts.items() if attempt() != -1]
    if allowed:
        raise RuntimeError(f"allowed: {allowed}")
    thread = threading.Thread(target=lambda: None)
    thread.start()
    thread.join()
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    assert os.waitpid(pid, 0)[1] >> 8 == 7
    return cq.Workplane("XY").box(3, 3, 3).edges().fillet(0.5)
"""
    assert render_design(probe)[0].watertight


# -- multi-part results ----------------------------------------------------------------------------

PARTS = [{"name": "body", "material": "PETG", "process": "fdm", "quantity": 1},
         {"name": "lid", "material": "PETG", "process": "fdm", "quantity": 1}]


@pytest.mark.parametrize("style", ["dict", "assembly"])
def test_multi_part_designs_give_a_file_per_part_and_the_whole(style, render_design):
    if style == "dict":
        body = "    return {'body': cq.Workplane().box(10, 10, 10), 'lid': cq.Workplane().box(10, 10, 2)}\n"
    else:
        body = ("    a = cq.Assembly(name='model')\n    a.add(cq.Workplane().box(10, 10, 10), name='body')\n"
                "    a.add(cq.Workplane().box(10, 10, 2), name='lid', loc=cq.Location((0, 0, 20)))\n    return a\n")
    infos = render_design("import cadquery as cq\n\ndef build(params):\n" + body, formats=["stl", "step"],
                          parts=PARTS)
    assert [(i.format, i.part) for i in infos] == [("stl", None), ("stl", "body"), ("stl", "lid"),
                                                 ("step", None), ("step", "body"), ("step", "lid")]
    whole, body_, lid = infos[:3]
    assert whole.triangles == body_.triangles + lid.triangles
    assert whole.volume == pytest.approx(1000 + 200, rel=1e-3)
    assert whole.watertight and body_.watertight and lid.watertight
    if style == "assembly":
        assert lid.bbox[0][2] == pytest.approx(19.0) and whole.bbox[1][2] == pytest.approx(21.0)
    assert all(i.filename.endswith(f"-{i.part}.{i.format}") for i in infos if i.part)


# -- the pool survives its zygote --------------------------------------------------------------------

def test_a_killed_zygote_is_replaced(render_design, pool):
    starts = pool.starts
    os.kill(pool.zygote_pid, signal.SIGKILL)
    time.sleep(0.1)
    infos = render_design(BOX, {"width": 7})
    assert infos[0].triangles == 12
    assert pool.starts == starts + 1


def test_a_zygote_killed_mid_render_fails_that_render_only(render_design, pool):
    sleeper = "import time\n\ndef build(params):\n    time.sleep(30)\n"
    errors: list[Exception] = []

    def run():
        try:
            render_design(sleeper, slug="sleeper")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    assert leftovers(pool) == []  # quiet first, so the process we wait for below is this job's
    thread = threading.Thread(target=run)
    thread.start()
    end = time.monotonic() + 20
    while not running_job(pool) and time.monotonic() < end:
        time.sleep(0.05)
    assert running_job(pool), "the sleeper never started"
    os.kill(pool.zygote_pid, signal.SIGKILL)
    thread.join(30)
    assert len(errors) == 1 and isinstance(errors[0], RenderError)
    assert errors[0].category == SANDBOX_FAILURE
    assert render_design(BOX)[0].watertight


# -- without bubblewrap ---------------------------------------------------------------------------------

def test_without_bwrap_the_pool_still_confines_and_says_so(tmp_path, caplog):
    settings = load_settings(environ={}, home=str(tmp_path / "nobwrap"), render_pool_size=1, render_timeout=4,
                             render_cpu_seconds=3, render_memory_mb=2048, render_use_bwrap=False)
    with caplog.at_level("WARNING", logger="renderers.pool"):
        pool = WarmPool(settings)
    assert "NONE" in caplog.text and "render_use_bwrap" in caplog.text
    assert pool.sandbox.mode == "none"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        ok = pool.render(RenderJob(files={"model.py": BOX.encode()}, params={"width": 3}))
        assert "model.stl" in ok.files
        bomb = hostile_cases(Path("/x"), listener.getsockname()[1], Path("/y"))
        for case, category in (("fork-bomb", TIMEOUT), ("huge-allocation", TOO_LARGE), ("socket", SCRIPT_ERROR)):
            with pytest.raises(RenderError) as info:
                pool.render(RenderJob(files={"model.py": bomb[case][0].encode()}, params={}))
            assert info.value.category == category, str(info.value)
            assert leftovers(pool) == []
        listener.settimeout(0.2)
        with pytest.raises(TimeoutError):
            listener.accept()
        assert "model.stl" in pool.render(RenderJob(files={"model.py": BOX.encode()}, params={"width": 3})).files
    finally:
        listener.close()
        pool.close()
