"""The opendesign web catalogue: a Flask application factory.

Configuration, lowest precedence first: :data:`DEFAULTS`, the instance
config file (``instance/config.py``), ``OPENDESIGN_*`` environment variables
(through the shared :class:`~opendesign.config.Settings` for the core
settings, and ``app.config.from_prefixed_env`` for the web-only keys), then
*test_config*.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask
from flask_wtf import CSRFProtect

from opendesign.config import Settings, load_settings
from opendesign.db import Database
from opendesign.home import secure_home

csrf = CSRFProtect()

REPO_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS = {
    # Uploads (a design zip) larger than this are refused with 413 before they are read.
    "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SECURE": False,
    "PERMANENT_SESSION_LIFETIME": 14 * 24 * 3600,
    "WTF_CSRF_TIME_LIMIT": None,
    "NODE_MODULES": str(REPO_ROOT / "node_modules"),
    "SEARCH_PAGE_SIZE": 20,
    "LISTING_PAGE_SIZE": 24,
    #: Seconds the render endpoints wait for a render before answering 202 with a job URL.
    "RENDER_WAIT_SECONDS": 20.0,
    #: Request threads that may wait for a render at once; further render requests answer 202 at
    #: once, so a burst of renders never holds the threads the pages need (waitress runs 8).
    "RENDER_WAITERS": 2,
}


def _settings_from(config: dict, environ: dict[str, str]) -> Settings:
    """Shared settings, with core settings from the instance config below the environment."""
    overrides = {}
    for name in Settings.model_fields:
        key = name.upper()
        if key in config and f"OPENDESIGN_{key}" not in environ:
            overrides[name] = config[key]
    return load_settings(environ, **overrides)


def _secret_key(settings: Settings) -> str:
    """The configured secret key, else one generated once and kept in ``$OPENDESIGN_HOME``."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.home / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("OPENDESIGN")
    if test_config:
        app.config.from_mapping(test_config)

    settings = app.config.get("SETTINGS")
    if not isinstance(settings, Settings):
        settings = _settings_from(app.config, dict(os.environ))
    app.config["SETTINGS"] = settings
    secure_home(settings.home)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(settings)

    database = app.config.get("DATABASE") or Database(settings)
    if app.config.get("MIGRATE", True):
        database.migrate()
    app.extensions["opendesign.db"] = database

    app.json.sort_keys = False
    from . import server_timing

    server_timing.init_app(app)  # first: its "app" metric spans every other hook
    csrf.init_app(app)

    from . import adapters, auth, db, errors, filters, inputs, limits, render_limits, security, speculative

    db.init_app(app)
    security.init_app(app)
    inputs.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    filters.init_app(app)
    adapters.init_app(app)
    speculative.init_app(app)

    from .views import account, api, assets, catalogue, designs, files, ledger, licenses, makers, presets, presets_api

    for module in (catalogue, designs, files, makers, licenses, account, api, assets, presets, presets_api, ledger):
        for blueprint in module.blueprints:
            app.register_blueprint(blueprint)
    csrf.exempt(api.bp)
    csrf.exempt(presets_api.bp)
    csrf.exempt(ledger.api_ledger.bp)
    ledger.init_app(app)
    files.init_app(app)
    limits.init_app(app)
    render_limits.init_app(app)
    presets.init_app(app)
    return app
