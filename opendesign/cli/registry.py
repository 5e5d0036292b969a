"""Where the ``opendesign`` commands live: the ``opendesign.cli`` entry-point group.

Every command, the core's own included, is one line of ``pyproject.toml``::

    [project.entry-points."opendesign.cli"]
    render = "renderers.cli.render:render_command"

so each layer registers its commands and the core never names (or imports)
``renderers`` or ``web``. The group is read from the checkout's
``pyproject.toml`` when the code runs from one (an editable install's metadata
goes stale as soon as a line is added), else from the installed distribution's
metadata. Reading it costs a TOML parse, not an import of any command.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

GROUP = "opendesign.cli"
DISTRIBUTION = "opendesign"


@dataclass(frozen=True)
class Project:
    """The parts of the project's metadata the CLI needs before any command runs."""

    version: str
    #: Command name -> ``"module:attribute"`` of its click command, in declaration order.
    commands: dict[str, str]
    #: Where they were read from (a pyproject.toml path or ``"metadata"``), for error messages.
    source: str


def _checkout_pyproject() -> Path | None:
    """``pyproject.toml`` of the source tree this package was imported from, if it is one."""
    candidate = Path(__file__).resolve().parents[2] / "pyproject.toml"
    return candidate if candidate.is_file() else None


def _from_pyproject(path: Path) -> Project | None:
    import tomllib

    with path.open("rb") as fh:
        project = tomllib.load(fh).get("project", {})
    if project.get("name") != DISTRIBUTION:
        return None
    commands = dict(project.get("entry-points", {}).get(GROUP, {}))
    return Project(version=str(project.get("version", "unknown")), commands=commands, source=str(path))


def _from_metadata() -> Project:
    from importlib import metadata

    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return Project(version="unknown", commands={}, source="metadata (opendesign is not installed)")
    # Other distributions may extend the group too (plugins), so read it across all of them.
    commands = {ep.name: ep.value for ep in metadata.entry_points(group=GROUP)}
    return Project(version=dist.version, commands=commands, source="metadata")


@lru_cache(maxsize=1)
def project() -> Project:
    """The version and the registered commands, read once per process."""
    path = _checkout_pyproject()
    found = _from_pyproject(path) if path is not None else None
    return found if found is not None else _from_metadata()
