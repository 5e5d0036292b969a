"""``opendesign worker``: a Celery worker that renders through this host's sandboxed warm pool.

One worker process per host holds one bubblewrap zygote (:class:`~renderers.pool.WarmPool`);
its ``--concurrency`` is the number of render slots. Celery runs tasks in threads
of this process (never prefork children), so model code only ever runs in the
zygote's confined workers. Without an isolating sandbox the worker refuses to
start unless ``--allow-unsandboxed`` is given.
"""

from __future__ import annotations

import logging
import os
import socket

import click

from opendesign.cli.base import AppContext
from opendesign.config import ConfigError
from opendesign.errors import OpenDesignError

from . import celery_app

log = logging.getLogger(__name__)


class WorkerRefused(OpenDesignError):
    """The worker will not start on this host (no isolating sandbox, no broker)."""

    exit_code = 2


def parse_queues(text: str) -> list[str]:
    names = [q.strip() for q in text.split(",") if q.strip()]
    unknown = [q for q in names if q not in celery_app.QUEUES]
    if unknown or not names:
        raise click.BadParameter(f"{text!r}: expected a comma-separated list of {', '.join(celery_app.QUEUES)}",
                                 param_hint="--queues")
    # Served in the canonical order whatever order they were given in: preview first.
    return [q for q in celery_app.QUEUES if q in names]


def refusal(plan, allow_unsandboxed: bool) -> str | None:
    """Why this host must not run a worker, or None."""
    if plan.isolated or allow_unsandboxed:
        return None
    return (f"refusing to start a render worker: the render sandbox is not isolated ({plan.reason}). "
            "Model code of every queued design would run with this host's filesystem in view. Install "
            "bubblewrap (apt-get install bubblewrap) on every worker host, or pass --allow-unsandboxed "
            "to accept the risk (only seed designs render then, unless render_allow_unsandboxed_untrusted is set)")


@click.command("worker")
@click.option("--queues", "-Q", default=",".join(celery_app.QUEUES), show_default=True,
              help="Queues to serve (preview is always served before batch).")
@click.option("--concurrency", "-c", type=click.IntRange(1, 64), default=None,
              help="Render slots of this host's warm pool (default: render_pool_size).")
@click.option("--allow-unsandboxed", is_flag=True,
              help="Start although bubblewrap cannot isolate the renders (dangerous).")
@click.option("--hostname", "-n", default=None, help="Worker name (default render-<pid>@<host>).")
@click.option("--loglevel", "-l", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
@click.pass_context
def worker(ctx: click.Context, queues: str, concurrency: int | None, allow_unsandboxed: bool,
           hostname: str | None, loglevel: str) -> None:
    """Start a Celery render worker (needs broker_url; renders in this host's sandbox)."""
    from .celery_dispatch import CeleryDispatcher
    from .job_sweeper import Sweeper
    from .launcher import plan as sandbox_plan
    from .pool import WarmPool

    app = ctx.find_object(AppContext) or AppContext(None)
    wanted = parse_queues(queues)
    settings = app.settings
    if not settings.broker_url:
        raise ConfigError("broker_url is not set: a render worker needs the Redis broker the web app uses "
                          "(OPENDESIGN_BROKER_URL=redis://host:6379/0)")
    settings = settings.model_copy(update={"render_pool_size": concurrency or settings.render_pool_size})
    plan = sandbox_plan(settings)
    refused = refusal(plan, allow_unsandboxed)
    if refused:
        raise WorkerRefused(refused)
    if not plan.isolated:
        log.warning("render worker WITHOUT filesystem isolation (--allow-unsandboxed): %s", plan.describe())
    celery = celery_app.make_celery(settings)  # checks the visibility timeout before anything starts
    db = app.db
    pool = WarmPool(settings)
    # Warm the zygote before taking jobs, so the first render does not pay cadquery's import.
    pool.start()
    celery_app.configure_worker(celery_app.WorkerContext(settings, db, pool, tuple(wanted)))
    # Jobs whose message the broker lost (a restart without persistence) are published again.
    sweeper = Sweeper(db, settings, CeleryDispatcher(settings, db)).start()
    name = hostname or f"render-{os.getpid()}@{socket.gethostname()}"
    try:
        celery.worker_main(celery_app.worker_argv(wanted, pool.size, name, loglevel.upper()))
    finally:
        sweeper.stop()
        pool.close()


def main() -> None:
    """``python -m renderers.worker_cli``: the same command before the CLI registers it."""
    import sys

    try:
        worker.main(prog_name="opendesign worker", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except OpenDesignError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
