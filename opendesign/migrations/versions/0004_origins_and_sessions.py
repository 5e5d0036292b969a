"""design version origins; server-side login sessions

Revision ID: 0004
Revises: 0001

Every design version records where it came from (``origin``), so that a
server whose render sandbox is not isolated renders only the operator's own
seed. Versions that exist already are marked ``web`` when their design has an
owner (published from an account) and ``folder`` otherwise: nothing says they
came from the designs folder, so they are not trusted until ``opendesign
import`` of the designs folder marks them ``seed`` again (fail closed).

``user_session`` holds one row per logged-in browser session, so that logging
out revokes the cookie on the server.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: Union[str, Sequence[str], None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("design_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=16), nullable=False, server_default="folder"))
    op.execute("UPDATE design_version SET origin = 'web' WHERE design_id IN "
               "(SELECT id FROM design WHERE owner_id IS NOT NULL)")

    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_user_session_user_id_user"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_session_token_hash")),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_session_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_session_user_id"))
    op.drop_table("user_session")
    with op.batch_alter_table("design_version", schema=None) as batch_op:
        batch_op.drop_column("origin")
