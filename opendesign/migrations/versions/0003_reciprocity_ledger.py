"""reciprocity ledger: exact append-only entries with evidence, reviews, stewards, attestations

Contributions become ledger entries: amounts in minor units, evidence, the
version their value flows up from, corrections, and a public id. Existing
rows are kept as ``legacy`` entries (state claimed; their float amounts are
rounded half-even to the currency's minor unit). Reviews, attestations,
challenges and resolutions are new tables. The ledger tables refuse UPDATE
and DELETE through triggers on SQLite and PostgreSQL.

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-01 22:30:00

"""
from __future__ import annotations

import hashlib
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

#: Tables whose rows are never changed or deleted once written.
APPEND_ONLY = ("contribution", "ledger_review", "attestation", "attestation_challenge", "challenge_resolution")


def _scale(kind: str, currency: str | None) -> int:
    if kind in ("money", "hardware"):
        from babel.numbers import get_currency_precision

        return get_currency_precision(currency)
    return 2 if kind == "hours" else 0


def _convert_contributions(bind) -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    rows = bind.execute(sa.text(
        "SELECT c.id, c.kind, c.amount, c.currency, m.slug, d.latest_version_id, m.source_hash "
        "FROM contribution c JOIN maker m ON m.id = c.maker_id JOIN design d ON d.id = c.design_id")).all()
    for row in rows:
        scale = _scale(row.kind, row.currency)
        minor = int((Decimal(repr(float(row.amount))).scaleb(scale)).to_integral_value(ROUND_HALF_EVEN))
        entry_id = hashlib.sha256(f"legacy|{row.slug}|{row.id}".encode()).hexdigest()[:16]
        bind.execute(sa.text(
            "UPDATE contribution SET entry_id = :entry_id, version_id = :version_id, amount_minor = :minor, "
            "scale = :scale, origin = 'legacy', recorded_by = :by, recorded_at = :now WHERE id = :id"),
            {"entry_id": entry_id, "version_id": row.latest_version_id, "minor": max(minor, 1), "scale": scale,
             "by": "maker file (before the ledger)" if row.source_hash else "web (before the ledger)", "id": row.id,
             "now": now})


def _append_only_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute("""
            CREATE FUNCTION opendesign_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'the reciprocity ledger is append-only: % rows cannot be %d', TG_TABLE_NAME,
                    lower(TG_OP) USING ERRCODE = 'restrict_violation';
            END $$""")
        for table in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION opendesign_append_only()")
    else:
        for table in APPEND_ONLY:
            for event in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} BEGIN "
                           f"SELECT RAISE(ABORT, 'the reciprocity ledger is append-only: {table} rows cannot be "
                           f"{event.lower()}d'); END")


def _drop_triggers(dialect: str) -> None:
    for table in APPEND_ONLY:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        else:
            for event in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS opendesign_append_only()")


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("production", schema=None) as batch_op:
        batch_op.add_column(sa.Column("units", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("period_start", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("period_end", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("source_location", sa.String(length=300), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("notice", sa.Boolean(), nullable=True))

    with op.batch_alter_table("contribution", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entry_id", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("version_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("amount_minor", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("scale", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("evidence", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("corrects_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("origin", sa.String(length=8), nullable=False, server_default="legacy"))
        batch_op.add_column(sa.Column("recorded_by", sa.String(length=300), nullable=False, server_default=""))
        # SQLite cannot add a column whose default is not a constant; the conversion sets the real time.
        batch_op.add_column(sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False,
                                      server_default="1970-01-01 00:00:00"))
    _convert_contributions(bind)
    with op.batch_alter_table("contribution", schema=None) as batch_op:
        batch_op.alter_column("entry_id", existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column("amount_minor", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("scale", existing_type=sa.SmallInteger(), nullable=False)
        batch_op.drop_column("amount")
        batch_op.drop_constraint("fk_contribution_maker_id_maker", type_="foreignkey")
        batch_op.drop_constraint("fk_contribution_design_id_design", type_="foreignkey")
        batch_op.create_foreign_key(batch_op.f("fk_contribution_maker_id_maker"), "maker", ["maker_id"], ["id"],
                                    ondelete="RESTRICT")
        batch_op.create_foreign_key(batch_op.f("fk_contribution_design_id_design"), "design", ["design_id"], ["id"],
                                    ondelete="RESTRICT")
        batch_op.create_foreign_key(batch_op.f("fk_contribution_version_id_design_version"), "design_version",
                                    ["version_id"], ["id"], ondelete="RESTRICT")
        batch_op.create_foreign_key(batch_op.f("fk_contribution_corrects_id_contribution"), "contribution",
                                    ["corrects_id"], ["id"], ondelete="RESTRICT")
        batch_op.create_unique_constraint(batch_op.f("uq_contribution_entry_id"), ["entry_id"])
        batch_op.create_unique_constraint(batch_op.f("uq_contribution_corrects_id"), ["corrects_id"])
        batch_op.create_index(batch_op.f("ix_contribution_version_id"), ["version_id"], unique=False)

    op.create_table(
        "ledger_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contribution_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("source_key", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contribution_id"], ["contribution.id"],
                                name=op.f("fk_ledger_review_contribution_id_contribution"), ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_ledger_review_user_id_user"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_review")),
        sa.UniqueConstraint("source_key", name=op.f("uq_ledger_review_source_key")),
    )
    with op.batch_alter_table("ledger_review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_review_contribution_id"), ["contribution_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ledger_review_user_id"), ["user_id"], unique=False)

    op.create_table(
        "design_steward",
        sa.Column("design_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["design_id"], ["design.id"], name=op.f("fk_design_steward_design_id_design"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_design_steward_user_id_user"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["added_by_id"], ["user.id"], name=op.f("fk_design_steward_added_by_id_user"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("design_id", "user_id", name=op.f("pk_design_steward")),
    )
    with op.batch_alter_table("design_steward", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_design_steward_user_id"), ["user_id"], unique=False)

    op.create_table(
        "attestation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=16), nullable=False),
        sa.Column("maker_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("evidence", sa.String(length=500), nullable=False),
        sa.Column("registry_id", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("origin", sa.String(length=8), nullable=False),
        sa.Column("recorded_by", sa.String(length=300), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["maker_id"], ["maker.id"], name=op.f("fk_attestation_maker_id_maker"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attestation")),
        sa.UniqueConstraint("key", name=op.f("uq_attestation_key")),
    )
    with op.batch_alter_table("attestation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attestation_maker_id"), ["maker_id"], unique=False)

    op.create_table(
        "attestation_challenge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attestation_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("source_key", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["attestation_id"], ["attestation.id"],
                                name=op.f("fk_attestation_challenge_attestation_id_attestation"), ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_attestation_challenge_user_id_user"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attestation_challenge")),
        sa.UniqueConstraint("source_key", name=op.f("uq_attestation_challenge_source_key")),
    )
    with op.batch_alter_table("attestation_challenge", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attestation_challenge_attestation_id"), ["attestation_id"], unique=False)

    op.create_table(
        "challenge_resolution",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("design_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("source_key", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["challenge_id"], ["attestation_challenge.id"],
                                name=op.f("fk_challenge_resolution_challenge_id_attestation_challenge"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["design_id"], ["design.id"], name=op.f("fk_challenge_resolution_design_id_design"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_challenge_resolution_user_id_user"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenge_resolution")),
        sa.UniqueConstraint("challenge_id", name=op.f("uq_challenge_resolution_challenge_id")),
        sa.UniqueConstraint("source_key", name=op.f("uq_challenge_resolution_source_key")),
    )
    _append_only_triggers(bind.dialect.name)


def downgrade() -> None:
    bind = op.get_bind()
    _drop_triggers(bind.dialect.name)
    op.drop_table("challenge_resolution")
    with op.batch_alter_table("attestation_challenge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attestation_challenge_attestation_id"))
    op.drop_table("attestation_challenge")
    with op.batch_alter_table("attestation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attestation_maker_id"))
    op.drop_table("attestation")
    with op.batch_alter_table("design_steward", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_design_steward_user_id"))
    op.drop_table("design_steward")
    with op.batch_alter_table("ledger_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_review_user_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_review_contribution_id"))
    op.drop_table("ledger_review")
    # Reviews, corrections and evidence have no place in the old table and are lost; amounts become floats.
    with op.batch_alter_table("contribution", schema=None) as batch_op:
        batch_op.add_column(sa.Column("amount", sa.Float(), nullable=True))
    bind.execute(sa.text("UPDATE contribution SET amount = amount_minor * 1.0 / "
                         "(CASE scale WHEN 0 THEN 1 WHEN 1 THEN 10 WHEN 2 THEN 100 WHEN 3 THEN 1000 "
                         "ELSE 10000 END)"))
    with op.batch_alter_table("contribution", schema=None) as batch_op:
        batch_op.alter_column("amount", existing_type=sa.Float(), nullable=False)
        batch_op.drop_index(batch_op.f("ix_contribution_version_id"))
        batch_op.drop_constraint(batch_op.f("uq_contribution_corrects_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_contribution_entry_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_contribution_corrects_id_contribution"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_contribution_version_id_design_version"), type_="foreignkey")
        batch_op.drop_constraint("fk_contribution_maker_id_maker", type_="foreignkey")
        batch_op.drop_constraint("fk_contribution_design_id_design", type_="foreignkey")
        batch_op.create_foreign_key("fk_contribution_maker_id_maker", "maker", ["maker_id"], ["id"],
                                    ondelete="CASCADE")
        batch_op.create_foreign_key("fk_contribution_design_id_design", "design", ["design_id"], ["id"],
                                    ondelete="CASCADE")
        for column in ("recorded_at", "recorded_by", "origin", "corrects_id", "evidence", "scale", "amount_minor",
                       "version_id", "entry_id"):
            batch_op.drop_column(column)
    with op.batch_alter_table("production", schema=None) as batch_op:
        for column in ("notice", "source_location", "period_end", "period_start", "units"):
            batch_op.drop_column(column)
