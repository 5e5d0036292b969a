"""One settings object for the CLI, the web app and the workers.

Precedence: defaults < config file < ``OPENDESIGN_*`` environment variables.
The config file is ``$OPENDESIGN_CONFIG`` if set, else ``$OPENDESIGN_HOME/opendesign.toml``
if it exists. Every field can be set from the environment by its upper-case
name, e.g. ``OPENDESIGN_RENDER_POOL_SIZE=4``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import OpenDesignError

ENV_PREFIX = "OPENDESIGN_"


class ConfigError(OpenDesignError):
    """A config file or environment variable with an invalid value."""


class Settings(BaseModel):
    """Everything configurable, with its default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Holds everything the program writes: catalogue, render cache, search index.
    home: Path = Path("var")
    #: SQLAlchemy URL; default is an SQLite file under ``home``.
    database_url: str = ""
    #: Where ``opendesign import`` looks when given no path.
    designs_dir: Path = Path("designs")
    #: Public base URL, used in bundles and attribution links.
    base_url: str = "http://127.0.0.1:5000"
    secret_key: str = ""

    render_pool_size: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=64)
    render_timeout: float = Field(default=60.0, gt=0)
    render_cpu_seconds: int = Field(default=60, ge=1)
    render_memory_mb: int = Field(default=3072, ge=2048)
    render_max_output_mb: int = Field(default=256, ge=1)
    render_max_triangles: int = Field(default=5_000_000, ge=1000)
    render_use_bwrap: bool = True
    #: Import build123d in the render zygote beside CadQuery, so build123d designs do not pay
    #: its import (seconds) per job; costs zygote start time and memory (benchmarks/zygote.py).
    render_preload_build123d: bool = True
    #: Mesh an STL export on OCC's thread pool (BRepMesh, a thread per core) rather than on the
    #: job's one thread. Measured on 2 cores (benchmarks/scale_render.py --design): faster for a lone
    #: render and no slower with every core's slot busy, so on; off leaves each job one core.
    render_parallel_mesh: bool = True
    #: Address space and CPU seconds of the helper that parses and converts a job's meshes
    #: (renderers.converter); with the per-format costs in renderers.caps they set how many
    #: triangles each format may have before a render fails as too-large.
    render_convert_memory_mb: int = Field(default=3072, ge=512)
    render_convert_seconds: int = Field(default=60, ge=1)
    #: Let designs that are not the operator's own seed (published on the web or the API,
    #: imported from another folder) render although the sandbox is not isolated. Dangerous:
    #: their model code can then read what the server's files and sockets expose.
    render_allow_unsandboxed_untrusted: bool = False
    #: Seconds a render that failed for a reason of the design's own (script error, timeout, too
    #: large...) is answered from memory instead of running again for the same version and parameters.
    render_failure_ttl: float = Field(default=600.0, ge=0)
    #: Render jobs the web process runs at once with no broker (LocalDispatcher threads);
    #: 0 means render_pool_size.
    render_local_workers: int = Field(default=0, ge=0, le=64)
    cache_max_bytes: int = Field(default=2 * 1024**3, ge=1024**2)
    #: Where rendered artifacts live: ``file`` (under ``home``, this host only) or ``postgres`` (in the
    #: catalogue database, shared by every host; each host keeps a verified local copy within
    #: ``cache_max_bytes``).
    artifact_store: Literal["file", "postgres"] = "file"

    search_time_limit: float = Field(default=0.5, gt=0)
    #: ``whoosh`` (an index folder under ``home``) or ``postgres`` (full-text search in the catalogue
    #: database, written in the same transaction as each change). Empty: ``postgres`` when the catalogue
    #: database is PostgreSQL, ``whoosh`` otherwise.
    search_backend: Literal["", "whoosh", "postgres"] = ""

    #: Redis URL (``redis://127.0.0.1:6379/0``): shared rate limits; Celery render workers use it too.
    #: Empty: rate limits are kept in each process's memory.
    broker_url: str = ""
    #: Seconds an unacknowledged render task stays invisible before Redis hands it to another
    #: worker (its worker died mid-render). 0: worked out from ``render_timeout`` so it is always
    #: above the longest render (see renderers.celery_app.visibility_timeout).
    broker_visibility_timeout: float = Field(default=0, ge=0)
    #: Seconds a render job may wait for a Celery worker while none answers (queued, or running with
    #: a silent heartbeat) before it fails saying so. 0: ``render_timeout`` + 15 s, so a poller never
    #: waits much past the render timeout for a render nobody will run (renders.job_sweeper).
    render_unclaimed_timeout: float = Field(default=0, ge=0)
    #: ``/healthz`` reports the disk as low (degraded) below this much free space under ``home``.
    health_min_free_mb: int = Field(default=1024, ge=0)

    @model_validator(mode="after")
    def _search_backend_needs_its_database(self) -> Settings:
        if self.search_backend == "postgres" and not self.database.startswith("postgresql"):
            raise ValueError("search_backend 'postgres' needs a PostgreSQL database_url "
                             f"(the catalogue is {self.database.split(':', 1)[0]}); use 'whoosh' or leave it empty")
        if self.artifact_store == "postgres" and not self.database.startswith("postgresql"):
            raise ValueError("artifact_store 'postgres' needs a PostgreSQL database_url "
                             f"(the catalogue is {self.database.split(':', 1)[0]}); use 'file'")
        return self

    @property
    def search_engine(self) -> str:
        """The search backend in use: the setting, or the default for the catalogue database."""
        if self.search_backend:
            return self.search_backend
        return "postgres" if self.database.startswith("postgresql") else "whoosh"

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'opendesign.db').resolve()}"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"


def _from_env(environ: dict[str, str]) -> dict[str, str]:
    fields = Settings.model_fields
    values = {}
    for key, value in environ.items():
        if key.startswith(ENV_PREFIX):
            name = key[len(ENV_PREFIX):].lower()
            if name in fields:
                values[name] = value
    return values


def load_settings(environ: dict[str, str] | None = None, **overrides) -> Settings:
    """Build :class:`Settings` from defaults, the config file, the environment and *overrides*."""
    environ = dict(os.environ if environ is None else environ)
    env_values = _from_env(environ)
    home = Path(overrides.get("home") or env_values.get("home") or Settings.model_fields["home"].default)
    config_path = environ.get(ENV_PREFIX + "CONFIG")
    file_values: dict = {}
    candidate = Path(config_path) if config_path else home / "opendesign.toml"
    if config_path and not candidate.is_file():
        raise ConfigError(f"{candidate}: config file named by {ENV_PREFIX}CONFIG does not exist")
    if candidate.is_file():
        try:
            file_values = tomllib.loads(candidate.read_text("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{candidate}: not valid TOML: {exc}") from None
    merged = {**file_values, **env_values, **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        source = f"{candidate} / {ENV_PREFIX}* environment" if file_values else f"{ENV_PREFIX}* environment"
        raise ConfigError(f"invalid setting ({source}): {problems}") from None
