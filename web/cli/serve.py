"""``opendesign serve``: the web catalogue on a production WSGI server.

One process (the default): waitress with threads and the warm render pool.
``--processes N``: N gunicorn worker processes behind one port (see :mod:`web.multiprocess`).
"""

from __future__ import annotations

import logging

import click

from opendesign.cli.base import AppContext, pass_app

log = logging.getLogger(__name__)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Worker threads of the WSGI server.")
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Web processes: 1 serves with waitress in this process; more run gunicorn workers.")
@click.option("--no-warm", is_flag=True, help="Do not start the render pool before serving.")
@pass_app
def serve(app: AppContext, host: str, port: int, threads: int, processes: int, no_warm: bool) -> None:
    """Serve the web catalogue with waitress, or with N gunicorn processes (not the Flask development server)."""
    from waitress import serve as waitress_serve

    from web import create_app

    settings = app.settings
    app.db  # noqa: B018  (migrates the schema before the first request)
    flask_app = create_app({"SETTINGS": settings})
    search = flask_app.extensions["opendesign.search"]
    search.ensure(flask_app.extensions["opendesign.db"].sessionmaker)  # builds the index if it was never built
    if processes > 1:
        # The workers build their own apps; each starts its render pool on its first render, so N pools
        # are not all paying CadQuery's import before the first page.
        from web.multiprocess import serve_processes

        # Nothing opened here may cross the fork: a pooled connection used by two processes breaks both.
        search.close()
        for engine in (flask_app.extensions["opendesign.db"].engine, app.db.engine,
                       getattr(search.index, "engine", None)):
            if engine is not None:
                engine.dispose()
        click.echo(f"opendesign: serving {settings.home} on http://{host}:{port} "
                   f"(gunicorn, {processes} processes x {threads} threads)")
        serve_processes(settings, host, port, processes, threads)
        return
    if not no_warm:
        try:
            flask_app.extensions["opendesign.render"].warm()
        except Exception as exc:  # serving pages matters more than a warm render pool
            click.secho(f"warning: the render pool did not start: {exc}", fg="yellow", err=True)
    from renderers.launcher import plan

    from opendesign.trust import render_mode

    mode = render_mode(settings, plan(settings).isolated)
    if not mode.isolated:
        click.secho(f"warning: {mode.describe()}", fg="yellow", err=True)
    click.echo(f"opendesign: serving {settings.home} on http://{host}:{port} (waitress, {threads} threads)")
    waitress_serve(flask_app, host=host, port=port, threads=threads, ident="opendesign",
                   max_request_body_size=flask_app.config["MAX_CONTENT_LENGTH"] + 1024 * 1024,
                   clear_untrusted_proxy_headers=True)
