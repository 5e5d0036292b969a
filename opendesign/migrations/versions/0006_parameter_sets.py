"""parameter sets saved by users

Revision ID: 0006
Revises: 0001

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('parameter_set',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('params_hash', sa.String(length=16), nullable=False),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_parameter_set_user_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['design_version.id'], name=op.f('fk_parameter_set_version_id_design_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parameter_set')),
    sa.UniqueConstraint('public_id', name=op.f('uq_parameter_set_public_id')),
    sa.UniqueConstraint('user_id', 'version_id', 'name', name=op.f('uq_parameter_set_user_id'))
    )
    with op.batch_alter_table('parameter_set', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parameter_set_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_parameter_set_version_public', ['version_id', 'is_public', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('parameter_set', schema=None) as batch_op:
        batch_op.drop_index('ix_parameter_set_version_public')
        batch_op.drop_index(batch_op.f('ix_parameter_set_user_id'))
    op.drop_table('parameter_set')
