"""search on PostgreSQL at 100k designs: a facets column, narrow rows, a short GIN pending list

Revision ID: 0010
Revises: 0009

PostgreSQL only (SQLite deployments search with Whoosh). ``facets`` holds every
facet value as ``name:value`` so one GROUP BY counts them all; the table keeps
its rows narrow (``toast_tuple_target``; slug, facets and ranked stored MAIN)
so the pass over every match reads few pages; the GIN index on ``document``
keeps a short pending list (every search scanned it whole, up to 4 MB).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_FACETS = """
    CASE WHEN category <> '' THEN ARRAY['category:' || category] ELSE '{}'::text[] END
    || ARRAY(SELECT 'license:' || x FROM unnest(licenses) AS x)
    || ARRAY(SELECT 'family:' || x FROM unnest(families) AS x)
    || ARRAY(SELECT 'process:' || x FROM unnest(processes) AS x)
    || CASE WHEN has_makers <> '' THEN ARRAY['has_makers:' || has_makers] ELSE '{}'::text[] END
    || ARRAY(SELECT 'country:' || x FROM unnest(countries) AS x)
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.add_column('search_document', sa.Column('facets', postgresql.ARRAY(sa.Text()), nullable=False,
                                               server_default='{}'))
    op.execute('ALTER TABLE search_document SET (toast_tuple_target = 128)')
    op.execute('ALTER TABLE search_document ALTER COLUMN slug SET STORAGE MAIN, '
               'ALTER COLUMN facets SET STORAGE MAIN, ALTER COLUMN ranked SET STORAGE MAIN')
    # Rewrites every row, so existing rows take the new layout too.
    op.execute(f'UPDATE search_document SET facets = {_FACETS}')
    op.alter_column('search_document', 'facets', server_default=None)
    # Fast update stays (one design's insert is cheap), but its pending list, which every search reads
    # whole, holds at most 256 kB instead of work_mem's 4 MB; a rebuild empties it (pg_index.rebuild).
    op.execute('ALTER INDEX ix_search_document_document SET (gin_pending_list_limit = 256)')
    op.execute("SELECT gin_clean_pending_list('ix_search_document_document'::regclass)")


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('ALTER INDEX ix_search_document_document RESET (gin_pending_list_limit)')
    op.execute('ALTER TABLE search_document ALTER COLUMN slug SET STORAGE EXTENDED, '
               'ALTER COLUMN ranked SET STORAGE EXTENDED')
    op.execute('ALTER TABLE search_document RESET (toast_tuple_target)')
    op.drop_column('search_document', 'facets')
