"""The bubblewrap command line: folders a job's uid must traverse are made 0755."""

from __future__ import annotations

from renderers.launcher import SandboxPlan, bwrap_argv


def _made_dirs(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == "--dir"]


def test_a_checkout_under_tmp_is_reachable_inside_the_sandbox():
    # /tmp is an empty tmpfs in the sandbox: without --dir, bwrap would make /tmp/ci 0700 for the
    # venv bound below it, and a job's uid could not import a module the zygote had not loaded.
    plan = SandboxPlan(mode="bwrap", bwrap="/usr/bin/bwrap", uid_base=None, reason="")
    argv = bwrap_argv(plan, ["python"], ["/tmp/ci/.venv", "/tmp/ci/renderers"])
    assert "/tmp/ci" in _made_dirs(argv)
    assert "/tmp" not in _made_dirs(argv)
    made = argv.index("/tmp/ci") - 1
    assert argv[made - 2:made] == ["--perms", "0755"]
    assert argv.index("--tmpfs") < made < argv.index("/tmp/ci/.venv")


def test_parents_of_system_binds_are_not_made_again():
    plan = SandboxPlan(mode="bwrap", bwrap="/usr/bin/bwrap", uid_base=None, reason="")
    argv = bwrap_argv(plan, ["python"], ["/usr/lib/python3/dist-packages", "/root/.pyenv/versions/3.11.7"])
    assert "/usr/lib" not in _made_dirs(argv) and "/usr" not in _made_dirs(argv)
    assert "/root" in _made_dirs(argv)
