"""A parsed query (:mod:`.querying`) as a PostgreSQL ``WHERE`` clause and ranking ``tsquery``.

The same parser decides what a person meant for both backends, so the
malformed-query guards, the fallback to plain words and the relaxed any-word
query behave the same. Only the leaves differ: every word, phrase or prefix
goes to PostgreSQL as a bound parameter of ``websearch_to_tsquery`` (never
``to_tsquery`` on what was typed), and the tree's AND / OR / NOT become SQL
boolean operators around ``@@`` tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from whoosh import query

from .pg_tables import PLAIN, STEMMED
from .querying import ParsedQuery, relaxed
from .schema import FACET_FIELDS, TEXT_FIELDS

#: Field -> (tsvector column, text search configuration).
_TEXT_COLUMNS = {"title": ("title_tsv", STEMMED), "tags": ("tags_tsv", STEMMED),
                 "summary": ("summary_tsv", STEMMED), "body": ("body_tsv", STEMMED),
                 "authors": ("authors_tsv", PLAIN), "makers": ("makers_tsv", PLAIN)}
#: Facet field -> (column, whether it holds an array); the ``facets`` column holds them all as ``name:value``,
#: ``filter_keys`` the same lower-cased, for filters.
FACET_COLUMNS = {"category": ("category", False), "license": ("licenses", True), "family": ("families", True),
                 "process": ("processes", True), "has_makers": ("has_makers", False),
                 "country": ("countries", True)}
ANY_FIELD = "*"
_LEAVES = (query.Term, query.Phrase, query.Prefix, query.Wildcard)
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class SqlQuery:
    """A boolean SQL expression over ``search_document`` and the positive ``tsquery`` to rank by."""

    where: str
    #: English-stemmed tsquery of every positive leaf, OR'ed: for ts_rank and ts_headline; None: nothing to rank.
    rank: str | None
    #: The same leaves under the unstemmed configuration, to mark names (authors).
    rank_plain: str | None
    params: dict[str, object] = field(default_factory=dict)


class _Builder:
    def __init__(self, prefix: str):
        self.prefix = prefix
        self.params: dict[str, object] = {}
        self.rank: list[str] = []
        self.rank_plain: list[str] = []

    def bind(self, value: object) -> str:
        name = f"{self.prefix}{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    # Leaves -----------------------------------------------------------------

    def tsquery(self, kind: str, value: str, config: str) -> str:
        if kind == "prefix":
            # The literal head of ``sol*`` (three word characters at least, see querying) as a prefix lexeme:
            # quote_literal makes it one quoted lexeme, so nothing typed is read as tsquery syntax.
            return f"to_tsquery('{config}', quote_literal({self.bind(value)}) || ':*')"
        return f"websearch_to_tsquery('{config}', {self.bind(value)})"

    def leaf(self, fieldname: str, kind: str, value: str, positive: bool) -> str:
        if fieldname in FACET_COLUMNS:
            return f"filter_keys @> ARRAY[CAST({self.bind(facet_key(fieldname, value))} AS text)]"
        if not value:
            return "FALSE"
        if fieldname == ANY_FIELD or fieldname not in _TEXT_COLUMNS:
            q = self.tsquery(kind, value, STEMMED)
            if positive:
                self.rank.append(q)
                self.rank_plain.append(self.tsquery(kind, value, PLAIN))
            if kind == "phrase":
                # ``ranked`` is the head of ``document`` (same positions), so a phrase found there is found
                # in ``document``; it is in the row, where ``document`` is read out of line.
                return f"(document @@ {self.index_query(kind, value)} AND (ranked @@ {q} OR document @@ {q}))"
            return f"document @@ {q}"
        column, config = _TEXT_COLUMNS[fieldname]
        q = self.tsquery(kind, value, config)
        if positive:
            self.rank.append(q if config == STEMMED else self.tsquery(kind, value, STEMMED))
            self.rank_plain.append(q if config == PLAIN else self.tsquery(kind, value, PLAIN))
        if config == STEMMED:
            # The GIN index on ``document`` narrows the rows; the field's own vector (a part of ``document``,
            # so what it matches ``document`` matches) decides.
            return f"(document @@ {self.index_query(kind, value) if kind == 'phrase' else q} AND {column} @@ {q})"
        return f"{column} @@ {q}"

    def index_query(self, kind: str, value: str) -> str:
        """What the GIN index answers exactly for a phrase: all of its words (``plainto_tsquery`` reads no
        syntax). Given ``document @@ phrase`` itself, PostgreSQL rechecks every candidate's whole
        ``document``, a read out of line per candidate."""
        assert kind == "phrase"
        return f"plainto_tsquery('{STEMMED}', {self.bind(value)})"

    # The tree -----------------------------------------------------------------

    def node(self, q: query.Query, source: str, positive: bool = True) -> str:
        if q is query.NullQuery or isinstance(q, query.qcore._NullQuery):
            return "FALSE"
        if isinstance(q, query.Every):
            return "TRUE"
        if isinstance(q, _LEAVES):
            return self.leaf(q.fieldname, *_leaf_value(q, source), positive)
        if isinstance(q, query.Not):
            return f"NOT COALESCE({self.node(q.query, source, not positive)}, FALSE)"
        if isinstance(q, query.AndNot):
            return (f"({self.node(q.a, source, positive)} AND NOT COALESCE("
                    f"{self.node(q.b, source, not positive)}, FALSE))")
        if isinstance(q, query.AndMaybe):
            return self.node(q.a, source, positive)
        if isinstance(q, query.Or):
            return _join(" OR ", [self.node(c, source, positive) for c in _collapse(q.subqueries)], "FALSE")
        if isinstance(q, query.And):
            return _join(" AND ", [self.node(c, source, positive) for c in q.subqueries], "TRUE")
        if isinstance(q, query.WrappingQuery):
            return self.node(q.child, source, positive)
        return _join(" AND ", [self.node(c, source, positive) for c in q.children()], "TRUE")

    def words(self, words: tuple[str, ...], any_word: bool) -> str:
        """Plain words, each its own ``websearch_to_tsquery`` (a typed ``or`` is a word, as in Whoosh).

        Combined with ``&&`` / ``||`` inside one tsquery, so stop words (an empty tsquery) drop out
        as Whoosh's analyzer drops them.
        """
        words = tuple(w for w in words if _WORD.search(w))
        if not words:
            return "FALSE"
        op = " || " if any_word else " && "
        stemmed = "(" + op.join(self.tsquery("word", w, STEMMED) for w in words) + ")"
        self.rank.append(stemmed)
        self.rank_plain.append("(" + op.join(self.tsquery("word", w, PLAIN) for w in words) + ")")
        return f"document @@ {stemmed}"

    def result(self, where: str) -> SqlQuery:
        rank = " || ".join(self.rank) or None
        rank_plain = " || ".join(self.rank_plain) or None
        return SqlQuery(where, rank and f"({rank})", rank_plain and f"({rank_plain})", self.params)


def _join(op: str, parts: list[str], empty: str) -> str:
    return "(" + op.join(parts) + ")" if parts else empty


def _leaf_value(q: query.Query, source: str) -> tuple[str, str]:
    """(kind, the words to hand PostgreSQL) for one leaf: as typed when the parser says where."""
    if isinstance(q, query.Phrase):
        return "phrase", '"' + " ".join(str(w) for w in q.words) + '"'
    if isinstance(q, (query.Prefix, query.Wildcard)):
        head = re.split(r"[*?]", str(q.text), maxsplit=1)[0]
        return "prefix", "".join(_WORD.findall(head)).lower()
    start, end = getattr(q, "startchar", None), getattr(q, "endchar", None)
    typed = source[start:end] if source and start is not None and end is not None else ""
    # Typed text must be one plain token: a hyphen or quote in it would be websearch syntax.
    value = typed if typed and " ".join(_WORD.findall(typed)) == typed else str(q.text)
    return "word", value


def _collapse(children) -> list[query.Query]:
    """The parser expands a word into one leaf per default field; fold such a group into one any-field leaf."""
    groups: dict[tuple, list[query.Query]] = {}
    order: list[tuple] = []
    for child in children:
        if isinstance(child, _LEAVES) and child.fieldname in TEXT_FIELDS:
            key = (type(child), getattr(child, "startchar", None), getattr(child, "endchar", None),
                   str(getattr(child, "text", "")), tuple(getattr(child, "words", ()) or ()))
        else:
            key = ("other", id(child))
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(child)
    out = []
    for key in order:
        group = groups[key]
        if key[0] != "other" and {c.fieldname for c in group} == set(TEXT_FIELDS):
            leaf = group[0].copy()
            leaf.fieldname = ANY_FIELD
            out.append(leaf)
        else:
            out.extend(group)
    return out


def translate(parsed: ParsedQuery, prefix: str = "q") -> SqlQuery:
    """*parsed* as SQL. Plain (not explicit) text is its words, all of them required."""
    builder = _Builder(prefix)
    if parsed.match_all:
        return builder.result("TRUE")
    if not parsed.explicit:
        return builder.result(builder.words(parsed.words, any_word=False))
    return builder.result(builder.node(parsed.query, parsed.source))


def translate_relaxed(parsed: ParsedQuery, prefix: str = "r") -> SqlQuery | None:
    """The any-word query where :func:`.querying.relaxed` would make one, else None."""
    if relaxed(parsed) is None:
        return None
    builder = _Builder(prefix)
    return builder.result(builder.words(parsed.words, any_word=True))


def facet_key(fieldname: str, value: str) -> str:
    """One entry of the ``filter_keys`` column: a ``facets`` entry lower-cased, as facet values compare
    without case in Whoosh.

    Every facet filter is a test of ``filter_keys``, which has a GIN index (migration 0011): a filtered word
    reads the rows both indexes agree on rather than every match of the word. It is also kept in the row,
    so a row the planner tests one by one costs no toast read.
    """
    return f"{fieldname}:{value}".lower()


def filter_clause(filters, prefix: str = "f") -> tuple[str | None, dict[str, object]]:
    """Values of one facet are alternatives; facets combine with AND; unknown facets are ignored."""
    builder = _Builder(prefix)
    clauses = []
    for fieldname, values in (filters or {}).items():
        if fieldname not in FACET_FIELDS:
            continue
        if isinstance(values, str):
            values = (values,)
        wanted = [str(v).strip().lower() for v in values if v and str(v).strip()]
        if not wanted:
            continue
        keys = builder.bind([facet_key(fieldname, v) for v in wanted])
        clauses.append(f"filter_keys && CAST({keys} AS text[])")
    return (" AND ".join(clauses) if clauses else None), builder.params
