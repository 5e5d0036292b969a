"""search on PostgreSQL: facet filters through a GIN index (filter_keys)

Revision ID: 0011
Revises: 0010

PostgreSQL only (SQLite deployments search with Whoosh). ``filter_keys`` holds
the ``facets`` entries lower-cased (filters compare without case, as Whoosh's
do) under a GIN index, so a filtered word reads only the rows both indexes
agree on instead of every match of the word. Stored in the row (``MAIN``): when
the planner filters rows rather than asking the index, the test stays a read
of the row, not of its toast.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.add_column('search_document', sa.Column('filter_keys', postgresql.ARRAY(sa.Text()), nullable=False,
                                               server_default='{}'))
    op.execute('ALTER TABLE search_document ALTER COLUMN filter_keys SET STORAGE MAIN')
    op.execute('UPDATE search_document SET filter_keys = ARRAY(SELECT lower(x) FROM unnest(facets) AS x)')
    op.alter_column('search_document', 'filter_keys', server_default=None)
    # The same short pending list as the document index (migration 0010): a search reads it whole.
    op.create_index('ix_search_document_filter_keys', 'search_document', ['filter_keys'], postgresql_using='gin',
                    postgresql_with={'gin_pending_list_limit': '256'})


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_index('ix_search_document_filter_keys', table_name='search_document')
    op.drop_column('search_document', 'filter_keys')
