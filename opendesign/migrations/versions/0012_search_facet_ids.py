"""search on PostgreSQL: facet values as integer ids for counting (facet_ids, search_facet)

Revision ID: 0012
Revises: 0011

PostgreSQL only (SQLite deployments search with Whoosh). Every search counts
the facet values of all its matches (one GROUP BY over the values of every
match, 16k values for a phrase at 100k designs). ``facet_ids`` holds the
``facets`` entries as integers of the ``search_facet`` dictionary: grouping
4-byte integers costs less than grouping text, and the set of matches a search
materialises is narrower. Stored in the row (``MAIN``), as ``facets`` is.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.create_table('search_facet',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('key', sa.Text(), nullable=False),
                    sa.PrimaryKeyConstraint('id', name='pk_search_facet'))
    op.create_index('ix_search_facet_key', 'search_facet', ['key'], unique=True)
    op.add_column('search_document', sa.Column('facet_ids', postgresql.ARRAY(sa.Integer()), nullable=False,
                                               server_default='{}'))
    op.execute('ALTER TABLE search_document ALTER COLUMN facet_ids SET STORAGE MAIN')
    op.execute('INSERT INTO search_facet (key) SELECT DISTINCT unnest(facets) FROM search_document ORDER BY 1')
    op.execute('UPDATE search_document SET facet_ids = ARRAY(SELECT f.id FROM unnest(facets) WITH ORDINALITY '
               'AS k(key, n) JOIN search_facet AS f ON f.key = k.key ORDER BY k.n)')
    op.alter_column('search_document', 'facet_ids', server_default=None)


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_column('search_document', 'facet_ids')
    op.drop_index('ix_search_facet_key', table_name='search_facet')
    op.drop_table('search_facet')
