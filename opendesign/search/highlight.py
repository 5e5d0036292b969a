"""Highlighted snippets for result cards.

Whoosh's own highlighter re-runs its fragment scoring machinery per hit; for
the two short stored fields a card shows, tokenising with the field's
analyzer and marking the tokens whose indexed form the query matched is much
cheaper and gives the same marks.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape

from whoosh import query
from whoosh.lang.porter import stem

_TOKEN = re.compile(r"\w+(?:\.?\w+)*", re.UNICODE)  # Whoosh's default tokenizer pattern

SNIPPET_CHARS = 220


def query_terms(q: query.Query) -> dict[str, set[str]]:
    """Field name -> the indexed term texts *q* looks for (negated parts excluded)."""
    terms: dict[str, set[str]] = {}

    def walk(node: query.Query) -> None:
        if isinstance(node, query.Not):
            return
        for child in node.children():
            walk(child)
        if isinstance(node, query.Term):
            terms.setdefault(node.fieldname, set()).add(str(node.text))
        elif isinstance(node, query.Phrase):
            terms.setdefault(node.fieldname, set()).update(str(w) for w in node.words)
        elif isinstance(node, (query.Prefix, query.Wildcard)):
            terms.setdefault(node.fieldname, set()).add("\0prefix:" + str(node.text).split("*")[0].split("?")[0])

    walk(q)
    return terms


def _matches(token: str, wanted: set[str], prefixes: tuple[str, ...]) -> bool:
    return token in wanted or (bool(prefixes) and token.startswith(prefixes))


@lru_cache(maxsize=50_000)
def _stemmed(word: str) -> str:
    return stem(word)


def highlight(text: str, wanted: set[str], stemmed: bool = True, whole: bool = False) -> str | None:
    """*text* as HTML with matched words in ``<mark>``, or None when nothing matched.

    A word matches when its indexed form (lower-cased, stemmed if *stemmed*,
    as the field's analyzer makes it) is one the query looked for. Long texts
    are cut to a window around the first match unless *whole*.
    """
    if not text or not wanted:
        return None
    prefixes = tuple(w[8:] for w in wanted if w.startswith("\0prefix:"))
    spans = []
    for m in _TOKEN.finditer(text):
        token = m.group(0).lower()
        if _matches(_stemmed(token) if stemmed else token, wanted, prefixes):
            spans.append(m.span())
    if not spans:
        return None
    start, end = 0, len(text)
    if not whole and len(text) > SNIPPET_CHARS:
        first = spans[0][0]
        start = max(0, first - SNIPPET_CHARS // 4)
        start = text.rfind(" ", 0, start) + 1 if start else 0
        end = min(len(text), start + SNIPPET_CHARS)
        end = text.find(" ", end) if text.find(" ", end) != -1 else len(text)
    out, pos = [], start
    for s, e in spans:
        if s < start or e > end:
            continue
        out.append(escape(text[pos:s]))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        pos = e
    out.append(escape(text[pos:end]))
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return prefix + "".join(out) + suffix
