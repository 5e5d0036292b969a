"""The PostgreSQL search tables (created by migration 0007 on PostgreSQL only).

They live in their own :class:`~sqlalchemy.MetaData`, not the models': the
embedded SQLite catalogue has no ``tsvector``, and nothing but the search
backend reads them. One row per searchable design, written in the same
transaction as the catalogue change it reflects (see :mod:`.pg_index`).

Migration 0010 keeps the heap rows narrow (``toast_tuple_target``, the
columns every match reads stored ``MAIN``): a search reads the facets and the
``ranked`` vector of every match, and the long vectors (``document``, the
per-field ones) are read only to check phrases or to rank the best few.
"""

from __future__ import annotations

from sqlalchemy import (ARRAY, BigInteger, Column, DateTime, Index, Integer, MetaData, Table, Text)
from sqlalchemy.dialects.postgresql import TSVECTOR

metadata = MetaData()

#: Text search configuration of the stemmed fields (Whoosh stems them too); people are not stemmed.
STEMMED = "english"
PLAIN = "simple"

search_document = Table(
    "search_document", metadata,
    Column("slug", Text, primary_key=True),
    Column("version", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("license", Text, nullable=False),
    Column("tags", ARRAY(Text), nullable=False),
    Column("authors", ARRAY(Text), nullable=False),
    # Facets: exact values, compared without case as Whoosh's filter does.
    Column("licenses", ARRAY(Text), nullable=False),
    Column("families", ARRAY(Text), nullable=False),
    Column("processes", ARRAY(Text), nullable=False),
    Column("countries", ARRAY(Text), nullable=False),
    Column("has_makers", Text, nullable=False),
    # Every facet value of the design as ``name:value`` (see pg_index.facet_keys): all facet counts are one
    # GROUP BY over ``unnest(facets)`` of the matches, read in the same pass that ranks them.
    Column("facets", ARRAY(Text), nullable=False),
    # The same entries lower-cased, under a GIN index (migration 0011): facet filters, which compare without
    # case, ask the index for the rows holding a value rather than testing every match of the words.
    Column("filter_keys", ARRAY(Text), nullable=False),
    # The same entries again as ids of ``search_facet`` (migration 0012): the facet counts group these
    # integers rather than the text, a third of a phrase search's facet counting at 100k designs.
    Column("facet_ids", ARRAY(Integer), nullable=False),
    Column("forks", Integer, nullable=False),
    Column("productions", Integer, nullable=False),
    Column("published", DateTime(timezone=True), nullable=False),
    Column("content_hash", Text, nullable=False),
    Column("doc_hash", Text, nullable=False),
    Column("parents", ARRAY(Text), nullable=False),
    # Unstemmed words of the prominent fields: this document's share of the "did you mean" dictionary.
    Column("spell", ARRAY(Text), nullable=False),
    # Every default field, weighted: title A, tags B, summary C, the long tail (body) D.
    Column("document", TSVECTOR, nullable=False),
    # Title, tags and summary only (a tenth of ``document``'s size): ranks every match cheaply, so the
    # full ``document`` is ranked only for the best candidates (see pg_index.CANDIDATES).
    Column("ranked", TSVECTOR, nullable=False),
    # The fields a person can name (``title:``, ``author:``...), for field queries only.
    Column("title_tsv", TSVECTOR, nullable=False),
    Column("tags_tsv", TSVECTOR, nullable=False),
    Column("summary_tsv", TSVECTOR, nullable=False),
    Column("body_tsv", TSVECTOR, nullable=False),
    Column("authors_tsv", TSVECTOR, nullable=False),
    Column("makers_tsv", TSVECTOR, nullable=False),
    # A short pending list (migration 0010): every search reads it whole, and it was up to 4 MB.
    Index("ix_search_document_document", "document", postgresql_using="gin",
          postgresql_with={"gin_pending_list_limit": "256"}),
    Index("ix_search_document_filter_keys", "filter_keys", postgresql_using="gin",
          postgresql_with={"gin_pending_list_limit": "256"}),
    Index("ix_search_document_published", "published"),
    # Migrations 0010-0012 also store slug, facets, filter_keys, facet_ids and ranked MAIN (kept in the row, out of
    # line only if it cannot fit a page); SQLAlchemy has no column storage option.
    postgresql_with={"toast_tuple_target": "128"},
)

#: The "did you mean" dictionary: each unstemmed word with the number of designs holding it.
search_word = Table(
    "search_word", metadata,
    Column("word", Text, primary_key=True),
    Column("docs", Integer, nullable=False),
    Index("ix_search_word_trgm", "word", postgresql_using="gin", postgresql_ops={"word": "gin_trgm_ops"}),
)

#: Every facet entry (``name:value``) ever indexed, with the id ``facet_ids`` holds for it. Only ever added
#: to (under the writers' lock): an id stays valid, and a value no design holds any more is never counted.
search_facet = Table(
    "search_facet", metadata,
    Column("id", Integer, primary_key=True),
    Column("key", Text, nullable=False),
    Index("ix_search_facet_key", "key", unique=True),
)

#: One row: the index's generation (changes on every rebuild) and last update; also the writers' lock.
search_state = Table(
    "search_state", metadata,
    Column("id", Integer, primary_key=True),
    Column("generation", Text, nullable=False),
    Column("updates", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

TABLES = (search_document, search_word, search_facet, search_state)
