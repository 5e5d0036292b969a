"""Architecture rules: the core never imports Flask; every CLI command is documented."""

from __future__ import annotations

import subprocess
import sys

import click

from opendesign.cli import main

from .conftest import REPO


def test_core_does_not_import_flask():
    code = (
        "import importlib, pkgutil, sys, opendesign\n"
        "for m in pkgutil.walk_packages(opendesign.__path__, 'opendesign.'):\n"
        "    if '.migrations' in m.name: continue\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n == 'flask' or n.startswith('flask.') or n == 'web')\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def _commands(group: click.Group, prefix: str = "opendesign"):
    # list_commands/get_command, not .commands: the root group loads its commands lazily.
    ctx = click.Context(group, info_name=prefix)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if getattr(cmd, "hidden", False):
            continue
        yield f"{prefix} {name}"
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, f"{prefix} {name}")


def test_every_cli_command_is_in_the_readme():
    readme = (REPO / "README.md").read_text()
    missing = [c for c in _commands(main) if f"`{c}" not in readme]
    assert missing == []
