"""A click group that imports a command only when it runs.

This is click's documented lazy-loading group ("Lazily Loading Subcommands" in
click's docs): :meth:`LazyGroup.get_command` imports ``module:attribute`` on
first use. Click's own ``format_commands`` would import every command to get
its one-line help; here the help is read from the command's source instead
(its docstring, or a literal ``help=``/``short_help=`` in its decorator), so
``opendesign --help`` imports no command at all. A command whose help cannot
be found that way is imported, which is slower but never wrong.
"""

from __future__ import annotations

import ast
import importlib
import importlib.machinery
import importlib.util
from collections.abc import Callable, Mapping
from functools import lru_cache

import click


class CommandRegistrationError(click.ClickException):
    """A registered ``module:attribute`` that does not lead to a click command."""


class LazyGroup(click.Group):
    """A group whose subcommands are ``name -> "module:attribute"`` entries, imported on use.

    :param lazy_subcommands: the entries, or a function returning them (called
        once, the first time a command is looked up, so that ``--version``
        does not even read them).
    """

    def __init__(self, *args, lazy_subcommands: Mapping[str, str] | Callable[[], Mapping[str, str]] = (),
                 **kwargs):
        super().__init__(*args, **kwargs)
        self._lazy_source = lazy_subcommands
        self._lazy: dict[str, str] | None = None

    @property
    def lazy_subcommands(self) -> dict[str, str]:
        if self._lazy is None:
            source = self._lazy_source
            self._lazy = dict(source() if callable(source) else source)
        return self._lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_subcommands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_subcommands:
            self.commands[cmd_name] = load_command(cmd_name, self.lazy_subcommands[cmd_name])
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help``, without importing the commands that are not loaded yet."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            help_text = None
            if name not in self.commands:
                help_text = short_help_from_source(name, self.lazy_subcommands[name], limit)
            if help_text is None:
                cmd = self.get_command(ctx, name)
                if cmd is None or cmd.hidden:
                    continue
                help_text = cmd.get_short_help_str(limit)
            rows.append((name, help_text))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def load_command(name: str, target: str) -> click.Command:
    """Import ``module:attribute`` and check that it is a click command."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise CommandRegistrationError(f"command {name!r}: {target!r} is not of the form module:attribute")
    module = importlib.import_module(module_name)
    try:
        cmd = getattr(module, attr)
    except AttributeError:
        raise CommandRegistrationError(f"command {name!r}: {module_name} has no attribute {attr!r}") from None
    if not isinstance(cmd, click.Command):
        raise CommandRegistrationError(f"command {name!r}: {target} is a {type(cmd).__name__}, not a click command "
                                       "(decorate it with @click.command or @click.group)")
    return cmd


def _module_file(module_name: str) -> str | None:
    """The ``.py`` file of *module_name*, found without importing it or its parent packages.

    ``importlib.util.find_spec`` would import the parents (``web`` imports
    Flask), so only the top-level name goes through it; below that each level
    is looked up in its parent's search path.
    """
    parts = module_name.split(".")
    spec = importlib.util.find_spec(parts[0])
    for depth in range(2, len(parts) + 1):
        if spec is None or not spec.submodule_search_locations:
            return None
        spec = importlib.machinery.PathFinder.find_spec(".".join(parts[:depth]), list(spec.submodule_search_locations))
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return spec.origin


def _literal_keyword(decorator: ast.expr, name: str) -> str | None:
    if isinstance(decorator, ast.Call):
        for keyword in decorator.keywords:
            if keyword.arg == name and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
                return keyword.value.value
    return None


@lru_cache(maxsize=64)
def _source(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def _definition_source(source: str, attr: str) -> str | None:
    """Just the decorators and body of top-level ``def attr``, to parse a few lines instead of a module.

    Decorators are the lines above the ``def`` up to the first blank line;
    the body runs to the next line that starts in column 0. When that guess is
    wrong the snippet does not parse or shows no command decorator, and the
    caller parses the whole file instead.
    """
    at = source.find(f"\ndef {attr}(")
    if at < 0:
        return None
    head = source[:at + 1].splitlines(keepends=True)
    start = len(head)
    while start > 0 and head[start - 1].strip() and head[start - 1][0] in "@) \t":
        start -= 1
    body_end = at + 1
    while True:
        newline = source.find("\n", body_end)
        if newline < 0 or newline + 1 >= len(source):
            body_end = len(source)
            break
        body_end = newline + 1
        following = source[body_end]
        if following not in " \t\n":
            break
    return "".join(head[start:]) + source[at + 1:body_end]


def _command_definition(source: str, attr: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in tree.body:
        if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == attr
                and any(_is_command_decorator(d) for d in node.decorator_list)):
            return node
    return None


def short_help_from_source(name: str, target: str, limit: int = 45) -> str | None:
    """The one-line help click would show for *target*, read from its source; ``None`` if not found."""
    module_name, _, attr = target.partition(":")
    try:
        path = _module_file(module_name)
        source = _source(path) if path is not None else None
    except (ImportError, OSError, UnicodeDecodeError, ValueError):
        return None  # the import that follows reports the real problem
    if source is None:
        return None
    snippet = _definition_source(source, attr)
    node = (_command_definition(snippet, attr) if snippet is not None else None) or _command_definition(source, attr)
    if node is None:
        return None
    makers = [d for d in node.decorator_list if _is_command_decorator(d)]
    if len(makers) != 1 or _has_keyword(makers[0], "deprecated"):
        return None  # not a plain @click.command/@click.group (or click adds a label): ask click
    short, long = _literal_keyword(makers[0], "short_help"), _literal_keyword(makers[0], "help")
    # A throwaway command computes the text exactly as click does for the real one.
    stand_in = click.Command(name, help=long or ast.get_docstring(node, clean=False), short_help=short)
    return stand_in.get_short_help_str(limit)


def _is_command_decorator(decorator: ast.expr) -> bool:
    """``@click.command(...)``, ``@click.group(...)`` and the bare forms (not ``@click.option``)."""
    func = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    return name in ("command", "group")


def _has_keyword(decorator: ast.expr, name: str) -> bool:
    return isinstance(decorator, ast.Call) and any(k.arg == name for k in decorator.keywords)
