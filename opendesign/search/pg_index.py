"""The PostgreSQL full-text implementation of :class:`~opendesign.search.service.SearchIndex`.

Documents live in ``search_document`` (see :mod:`.pg_tables`) next to the
catalogue, with a weighted ``tsvector`` under a GIN index. They are written in
the same transaction as the catalogue change they reflect (:func:`.sync.install`
hooks the ORM's commit), so there is nothing to resynchronise and every web
process sees a change the moment it commits. A search is one statement
(:mod:`.pg_page`: total, every facet count and the shown page from one pass
over the matches), a second for the any-word query when no design holds every
word, and, for few results, one ``pg_trgm`` lookup of every word for "did you
mean" and a bounded count of what the correction finds.
"""

from __future__ import annotations

import logging
import math
import re
import secrets
import time
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from html import escape

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from . import pg_page, querying
from .documents import SearchDocument
from .pg_page import HIT_COLUMNS, START, STOP
from .pg_query import FACET_COLUMNS, SqlQuery, filter_clause, translate, translate_relaxed
from .pg_tables import PLAIN, STEMMED
from .schema import _PLAIN, FACET_FIELDS, to_fields
from .service import MAX_LIMIT, SORTS, Hit, IndexStatus, SearchIndex, SearchQuery, SearchResults
from .storage import IndexLocked

log = logging.getLogger(__name__)

SUGGEST_BELOW = 3
#: Enough for the matched set of a word every design holds (slug, sort keys, facets) at 100k designs.
WORK_MEM = "32MB"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_HIT_COLUMNS = ", ".join(HIT_COLUMNS)

_INSERT = text(f"""
INSERT INTO search_document (slug, version, title, summary, category, license, tags, authors, licenses, families,
    processes, countries, has_makers, facets, filter_keys, facet_ids, forks, productions, published, content_hash,
    doc_hash, parents, spell, title_tsv, tags_tsv, summary_tsv, body_tsv, authors_tsv, makers_tsv, document, ranked)
SELECT :slug, :version, :title, :summary, :category, :license, :tags, :authors, :licenses, :families,
    :processes, :countries, :has_makers, :facets, :filter_keys,
    ARRAY(SELECT f.id FROM unnest(CAST(:facets AS text[])) WITH ORDINALITY AS k(key, n)
          JOIN search_facet AS f ON f.key = k.key ORDER BY k.n),
    :forks, :productions, :published, :content_hash, :doc_hash, :parents, :spell, t, g, s, b, a, m,
    setweight(t, 'A') || setweight(g, 'B') || setweight(s, 'C') || setweight(b, 'D'),
    setweight(t, 'A') || setweight(g, 'B') || setweight(s, 'C')
FROM (SELECT to_tsvector('{STEMMED}', :title) AS t, to_tsvector('{STEMMED}', :tag_text) AS g,
             to_tsvector('{STEMMED}', :summary) AS s, to_tsvector('{STEMMED}', :body) AS b,
             to_tsvector('{PLAIN}', :author_text) AS a, to_tsvector('{PLAIN}', :maker_text) AS m) AS v
""")


#: New facet entries get their ids (pg_tables.search_facet) before the rows that hold them are written.
#: Only the keys not there yet draw an id (a conflicting insert would use up a number of the sequence).
_NEW_FACETS = text("INSERT INTO search_facet (key) SELECT DISTINCT k FROM unnest(CAST(:keys AS text[])) AS k "
                   "WHERE NOT EXISTS (SELECT 1 FROM search_facet AS f WHERE f.key = k) ORDER BY k "
                   "ON CONFLICT (key) DO NOTHING")


def _insert(conn: Connection, rows: list[dict]) -> None:
    """Write *rows* (of :func:`_row`), their facet entries' ids first."""
    conn.execute(_NEW_FACETS, {"keys": sorted({key for row in rows for key in row["facets"]})})
    conn.execute(_INSERT, rows)


def spell_words(doc: SearchDocument) -> list[str]:
    """The document's "did you mean" words: Whoosh's ``spell`` field, through the same analyzer."""
    return sorted({t.text for t in _PLAIN(to_fields(doc)["spell"])})


def _clean(value: str) -> str:
    # ts_headline's marks are control characters; text never holds them (and NUL is refused by PostgreSQL).
    return _CONTROL.sub(" ", value or "")


def facet_keys(row: dict) -> list[str]:
    """The ``facets`` column of a row: ``name:value`` for every facet value, as the facet columns hold them."""
    keys = []
    for name in FACET_FIELDS:
        column, is_array = FACET_COLUMNS[name]
        values = row[column] if is_array else [row[column]]
        keys.extend(f"{name}:{v}" for v in values if v)
    return keys


def _row(doc: SearchDocument) -> dict:
    fields = to_fields(doc)
    row = {
        "slug": doc.slug, "version": doc.version, "title": _clean(doc.title), "summary": _clean(doc.summary),
        "category": doc.category, "license": doc.license, "tags": list(doc.tags), "authors": list(doc.authors),
        "licenses": list(dict.fromkeys(doc.licenses)), "families": list(dict.fromkeys(doc.families)),
        "processes": list(dict.fromkeys(doc.processes)), "countries": list(dict.fromkeys(doc.maker_countries)),
        "has_makers": fields["has_makers"], "forks": doc.forks, "productions": doc.productions,
        "published": doc.published, "content_hash": doc.content_hash, "doc_hash": doc.doc_hash,
        "parents": list(doc.parents), "spell": spell_words(doc), "tag_text": _clean(fields["tags"]),
        "body": _clean(fields["body"]), "author_text": _clean(fields["authors"]),
        "maker_text": _clean(fields["makers"]),
    }
    row["facets"] = facet_keys(row)
    row["filter_keys"] = [key.lower() for key in row["facets"]]  # as pg_query.facet_key makes them
    return row


def _marked(snippet: str | None, whole_text: str) -> str | None:
    """ts_headline's output as HTML: escaped, matches in <mark>; None when nothing matched."""
    if not snippet or START not in snippet:
        return None
    html = escape(snippet).replace(START, "<mark>").replace(STOP, "</mark>")
    plain = snippet.replace(START, "").replace(STOP, "")
    if plain != whole_text:
        html = ("" if whole_text.startswith(plain[:20]) else "…") + html + \
               ("" if whole_text.endswith(plain[-20:]) else "…")
    return html


def _hit(row: dict) -> Hit:
    """One row of the page (see :data:`.pg_page._ROW`) as a hit, its ts_headline marks as HTML."""
    marks = {}
    for name, whole in (("title", row["title"]), ("summary", row["summary"]), ("tags", ", ".join(row["tags"])),
                        ("authors", ", ".join(row["authors"]))):
        html = _marked(row[f"m_{name}"], whole)
        if html:
            marks[name] = html
    return Hit(
        slug=row["key"], version=row["version"], title=row["title"], summary=row["summary"],
        score=round(float(row["score"] or 0), 4), category=row["category"], license=row["license"],
        tags=list(row["tags"]), authors=list(row["authors"]), forks=row["forks"], productions=row["productions"],
        published=row["published"].astimezone(UTC).replace(microsecond=0).isoformat(), highlights=marks)


class PostgresSearchIndex(SearchIndex):
    """Search over ``search_document`` in the catalogue database *engine* is connected to."""

    #: Writes happen inside the catalogue's own transactions (see :func:`.sync.install`).
    in_transaction = True

    def __init__(self, engine: Engine, *, time_limit: float = 0.5, lock_timeout: float = 120.0,
                 connection: Connection | None = None):
        self.engine = engine
        self.time_limit = time_limit
        self.lock_timeout = lock_timeout
        self._connection = connection
        self._extension_schemas: tuple[str, str] | None = None

    def bound(self, connection: Connection) -> PostgresSearchIndex:
        """This index writing and reading through *connection*, inside its transaction."""
        return PostgresSearchIndex(self.engine, time_limit=self.time_limit, lock_timeout=self.lock_timeout,
                                   connection=connection)

    def _run(self, fn, *, write: bool = False):
        """Run ``fn(connection)`` in the bound transaction, or in a fresh one that commits."""
        if self._connection is not None:
            return fn(self._connection)
        with self.engine.begin() as conn:
            if write:
                conn.execute(text(f"SET LOCAL lock_timeout = '{int(self.lock_timeout * 1000)}ms'"))
            return fn(conn)

    # Reading ---------------------------------------------------------------

    def search(self, request: SearchQuery) -> SearchResults:
        started = time.perf_counter()
        try:
            return self._run(lambda conn: self._search(conn, request, started))
        except Exception:
            log.exception("search for %r failed", request.text)
            return SearchResults(query=request.text, total=0, hits=[], facets={},
                                 took_ms=(time.perf_counter() - started) * 1000)

    def _search(self, conn: Connection, request: SearchQuery, started: float) -> SearchResults:
        deadline = started + self.time_limit
        parsed = querying.parse(request.text)
        limit = max(0, min(int(request.limit), MAX_LIMIT))
        offset = max(0, int(request.offset))
        sort = request.sort if request.sort in SORTS else "relevance"
        if parsed.match_all and sort == "relevance":
            sort = "newest"
        filters, filter_params = filter_clause(request.filters)
        sql = translate(parsed)
        empty = SearchResults(query=parsed.text, total=0, hits=[], facets={}, fallback=parsed.fallback,
                              timed_out=True)
        try:
            args = (filters, filter_params, sort, limit, offset, request.facets, request.highlight, deadline)
            page = self._page(conn, sql, *args)
            relaxed = False
            if page.total == 0:
                any_word = translate_relaxed(parsed)
                if any_word is not None:
                    sql, relaxed = any_word, True
                    page = self._page(conn, sql, *args)
            suggestion = None
            if request.suggest and not parsed.match_all and (relaxed or page.total < SUGGEST_BELOW):
                suggestion = self._suggest(conn, parsed, filters, filter_params, page.total, relaxed, deadline)
        except _TimedOut:
            return empty
        return SearchResults(
            query=parsed.text, total=page.total, hits=[_hit(row) for row in page.rows], facets=page.facets,
            suggestion=suggestion, fallback=parsed.fallback, relaxed=relaxed, timed_out=False,
            took_ms=round((time.perf_counter() - started) * 1000, 3))

    def _execute(self, conn: Connection, deadline: float, statement: str, params: dict):
        """One statement under what is left of the time cap (PostgreSQL's ``statement_timeout``)."""
        left_ms = math.ceil((deadline - time.perf_counter()) * 1000)
        if left_ms <= 0:
            raise _TimedOut
        # The planner prices ``@@`` as cheap and scans the whole table for a common word, testing every
        # row's 1.2 kB vector (110 ms at 10k designs where the GIN index took 14 ms): searches always
        # go through the indexes. No JIT: the disabled scan's huge cost estimate would make PostgreSQL
        # compile every such query (a second of LLVM for a 10 ms search, measured). work_mem: the matches
        # of a common word (slug, sort keys, facets) stay in memory rather than a temporary file.
        # Custom plans only: psycopg prepares a statement run five times, and PostgreSQL then switched the
        # one-word and any-word statements to a generic plan, where websearch_to_tsquery($1) is no longer
        # a constant but parsed again for every match, in every rank and test that uses it (the any-word
        # statement of a typo at 100k designs: 15 -> 19 ms). A custom plan folds each tsquery once.
        conn.execute(text(f"SET LOCAL statement_timeout = {left_ms}; SET LOCAL enable_seqscan = off; "
                          f"SET LOCAL jit = off; SET LOCAL work_mem = '{WORK_MEM}'; "
                          f"SET LOCAL plan_cache_mode = force_custom_plan"))
        try:
            return conn.execute(text(statement), params)
        except OperationalError as exc:  # QueryCanceled: the cap cut it short
            if getattr(exc.orig, "sqlstate", None) == "57014":
                raise _TimedOut from None
            raise

    @staticmethod
    def _where(sql: SqlQuery, filters: str | None) -> str:
        return f"({sql.where}) AND {filters}" if filters else sql.where

    def _page(self, conn, sql: SqlQuery, filters, filter_params, sort, limit, offset, facets: bool,
              highlight: bool, deadline: float) -> pg_page.Page:
        """Total, facet counts and the shown page, in one statement (see :mod:`.pg_page`)."""
        statement, params = pg_page.statement(sql, self._where(sql, filters), sort, limit, offset, facets,
                                              highlight)
        rows = self._execute(conn, deadline, statement, {**sql.params, **filter_params, **params})
        return pg_page.read(rows, facets)

    def _suggest(self, conn, parsed, filters, filter_params, total: int, relaxed: bool, deadline: float):
        words = [word for word in dict.fromkeys(w.lower() for w in parsed.words)
                 if len(word) >= 3 and not word.isdigit() and word.upper() not in querying.OPERATORS
                 and [t.text for t in _PLAIN(word)]]
        if not words:
            return None
        # Every word's correction in one statement: trigram candidates (the GIN index), then Whoosh's rule:
        # same first letter, the fewest edits, the most designs, the greatest word by code point (Whoosh's
        # max()). A word of the dictionary stays as it is.
        trgm, fuzzy = self._extensions(conn)
        rows = self._execute(conn, deadline, f"""
            SELECT w.word, best.word FROM unnest(CAST(:words AS text[])) AS w(word) CROSS JOIN LATERAL (
                SELECT word FROM (
                    SELECT word, docs, {fuzzy}.levenshtein(word, w.word) AS edits FROM search_word
                    WHERE word OPERATOR({trgm}.%) w.word OR word = w.word) AS c
                WHERE (word = w.word) OR (left(word, 1) = left(w.word, 1) AND edits <= 2)
                ORDER BY word = w.word DESC, edits, docs DESC, word COLLATE "C" DESC LIMIT 1) AS best""",
                             {"words": words})
        corrections = {typed: best for typed, best in rows if best != typed}
        if not corrections:
            return None
        pattern = re.compile(r"\b(" + "|".join(map(re.escape, corrections)) + r")\b", re.IGNORECASE)
        corrected_text = pattern.sub(lambda m: corrections[m.group(0).lower()], parsed.text)
        corrected = translate(querying.parse(corrected_text))
        # Whether the correction finds more than the query did: reading that many matches and one more
        # is enough, so PostgreSQL stops there rather than counting every match.
        enough = (0 if relaxed else total) + 1
        found = self._execute(conn, deadline, f"SELECT count(*) FROM (SELECT 1 FROM search_document WHERE "
                              f"{self._where(corrected, filters)} LIMIT :enough) AS s",
                              {**corrected.params, **filter_params, "enough": enough}).scalar_one()
        return corrected_text if found >= enough else None

    def _extensions(self, conn: Connection) -> tuple[str, str]:
        """The schemas of pg_trgm and fuzzystrmatch, to call them whatever the search_path."""
        if self._extension_schemas is None:
            found = dict(conn.execute(text(
                "SELECT extname, quote_ident(extnamespace::regnamespace::text) FROM pg_extension "
                "WHERE extname IN ('pg_trgm', 'fuzzystrmatch')")).all())
            self._extension_schemas = (found.get("pg_trgm", "public"), found.get("fuzzystrmatch", "public"))
        return self._extension_schemas

    # Writing ---------------------------------------------------------------

    def _lock_state(self, conn: Connection, generation: str | None) -> None:
        """Take the writers' lock (the state row) and record this update."""
        try:
            conn.execute(text(
                "UPDATE search_state SET updates = updates + 1, updated_at = now(), "
                "generation = CASE WHEN CAST(:g AS text) IS NOT NULL THEN :g "
                "WHEN generation = '' THEN :fresh ELSE generation END WHERE id = 1"),
                {"g": generation, "fresh": _generation()})
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
                raise IndexLocked(f"another process is writing the search index (waited "
                                  f"{self.lock_timeout:g} s); try again when it has finished") from None
            raise

    def apply(self, documents: Iterable[SearchDocument], deleted: Iterable[str] = ()) -> None:
        documents, deleted = list(documents), sorted(set(deleted))
        if not documents and not deleted:
            return

        def write(conn: Connection) -> None:
            self._lock_state(conn, None)
            slugs = sorted({d.slug for d in documents} | set(deleted))
            old = conn.execute(text("DELETE FROM search_document WHERE slug = ANY(:s) RETURNING spell"),
                               {"s": slugs}).scalars().all()
            rows = [_row(d) for d in {d.slug: d for d in documents}.values()]
            if rows:
                _insert(conn, rows)
            delta = Counter(w for r in rows for w in r["spell"])
            delta.subtract(w for spell in old for w in spell)
            changes = [{"w": w, "d": n} for w, n in sorted(delta.items()) if n]
            if changes:
                conn.execute(text("INSERT INTO search_word (word, docs) VALUES (:w, :d) ON CONFLICT (word) "
                                  "DO UPDATE SET docs = search_word.docs + excluded.docs"), changes)
                conn.execute(text("DELETE FROM search_word WHERE docs <= 0 AND word = ANY(:ws)"),
                             {"ws": [c["w"] for c in changes if c["d"] < 0]})

        self._run(write, write=True)

    def rebuild(self, documents: Iterable[SearchDocument]) -> int:
        """Replace every document in one transaction: readers see the old index until it commits."""

        def write(conn: Connection) -> int:
            self._lock_state(conn, _generation())
            conn.execute(text("DELETE FROM search_document"))
            count = 0
            batch: list[dict] = []
            for doc in documents:
                batch.append(_row(doc))
                if len(batch) >= 1000:
                    _insert(conn, batch)
                    count, batch = count + len(batch), []
            if batch:
                _insert(conn, batch)
                count += len(batch)
            _clean_pending_list(conn)
            conn.execute(text("DELETE FROM search_word"))
            conn.execute(text("INSERT INTO search_word (word, docs) SELECT w, count(*) FROM search_document, "
                              "unnest(spell) AS w GROUP BY w"))
            return count

        return self._run(write, write=True)

    # Inspecting ------------------------------------------------------------

    def _state(self, conn: Connection):
        return conn.execute(text("SELECT generation, updated_at FROM search_state WHERE id = 1")).first()

    def exists(self) -> bool:
        return self._run(lambda conn: bool((self._state(conn) or ("",))[0]))

    def status(self) -> IndexStatus:
        def read(conn: Connection) -> IndexStatus:
            state = self._state(conn)
            if state is None or not state[0]:
                return IndexStatus(exists=False, documents=0, last_update=None, generation=None)
            fingerprints = frozenset(tuple(r) for r in conn.execute(
                text("SELECT slug, version, content_hash FROM search_document")))
            return IndexStatus(True, len(fingerprints), state[1], state[0], fingerprints)

        return self._run(read)

    def parents_of(self, slugs: Iterable[str]) -> set[str]:
        slugs = sorted(set(slugs))
        if not slugs:
            return set()
        rows = self._run(lambda conn: conn.execute(
            text("SELECT parents FROM search_document WHERE slug = ANY(:s)"), {"s": slugs}).scalars().all())
        return {p for parents in rows for p in parents}

    def stored(self, slug: str) -> dict | None:
        row = self._run(lambda conn: conn.execute(
            text(f"SELECT {_HIT_COLUMNS}, parents, content_hash FROM search_document WHERE slug = :s"),
            {"s": slug}).mappings().first())
        return dict(row) if row else None

    def close(self) -> None:
        """Nothing to release: connections come from the engine's pool."""


def _clean_pending_list(conn: Connection) -> None:
    """Move the GIN indexes' pending lists into the indexes proper, so no search starts by reading them.

    Only the index's owner may; another role leaves it to autovacuum (and to the list's 256 kB cap).
    """
    try:
        with conn.begin_nested():
            conn.execute(text("SELECT gin_clean_pending_list('ix_search_document_document'::regclass), "
                              "gin_clean_pending_list('ix_search_document_filter_keys'::regclass)"))
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != "42501":  # insufficient_privilege
            raise
        log.info("search index: not the GIN index's owner, its pending list is left to autovacuum")


class _TimedOut(Exception):
    pass


def _generation() -> str:
    return f"pg-{datetime.now(UTC).strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(3)}"
