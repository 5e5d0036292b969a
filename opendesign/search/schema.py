"""The Whoosh schema and the mapping of a :class:`SearchDocument` onto it.

Text fields use one stemming analyzer so ``dryers`` finds ``dryer``; facet
fields are exact keywords; sort keys are numeric columns. Only what a result
card shows is stored (title, summary, tags, license, authors, numbers), which
keeps the stored-fields file, and so every hit, small; the README is indexed
but not stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from whoosh import columns, fields
from whoosh.analysis import StandardAnalyzer, StemmingAnalyzer

if TYPE_CHECKING:  # annotations only: documents.py loads the ORM, which a search does not need
    from .documents import SearchDocument

#: Above this Whoosh stems every token again; the cache makes indexing ~2x faster.
_STEM = StemmingAnalyzer(minsize=1, cachesize=100_000)
#: Names (authors, makers) and the spelling dictionary are not stemmed.
_PLAIN = StandardAnalyzer(minsize=1)

#: Text fields searched by default, with their weight in the ranking. Few on
#: purpose: every default field is one more posting list to merge per word,
#: so the long tail (README, parts, parameters, license words, people) is one
#: ``body`` field.
TEXT_FIELDS: dict[str, float] = {
    "title": 4.0,
    "tags": 2.0,
    "summary": 1.5,
    "body": 1.0,
}

#: Exact-value fields that can filter and are counted as facets.
FACET_FIELDS = ("category", "family", "license", "process", "has_makers", "country")
#: Numeric sort keys.
SORT_FIELDS = ("published", "forks", "productions")


def build_schema() -> fields.Schema:
    return fields.Schema(
        slug=fields.KEYWORD(unique=True, stored=True, scorable=True),
        version=fields.STORED,
        title=fields.TEXT(analyzer=_STEM, stored=True, field_boost=TEXT_FIELDS["title"]),
        summary=fields.TEXT(analyzer=_STEM, stored=True, field_boost=TEXT_FIELDS["summary"]),
        tags=fields.TEXT(analyzer=_STEM, stored=True, field_boost=TEXT_FIELDS["tags"]),
        # README, parts with materials and processes, parameter names and labels,
        # authors, makers with their countries, category and license words.
        body=fields.TEXT(analyzer=_STEM),
        # People, also searchable on their own (``author:``, ``maker:``), not stemmed.
        authors=fields.TEXT(analyzer=_PLAIN, stored=True),
        makers=fields.TEXT(analyzer=_PLAIN),
        # Unstemmed words of the prominent fields: the "did you mean" dictionary.
        spell=fields.TEXT(analyzer=_PLAIN, phrase=False),
        # Exact values. KEYWORD(scorable=True) rather than ID: the length column it
        # adds spares Whoosh a file-exists check per posting while writing.
        category=fields.KEYWORD(stored=True, scorable=True),
        license=fields.KEYWORD(stored=True, scorable=True),
        family=fields.KEYWORD(scorable=True),
        process=fields.KEYWORD(scorable=True),
        has_makers=fields.KEYWORD(scorable=True),
        country=fields.KEYWORD(scorable=True),
        # Sort keys are columns only (no terms to write); the values a card shows are stored.
        published=fields.COLUMN(columns.NumericColumn("q", default=0)),
        forks=fields.COLUMN(columns.NumericColumn("i", default=0)),
        productions=fields.COLUMN(columns.NumericColumn("i", default=0)),
        numbers=fields.STORED,
        content_hash=fields.STORED,
        doc_hash=fields.STORED,
        parents=fields.STORED,
    )


def _words(value: str) -> str:
    return value.replace("-", " ")


def to_fields(doc: SearchDocument) -> dict:
    """The keyword arguments for ``writer.add_document`` / ``update_document``."""
    meta = " ".join([_words(doc.category), *doc.licenses, *map(_words, doc.families), *doc.processes])
    body = "\n".join([doc.readme, *doc.parts, *doc.parameters, *doc.authors, *doc.makers, meta])
    spell = " ".join([doc.title, *map(_words, doc.tags), *doc.parts, _words(doc.category)])
    return {
        "slug": doc.slug,
        "version": doc.version,
        "title": doc.title,
        "summary": doc.summary,
        "tags": " ".join(map(_words, doc.tags)),
        "_stored_tags": list(doc.tags),
        "body": body,
        "authors": " ; ".join(doc.authors),
        "_stored_authors": list(doc.authors),
        "makers": " ; ".join(doc.makers),
        "spell": spell,
        "category": doc.category,
        "license": " ".join(doc.licenses),
        "_stored_license": doc.license,
        "family": " ".join(doc.families),
        "process": " ".join(doc.processes),
        "has_makers": "yes" if doc.maker_countries or doc.productions else "no",
        "country": " ".join(doc.maker_countries),
        "published": int(doc.published.timestamp()),
        "forks": doc.forks,
        "productions": doc.productions,
        "numbers": (int(doc.published.timestamp()), doc.forks, doc.productions),
        "content_hash": doc.content_hash,
        "doc_hash": doc.doc_hash,
        "parents": list(doc.parents),
    }
