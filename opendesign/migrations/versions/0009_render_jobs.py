"""render jobs and remembered render failures in the catalogue database

Revision ID: 0009
Revises: 0006

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('render_jobs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('params_json', sa.Text(), nullable=False),
    sa.Column('formats', sa.String(length=64), nullable=False),
    sa.Column('quality', sa.String(length=8), nullable=False),
    sa.Column('part', sa.String(length=64), nullable=True),
    sa.Column('queue', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('result_json', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['design_version.id'], name=op.f('fk_render_jobs_version_id_design_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_render_jobs'))
    )
    with op.batch_alter_table('render_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_render_jobs_version_id'), ['version_id'], unique=False)
        batch_op.create_index('ix_render_jobs_state_updated', ['state', 'updated_at'], unique=False)
    op.create_table('render_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('params_hash', sa.String(length=64), nullable=False),
    sa.Column('quality', sa.String(length=8), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['design_version.id'], name=op.f('fk_render_failures_version_id_design_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_render_failures')),
    sa.UniqueConstraint('version_id', 'params_hash', 'quality', name=op.f('uq_render_failures_version_id'))
    )


def downgrade() -> None:
    op.drop_table('render_failures')
    with op.batch_alter_table('render_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_render_jobs_state_updated')
        batch_op.drop_index(batch_op.f('ix_render_jobs_version_id'))
    op.drop_table('render_jobs')
