"""search on PostgreSQL (tsvector, trigram dictionary), shared artifacts, the shared cache generation

Revision ID: 0007
Revises: 0006

The search tables and ``artifact_blob`` exist on PostgreSQL only (SQLite
deployments search with Whoosh and keep artifacts in files);
``cache_generation`` exists on both.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('cache_generation',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_cache_generation'))
    )
    op.bulk_insert(sa.table('cache_generation', sa.column('name', sa.String), sa.column('value', sa.BigInteger)),
                   [{'name': 'catalogue', 'value': 0}])
    if op.get_bind().dialect.name != 'postgresql':
        return
    # In ``public``, not the schema being migrated: an extension exists once per database, and one
    # created inside a schema would vanish with it. The search_path must include ``public``.
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public')  # trigram candidates: "did you mean"
    op.execute('CREATE EXTENSION IF NOT EXISTS fuzzystrmatch WITH SCHEMA public')  # levenshtein(), to rank them
    text_array = postgresql.ARRAY(sa.Text())
    op.create_table('search_document',
    sa.Column('slug', sa.Text(), nullable=False),
    sa.Column('version', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('category', sa.Text(), nullable=False),
    sa.Column('license', sa.Text(), nullable=False),
    sa.Column('tags', text_array, nullable=False),
    sa.Column('authors', text_array, nullable=False),
    sa.Column('licenses', text_array, nullable=False),
    sa.Column('families', text_array, nullable=False),
    sa.Column('processes', text_array, nullable=False),
    sa.Column('countries', text_array, nullable=False),
    sa.Column('has_makers', sa.Text(), nullable=False),
    sa.Column('forks', sa.Integer(), nullable=False),
    sa.Column('productions', sa.Integer(), nullable=False),
    sa.Column('published', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content_hash', sa.Text(), nullable=False),
    sa.Column('doc_hash', sa.Text(), nullable=False),
    sa.Column('parents', text_array, nullable=False),
    sa.Column('spell', text_array, nullable=False),
    sa.Column('document', postgresql.TSVECTOR(), nullable=False),
    sa.Column('ranked', postgresql.TSVECTOR(), nullable=False),
    sa.Column('title_tsv', postgresql.TSVECTOR(), nullable=False),
    sa.Column('tags_tsv', postgresql.TSVECTOR(), nullable=False),
    sa.Column('summary_tsv', postgresql.TSVECTOR(), nullable=False),
    sa.Column('body_tsv', postgresql.TSVECTOR(), nullable=False),
    sa.Column('authors_tsv', postgresql.TSVECTOR(), nullable=False),
    sa.Column('makers_tsv', postgresql.TSVECTOR(), nullable=False),
    sa.PrimaryKeyConstraint('slug', name='pk_search_document')
    )
    op.create_index('ix_search_document_document', 'search_document', ['document'], postgresql_using='gin')
    op.create_index('ix_search_document_published', 'search_document', ['published'])
    op.create_table('search_word',
    sa.Column('word', sa.Text(), nullable=False),
    sa.Column('docs', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('word', name='pk_search_word')
    )
    # Qualified: the migrated schema's search_path need not include the extension's schema.
    trgm_schema = op.get_bind().exec_driver_sql(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'").scalar_one()
    op.create_index('ix_search_word_trgm', 'search_word', ['word'], postgresql_using='gin',
                    postgresql_ops={'word': f'{trgm_schema}.gin_trgm_ops'})
    op.create_table('search_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('generation', sa.Text(), nullable=False),
    sa.Column('updates', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name='pk_search_state')
    )
    op.create_table('artifact_blob',
    sa.Column('cache_key', sa.Text(), nullable=False),
    sa.Column('sha256', sa.Text(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('format', sa.Text(), nullable=False),
    sa.Column('meta', sa.JSON(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('cache_key', name='pk_artifact_blob')
    )
    # The index starts out "never built": an empty generation. The first catalogue change builds it whole.
    op.execute("INSERT INTO search_state (id, generation, updates, updated_at) VALUES (1, '', 0, now())")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_table('artifact_blob')
        op.drop_table('search_state')
        op.drop_index('ix_search_word_trgm', table_name='search_word')
        op.drop_table('search_word')
        op.drop_index('ix_search_document_published', table_name='search_document')
        op.drop_index('ix_search_document_document', table_name='search_document')
        op.drop_table('search_document')
    op.drop_table('cache_generation')
