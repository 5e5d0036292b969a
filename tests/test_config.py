"""Settings precedence: defaults < config file < OPENDESIGN_* environment < explicit overrides."""

from __future__ import annotations

import pytest

from opendesign.config import ConfigError, load_settings


def test_defaults():
    s = load_settings(environ={})
    assert str(s.home) == "var"
    assert s.database.startswith("sqlite:///") and s.database.endswith("var/opendesign.db")
    assert s.cache_max_bytes == 2 * 1024**3
    assert s.render_memory_mb >= 2048


def test_config_file_then_environment(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "opendesign.toml").write_text("render_pool_size = 3\nrender_timeout = 12.5\n")
    s = load_settings(environ={"OPENDESIGN_HOME": str(home)})
    assert (s.render_pool_size, s.render_timeout) == (3, 12.5)
    s = load_settings(environ={"OPENDESIGN_HOME": str(home), "OPENDESIGN_RENDER_POOL_SIZE": "5"})
    assert (s.render_pool_size, s.render_timeout) == (5, 12.5)
    assert s.database == f"sqlite:///{(home / 'opendesign.db').resolve()}"


def test_database_url_override():
    s = load_settings(environ={"OPENDESIGN_DATABASE_URL": "postgresql://u@h/db"})
    assert s.database == "postgresql://u@h/db"


def test_explicit_config_path(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('base_url = "https://commons.example"\n')
    assert load_settings(environ={"OPENDESIGN_CONFIG": str(cfg)}).base_url == "https://commons.example"


def test_missing_explicit_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(environ={"OPENDESIGN_CONFIG": str(tmp_path / "nope.toml")})


def test_bad_values_are_named(tmp_path):
    with pytest.raises(ConfigError, match="render_pool_size"):
        load_settings(environ={"OPENDESIGN_RENDER_POOL_SIZE": "many"})
    with pytest.raises(ConfigError, match="render_memory_mb"):
        load_settings(environ={"OPENDESIGN_RENDER_MEMORY_MB": "512"})
    cfg = tmp_path / "c.toml"
    cfg.write_text("render_pool_size = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(environ={"OPENDESIGN_CONFIG": str(cfg)})
    cfg.write_text("colour = 'red'\n")
    with pytest.raises(ConfigError, match="colour"):
        load_settings(environ={"OPENDESIGN_CONFIG": str(cfg)})
