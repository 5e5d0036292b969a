"""The layers depend one way: ``opendesign`` (core) <- ``renderers`` <- ``web``.

Read from the source (every ``import``, at any depth, and every literal
``importlib.import_module("...")``), so an import hidden inside a function
counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import REPO

#: What each layer must never import (top-level package names; ``flask`` covers flask_wtf & co).
FORBIDDEN = {
    "opendesign": ("renderers", "web", "flask"),
    "renderers": ("web", "flask"),
}

#: Imports allowed against the direction while a change is on its way, as exact (file, module)
#: pairs: any other import fails, and so does an entry that no longer matches anything. Empty
#: since opendesign/bundles receives its renderer (issue 10, "One seam, one direction").
PENDING: set[tuple[str, str]] = set()


def _imported_modules(path: Path):
    tree = ast.parse(path.read_bytes(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
        elif (isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name))
              and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            yield node.lineno, node.args[0].value


def _is_under(module: str, package: str) -> bool:
    top = module.partition(".")[0]
    return top == package or (package == "flask" and top.startswith("flask_"))


def _violations(layer: str) -> list[tuple[str, int, str]]:
    found = []
    for path in sorted((REPO / layer).rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        for lineno, module in _imported_modules(path):
            if any(_is_under(module, banned) for banned in FORBIDDEN[layer]):
                found.append((rel, lineno, module))
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_downwards(layer):
    bad = [f"{rel}:{lineno} imports {module}" for rel, lineno, module in _violations(layer)
           if (rel, module) not in PENDING]
    assert bad == [], f"{layer} may not import {', '.join(FORBIDDEN[layer])}:\n" + "\n".join(bad)


def test_pending_exceptions_are_still_needed():
    used = {(rel, module) for layer in FORBIDDEN for rel, _, module in _violations(layer)}
    stale = sorted(PENDING - used)
    assert stale == [], f"these imports are gone: delete them from PENDING: {stale}"


def test_the_check_sees_imports_inside_functions(tmp_path):
    """The checker itself: a nested, a from-import and an import_module call are all found."""
    sample = tmp_path / "sample.py"
    sample.write_text("import os\n"
                      "def f():\n"
                      "    from renderers.service import render\n"
                      "    import web.app\n"
                      "    importlib.import_module('flask_wtf')\n"
                      "from .relative import x\n")
    modules = [m for _, m in _imported_modules(sample)]
    assert modules == ["os", "renderers.service", "web.app", "flask_wtf"]
    assert [m for m in modules if any(_is_under(m, b) for b in FORBIDDEN["opendesign"])] == modules[1:]
