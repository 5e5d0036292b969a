"""Migration 0003: contributions recorded before the ledger become legacy entries, and the round trip works."""

from __future__ import annotations

import os

import pytest
import tomli_w
from alembic import command
from sqlalchemy import select, text

from opendesign.commons.ledger import entries
from opendesign.commons.makers import import_makers
from opendesign.config import load_settings
from opendesign.db import Database
from opendesign.models import Contribution

from .conftest import PG_BASE_URL


@pytest.fixture
def fresh_db(tmp_path):
    """An empty database (its own PostgreSQL schema when the suite runs on PostgreSQL)."""
    if PG_BASE_URL:
        schema = f"opendesign_test_{os.getpid()}_migration"
        url = f"{PG_BASE_URL}{'&' if '?' in PG_BASE_URL else '?'}options=-csearch_path%3D{schema}"
        db = Database(load_settings(environ={}, database_url=url, home=str(tmp_path)))
        with db.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        yield db
        with db.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        db.dispose()
        return
    db = Database(load_settings(environ={}, database_url=f"sqlite:///{tmp_path / 'old.db'}", home=str(tmp_path)))
    yield db
    db.dispose()


def _upgrade(db: Database, revision: str) -> None:
    with db.engine.begin() as connection:
        config = db._alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _downgrade(db: Database, revision: str) -> None:
    with db.engine.begin() as connection:
        config = db._alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_old_contributions_become_legacy_entries_and_gain_evidence_by_correction(fresh_db, make_design):
    db = fresh_db
    _upgrade(db, "0001")
    make_design("widget", license="CC0-1.0")
    with db.engine.begin() as conn:
        # Rows as a 0001 catalogue held them (the ORM models describe the newest schema, not this one).
        conn.execute(text("INSERT INTO design (slug, created_at, updated_at) "
                          "VALUES ('widget', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        design_id = conn.execute(text("SELECT id FROM design WHERE slug = 'widget'")).scalar()
        conn.execute(text("INSERT INTO design_version (design_id, version, title, summary, license, category, readme, "
                          "links, manifest, content_hash, created_at) VALUES (:d, '1.0.0', 'Widget', 'A widget.', "
                          "'CC0-1.0', 'tools-fabrication', '', '{}', '{}', :h, CURRENT_TIMESTAMP)"),
                     {"d": design_id, "h": "0" * 64})
        version_id = conn.execute(text("SELECT id FROM design_version")).scalar()
        conn.execute(text("UPDATE design SET latest_version_id = :v"), {"v": version_id})
        conn.execute(text("INSERT INTO maker (slug, name, legal_form, country, description, source_hash, created_at, "
                          "updated_at) VALUES ('old-coop', 'Old Coop', 'non-profit', 'KE', '', 'abc', "
                          "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        maker_id = conn.execute(text("SELECT id FROM maker")).scalar()
        conn.execute(text("INSERT INTO contribution (maker_id, design_id, kind, amount, currency, date, note, "
                          "position) VALUES (:m, :d, 'money', 10.555, 'EUR', '2026-02-01', 'tooling', 0)"),
                     {"m": maker_id, "d": design_id})
    _upgrade(db, "head")
    with db.session() as s:
        (old,) = s.scalars(select(Contribution))
        # floats become minor units, rounded half to even; the version is the design's latest
        assert (old.origin, old.amount_minor, old.scale, old.evidence, entries.state(old)) == (
            "legacy", 1056, 2, [], "claimed")
        assert old.version.ref == "widget@1.0.0" and len(old.entry_id) == 16
        legacy_id = old.entry_id

    folder = make_design.root / "makers"
    folder.mkdir()
    (folder / "old-coop.toml").write_text(tomli_w.dumps({
        "slug": "old-coop", "name": "Old Coop", "legal_form": "non-profit", "country": "KE",
        "contributions": [{"design": "widget", "kind": "money", "amount": 10.56, "currency": "EUR",
                           "date": "2026-02-01", "note": "tooling", "evidence": "https://x.example/receipt"}]}))
    assert import_makers(db, [folder]).ok
    assert import_makers(db, [folder]).as_dict()["unchanged"] == 1
    with db.session() as s:
        old, new = s.scalars(select(Contribution).order_by(Contribution.id))
        # the file repeats the old entry with evidence: it corrects it instead of counting twice
        assert (old.entry_id, entries.state(old), new.corrects_id) == (legacy_id, "corrected", old.id)
        assert new.evidence == ["https://x.example/receipt"] and new.origin == "file"


def test_the_migration_goes_down_and_up_again(fresh_db):
    _upgrade(fresh_db, "head")
    _downgrade(fresh_db, "0001")
    with fresh_db.engine.connect() as conn:
        columns = {c for c in conn.execute(text("SELECT * FROM contribution")).keys()}
    assert "amount" in columns and "entry_id" not in columns
    _upgrade(fresh_db, "head")
