"""``opendesign serve --processes N`` (N > 1): the web app in N gunicorn worker processes behind one port.

Each worker builds its own app (``preload_app`` off): the database engines,
pools and caches of one process are never shared with another across a fork.
The workers agree on what they may serve through the shared catalogue
generation (:mod:`opendesign.generation`, checked on every request), and with
the PostgreSQL search backend they search one index in the catalogue database.
With the Whoosh backend they read the same index folder, which each writer
swaps atomically.
"""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

from opendesign.config import Settings


class _Catalogue(BaseApplication):
    def __init__(self, settings: Settings, options: dict):
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from . import create_app

        return create_app({"SETTINGS": self.settings})


def serve_processes(settings: Settings, host: str, port: int, processes: int, threads: int) -> None:
    """Run *processes* gunicorn workers of *threads* threads each until the master is stopped."""
    _Catalogue(settings, {
        "bind": f"{host}:{port}",
        "workers": processes,
        "worker_class": "gthread",
        "threads": threads,
        # A render or a bundle may take a while; the render timeout bounds the work itself.
        "timeout": max(60, int(settings.render_timeout) + 30),
        "accesslog": None,
        "proc_name": "opendesign",
        "max_requests": 0,
        "forwarded_allow_ips": "127.0.0.1",
    }).run()
