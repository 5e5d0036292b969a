"""Turning what a person typed into a Whoosh query that cannot hurt the index.

Whoosh's parser has failure modes (``NOT OR foo`` raises IndexError, thousands
of nested parentheses raise RecursionError, a lone ``*`` expands to every term
of every field). So the text is cleaned first (control characters, length,
leading wildcards, unknown field names), parsed with a parser that only knows
the syntax we support, checked, and on any doubt searched as the plain words
it contains.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from whoosh import qparser, query
from whoosh.qparser import syntax

from .schema import FACET_FIELDS, TEXT_FIELDS, build_schema

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 256
MAX_WORDS = 32
MAX_NESTING = 8
#: Literal characters a wildcard term must start with (``sol*`` yes, ``s*`` no).
MIN_WILDCARD_PREFIX = 3

#: Field names a person may type, including friendly singulars.
FIELD_ALIASES = {
    **{name: name for name in TEXT_FIELDS},
    **{name: name for name in FACET_FIELDS},
    "authors": "authors", "makers": "makers", "tag": "tags", "author": "authors", "maker": "makers",
    "readme": "body", "parts": "body", "part": "body", "material": "body", "parameters": "body",
    "parameter": "body", "licence": "license", "text": "body",
}
OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_FIELD_PREFIX = re.compile(r"(?<![\w.-])([A-Za-z_]+):")
_LEADING_WILDCARD = re.compile(r"(?<![\w])[*?]+")
_WORD = re.compile(r"\w+", re.UNICODE)
#: Text with no syntax at all: ASCII words separated by single spaces.
_SIMPLE = re.compile(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*")
#: Single words parsed before, reused by :func:`_simple_query`; started over when full.
_WORD_QUERIES: dict[str, query.Query] = {}
MAX_WORD_QUERIES = 10_000


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    #: The plain words, for suggestions and the relaxed (any word) query.
    words: tuple[str, ...]
    query: query.Query
    #: True when the text was searched as plain words instead of as written.
    fallback: bool
    #: True when the text holds no searchable words: every design matches.
    match_all: bool
    #: True when the person used operators; then we never relax AND to OR.
    explicit: bool
    #: The exact text an explicit query was parsed from: its terms' ``startchar``/``endchar`` point into it,
    #: so another backend (:mod:`.pg_query`) can hand the words as typed to its own parser.
    source: str = ""


def clean(text: str) -> tuple[str, bool]:
    """Control characters out, length capped; returns (text, whether it was cut)."""
    text = _CONTROL.sub(" ", text or "")
    cut = len(text) > MAX_QUERY_CHARS
    return " ".join(text[:MAX_QUERY_CHARS].split()), cut


def words_of(text: str) -> tuple[str, ...]:
    """The words of *text* without syntax: operators lower-cased, field names kept as words."""
    return tuple(_WORD.findall(text))[:MAX_WORDS]


def _nesting(text: str) -> int:
    depth = deepest = 0
    for ch in text:
        if ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == ")":
            depth = max(depth - 1, 0)
    return deepest


def _rewrite_fields(text: str) -> str:
    """Known field names to their schema name; an unknown ``name:`` is dropped, its value searched."""

    def repl(m: re.Match) -> str:
        target = FIELD_ALIASES.get(m.group(1).lower())
        return f"{target}:" if target else " "

    return _FIELD_PREFIX.sub(repl, text)


def _strip_weak_wildcards(text: str) -> str:
    """No leading wildcards, and none after fewer than three literal characters."""
    text = _LEADING_WILDCARD.sub(" ", text)

    def repl(m: re.Match) -> str:
        token = m.group(0)
        head = re.split(r"[*?]", token, maxsplit=1)[0]
        return token if len(head) >= MIN_WILDCARD_PREFIX else re.sub(r"[*?]", "", token)

    return re.sub(r"[^\s()\"]*[*?][^\s()\"]*", repl, text)


def _parser(group) -> qparser.QueryParser:
    parser = qparser.MultifieldParser(list(TEXT_FIELDS), SCHEMA, group=group)
    for plugin in (qparser.RangePlugin, qparser.BoostPlugin, qparser.FuzzyTermPlugin,
                   qparser.RegexPlugin, qparser.GtLtPlugin, qparser.PlusMinusPlugin):
        parser.remove_plugin_class(plugin)
    return parser


def _plain_parser(group) -> qparser.QueryParser:
    parser = qparser.MultifieldParser(list(TEXT_FIELDS), SCHEMA, group=group)
    parser.replace_plugin(qparser.WhitespacePlugin())
    for plugin in list(parser.plugins):
        if not isinstance(plugin, (qparser.WhitespacePlugin, qparser.MultifieldPlugin)):
            parser.remove_plugin(plugin)
    return parser


SCHEMA = build_schema()
_AND = _parser(syntax.AndGroup)
_OR = _parser(syntax.OrGroup.factory(0.9))
_PLAIN_AND = _plain_parser(syntax.AndGroup)
_PLAIN_OR = _plain_parser(syntax.OrGroup.factory(0.9))


def _acceptable(q: query.Query) -> bool:
    """False for what the parser made of garbage: nothing, or something unbounded."""
    if q is None or q is query.NullQuery or isinstance(q, query.qcore._NullQuery):
        return False
    stack, nodes = [(q, 0)], 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if depth > MAX_NESTING * 2 or nodes > 4 * MAX_WORDS * len(TEXT_FIELDS):
            return False
        if isinstance(node, query.Every):
            return False
        if isinstance(node, (query.Wildcard, query.Prefix)):
            literal = re.split(r"[*?]", node.text, maxsplit=1)[0]
            if len(literal) < MIN_WILDCARD_PREFIX:
                return False
        stack.extend((child, depth + 1) for child in node.children())
    return True


def _simple_query(words: tuple[str, ...]) -> query.Query:
    """What the parser makes of plain words, from each word parsed once.

    Whoosh's parser costs a few hundred microseconds per query, as much as
    evaluating it; for plain words its result is the AND of each word's own
    parse, normalised (a test checks this against the parser).
    """
    global _WORD_QUERIES
    parts = []
    for word in words:
        q = _WORD_QUERIES.get(word)
        if q is None:
            if len(_WORD_QUERIES) >= MAX_WORD_QUERIES:
                _WORD_QUERIES = {}
            q = _WORD_QUERIES[word] = _AND.parse(word)
        parts.append(q)
    return query.And(parts).normalize()


def plain_query(words: tuple[str, ...], any_word: bool = False) -> query.Query | None:
    """Every word (or any word) in any text field, no syntax at all."""
    if not words:
        return None
    parser = _PLAIN_OR if any_word else _PLAIN_AND
    q = parser.parse(" ".join(w.lower() for w in words))
    return None if isinstance(q, query.qcore._NullQuery) else q


def parse(text: str) -> ParsedQuery:
    """Parse *text* safely; never raises."""
    cleaned, cut = clean(text)
    words = words_of(cleaned)
    plain = tuple(w for w in words if w not in OPERATORS)
    if not plain and not cleaned.strip(" *?()\"'"):
        return ParsedQuery(cleaned, (), query.Every(), False, True, False)
    if not cut and _nesting(cleaned) <= MAX_NESTING:
        prepared = _strip_weak_wildcards(_rewrite_fields(cleaned))
        plain = tuple(w for w in words_of(prepared) if w not in OPERATORS)
        explicit = any(w in OPERATORS for w in words) or any(c in prepared for c in '"():*?')
        try:
            simple = not explicit and _SIMPLE.fullmatch(prepared) is not None
            q = _simple_query(tuple(prepared.split(" "))) if simple else _AND.parse(prepared)
            if _acceptable(q):
                return ParsedQuery(cleaned, plain, q, False, False, explicit, prepared if explicit else "")
        except Exception:  # the parser's own bugs: IndexError, RecursionError...
            log.debug("query %r did not parse; searching its words", cleaned, exc_info=True)
    words = tuple(w.lower() for w in words)
    q = plain_query(words)
    if q is None:  # only stop words or symbols
        return ParsedQuery(cleaned, words, query.NullQuery, True, False, False)
    return ParsedQuery(cleaned, words, q, True, False, False)


def relaxed(parsed: ParsedQuery) -> query.Query | None:
    """The any-word version of a plain multi-word query, or None when it does not apply."""
    if parsed.explicit or parsed.match_all or len(parsed.words) < 2:
        return None
    return plain_query(parsed.words, any_word=True)
