"""Query evaluation over Whoosh segments with numpy.

Whoosh stores the index (segments, postings, stored fields) and parses
queries; evaluating them with its matchers costs several microseconds of
Python per matching document and per pass, which at 10,000 designs already
means tens of milliseconds for a common word. Here a query is evaluated per
segment as dense arrays instead: each term's posting list is decoded once into
(docnums, term frequencies) and cached while the segment lives; And, Or, Not
and filters become boolean operations and BM25F scores vector additions.
Phrases, wildcards and anything unusual go through Whoosh's own matcher for
that node only, so every query Whoosh understands still works.

The decoding reads Whoosh 2.7 posting blocks directly (``W3LeafMatcher``);
if those internals ever change, the public matcher API is used instead —
slower, same results.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from whoosh import query

from .schema import TEXT_FIELDS

K1 = 1.2
B = 0.75
#: Bonus scale for matching more of the words when any word may match (Whoosh's OrGroup 0.9).
COORD = 0.9


class Deadline(Exception):
    """The time cap ran out while evaluating."""


@dataclass
class Evaluated:
    mask: np.ndarray  # bool[doc_count_all]
    score: np.ndarray  # float32[doc_count_all]


class PostingCache:
    """Decoded posting lists by (segment, field, term), least recently used out first."""

    def __init__(self, max_bytes: int = 64 * 1024**2):
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key, entry) -> None:
        size = entry[0].nbytes + entry[1].nbytes
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = entry
            self._bytes += size
            while self._bytes > self.max_bytes and len(self._entries) > 1:
                _, (ids, tf) = self._entries.popitem(last=False)
                self._bytes -= ids.nbytes + tf.nbytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


def decode_postings(reader, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(docnums, weights) of one term in one segment, deleted documents included."""
    fmt = reader.schema[fieldname].format
    try:
        m = reader._terms.matcher(fieldname, btext, fmt, scorer=None)
        ids_parts, weight_parts = [], []
        while m.is_active():
            if m._data is None:
                m._read_data()
            raw_ids, weights = m._data[0], m._data[1]
            ids = np.cumsum(np.asarray(raw_ids, dtype=np.int64))  # blocks are delta-coded from 0
            ids_parts.append(ids)
            if weights is None:
                weight_parts.append(np.ones(len(ids), dtype=np.float32))
            elif isinstance(weights, float):
                weight_parts.append(np.full(len(ids), weights, dtype=np.float32))
            else:
                weight_parts.append(np.asarray(weights, dtype=np.float32))
            m._next_block()
        if not ids_parts:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        return np.concatenate(ids_parts), np.concatenate(weight_parts)
    except AttributeError:  # not the Whoosh 2.7 codec: walk the public matcher API
        m = reader.postings(fieldname, btext)
        ids, weights = [], []
        while m.is_active():
            ids.append(m.id())
            weights.append(m.weight())
            m.next()
        return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float32)


def _field_lengths(reader, fieldname: str, n: int) -> np.ndarray:
    try:
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
        from whoosh.util.numeric import byte_to_length

        table = np.array([byte_to_length(b) for b in range(256)], dtype=np.float32)
        column = reader._perdoc.column_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        raw = np.fromiter((column[i] for i in range(n)), dtype=np.uint8, count=n)
        return table[raw]
    except Exception:
        return np.fromiter((reader.doc_field_length(i, fieldname, 0) for i in range(n)), dtype=np.float32,
                           count=n)


def decode_positions(reader, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(docnum, position) for every occurrence of one term in one segment."""
    fmt = reader.schema[fieldname].format
    m = reader.postings(fieldname, btext)
    while hasattr(m, "child"):  # unwrap the deleted-documents filter: deletions are masked later
        m = m.child
    docs, positions = [], []
    while m.is_active():
        found = fmt.decode_positions(m.value())
        docs.extend([m.id()] * len(found))
        positions.extend(found)
        m.next()
    return np.asarray(docs, dtype=np.int64), np.asarray(positions, dtype=np.int64)


class SegmentData:
    """What evaluation needs from one segment: live documents and per-field lengths."""

    def __init__(self, reader, key: str):
        self.key = key
        self.n = reader.doc_count_all()
        self._lengths: dict[str, np.ndarray] = {}
        self.live = np.ones(self.n, dtype=bool)
        if reader.has_deletions():
            deleted = getattr(reader, "deleted_docs_set", None)
            deleted = deleted() if callable(deleted) else deleted
            if deleted is None:
                deleted = [d for d in range(self.n) if reader.is_deleted(d)]
            deleted = np.fromiter(deleted, dtype=np.int64)
            self.live[deleted[deleted < self.n]] = False

    def adopt(self, older: SegmentData) -> None:
        """Reuse what does not depend on deletions from the same segment's older data."""
        for fieldname, lengths in older._lengths.items():
            self._lengths.setdefault(fieldname, lengths)

    def lengths(self, fieldname: str, reader) -> np.ndarray:
        """Per-document lengths of *fieldname*; *reader* is any open reader of this segment."""
        lengths = self._lengths.get(fieldname)
        if lengths is None:
            lengths = self._lengths[fieldname] = _field_lengths(reader, fieldname, self.n)
        return lengths


class IndexStatistics:
    """Whole-index BM25 statistics (idf per term, average field lengths) for one set of segments.

    Whoosh counts deleted documents in all of them (document frequencies, field
    lengths, ``doc_count_all``), so they depend only on which segments make up
    the index, and segments never change: the caller keys this by the segment
    set and starts a new one when it changes. Looking a term's frequency up in
    every segment's hashed term table cost more than scoring it.
    """

    #: Distinct terms remembered before starting over (every typo someone searches adds one).
    MAX_TERMS = 100_000

    def __init__(self, key: tuple[str, ...]):
        self.key = key
        self._idf: dict[tuple[str, object], float] = {}
        self._avg: dict[str, float] = {}
        self._doc_count: int | None = None

    def idf(self, top_searcher, fieldname: str, text) -> float:
        # Races between threads only compute the same value twice.
        value = self._idf.get((fieldname, text))
        if value is None:
            if self._doc_count is None:
                self._doc_count = max(top_searcher.doc_count_all(), 1)
            df = top_searcher.doc_frequency(fieldname, text)
            if len(self._idf) >= self.MAX_TERMS:
                self._idf = {}
            value = self._idf[(fieldname, text)] = math.log(1 + (self._doc_count - df + 0.5) / (df + 0.5))
        return value

    def avg_field_length(self, top_searcher, fieldname: str) -> float:
        value = self._avg.get(fieldname)
        if value is None:
            value = self._avg[fieldname] = top_searcher.avg_field_length(fieldname) or 1.0
        return value


class Evaluator:
    """Evaluates one query on one segment; statistics (idf, average lengths) come from the whole index."""

    def __init__(self, top_searcher, leaf, segment: SegmentData, cache: PostingCache, deadline: float,
                 stats: IndexStatistics | None = None):
        self.top = top_searcher
        self.leaf = leaf
        self.segment = segment
        self.reader = leaf.reader()
        self.cache = cache
        self.deadline = deadline
        self.n = segment.n
        self.stats = stats if stats is not None else IndexStatistics(())

    def _check_clock(self) -> None:
        if time.perf_counter() > self.deadline:
            raise Deadline

    def _empty(self) -> Evaluated:
        return Evaluated(np.zeros(self.n, dtype=bool), np.zeros(self.n, dtype=np.float32))

    def postings(self, fieldname: str, text) -> tuple[np.ndarray, np.ndarray]:
        field = self.leaf.schema[fieldname] if fieldname in self.leaf.schema else None
        if field is None:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        btext = field.to_bytes(text) if not isinstance(text, bytes) else text
        key = (self.segment.key, fieldname, btext)
        entry = self.cache.get(key)
        if entry is None:
            reader = self.reader
            if (fieldname, btext) in reader:
                entry = decode_postings(reader, fieldname, btext)
            else:
                entry = (np.empty(0, np.int64), np.empty(0, np.float32))
            self.cache.put(key, entry)
        return entry

    def positions(self, fieldname: str, text) -> tuple[np.ndarray, np.ndarray]:
        field = self.leaf.schema[fieldname]
        btext = field.to_bytes(text) if not isinstance(text, bytes) else text
        key = (self.segment.key, fieldname, btext, "positions")
        entry = self.cache.get(key)
        if entry is None:
            if (fieldname, btext) in self.reader:
                entry = decode_positions(self.reader, fieldname, btext)
            else:
                entry = (np.empty(0, np.int64), np.empty(0, np.int64))
            self.cache.put(key, entry)
        return entry

    def evaluate(self, q: query.Query) -> Evaluated:
        self._check_clock()
        method = getattr(self, "_eval_" + type(q).__name__, None)
        if method is None:
            return self._whoosh(q)
        return method(q)

    # Leaves ------------------------------------------------------------------

    def term(self, q: query.Term) -> tuple[np.ndarray, np.ndarray | None]:
        """(docnums, BM25F scores) of one term; scores None for unscored fields."""
        ids, weights = self.postings(q.fieldname, q.text)
        field = self.leaf.schema[q.fieldname] if q.fieldname in self.leaf.schema else None
        if not len(ids) or field is None or not field.scorable:
            return ids, None
        stored_boost = getattr(field.format, "field_boost", 1.0) or 1.0
        boost = TEXT_FIELDS.get(q.fieldname, stored_boost)
        idf = self.stats.idf(self.top, q.fieldname, q.text)
        avg = self.stats.avg_field_length(self.top, q.fieldname)
        numerator, denominator = self._bm25_parts(q.fieldname, q.text, weights, ids, stored_boost, avg)
        # Same operations in the same order as scoring from scratch, so scores are bit for bit equal.
        return ids, (boost * q.boost * idf) * numerator / denominator

    def _bm25_parts(self, fieldname: str, text, weights, ids, stored_boost: float, avg: float):
        """The query-independent arrays of a term's BM25 score, cached with its postings."""
        btext = text if isinstance(text, bytes) else self.leaf.schema[fieldname].to_bytes(text)
        key = (self.segment.key, fieldname, btext, "bm25", avg)
        entry = self.cache.get(key)
        if entry is None:
            # Postings store tf x field boost; the boost multiplies the BM25 score instead.
            tf = weights / stored_boost
            dl = self.segment.lengths(fieldname, self.reader)[ids]
            entry = (tf * (K1 + 1), tf + K1 * ((1 - B) + B * dl / avg))
            self.cache.put(key, entry)
        return entry

    def _eval_Term(self, q: query.Term) -> Evaluated:
        out = self._empty()
        ids, scores = self.term(q)
        out.mask[ids] = True
        if scores is not None:
            out.score[ids] = scores
        return out

    def _eval_Phrase(self, q: query.Phrase) -> Evaluated:
        """Exact phrases: occurrences keyed (doc, position - offset in phrase) must line up for every word."""
        field = self.leaf.schema[q.fieldname] if q.fieldname in self.leaf.schema else None
        if q.slop != 1 or len(q.words) < 2 or field is None or not field.format.supports("positions"):
            return self._whoosh(q)
        terms = [self.term(query.Term(q.fieldname, w, boost=q.boost)) for w in q.words]
        candidates = terms[0][0]
        for ids, _scores in terms[1:]:
            candidates = np.intersect1d(candidates, ids, assume_unique=True)
        out = self._empty()
        if not len(candidates):
            return out
        keys = None
        width = len(q.words)
        for i, word in enumerate(q.words):
            docs, positions = self.positions(q.fieldname, word)
            chosen = np.isin(docs, candidates)
            k = docs[chosen] * (1 << 32) + (positions[chosen] + width - i)
            keys = np.unique(k) if keys is None else np.intersect1d(keys, k)
            if not len(keys):
                return out
        matched = np.unique(keys >> 32)
        out.mask[matched] = True
        total = np.zeros(self.n, dtype=np.float32)
        for ids, scores in terms:
            if scores is not None:
                total[ids] += scores
        out.score[matched] = total[matched]
        return out

    def _eval_Every(self, q) -> Evaluated:
        return Evaluated(self.segment.live.copy(), np.zeros(self.n, dtype=np.float32))

    def _eval__NullQuery(self, q) -> Evaluated:
        return self._empty()

    def _eval_ConstantScoreQuery(self, q) -> Evaluated:
        inner = self.evaluate(q.child)
        inner.score[:] = 0
        inner.score[inner.mask] = q.score
        return inner

    # Compounds ---------------------------------------------------------------

    def _eval_And(self, q: query.And) -> Evaluated:
        positive = [s for s in q.subqueries if not isinstance(s, query.Not)]
        negative = [s.query for s in q.subqueries if isinstance(s, query.Not)]
        if not positive:
            out = self._eval_Every(q)
        else:
            # Most selective first, so an empty intersection stops early.
            parts = [self.evaluate(s) for s in positive]
            parts.sort(key=lambda e: int(e.mask.sum()))
            out = parts[0]
            for part in parts[1:]:
                if not out.mask.any():
                    break
                out.mask &= part.mask
                out.score += part.score
        for s in negative:
            out.mask &= ~self.evaluate(s).mask
        out.score[~out.mask] = 0
        return out

    def _eval_Or(self, q: query.Or) -> Evaluated:
        subs = [s for s in q.subqueries if not isinstance(s, query.Not)]
        if not subs:
            return self._empty()
        out = self._empty()
        hits = np.zeros(self.n, dtype=np.int16) if q.scale else None
        for s in subs:
            if type(s) is query.Term:  # the common case, one word in one field: no dense temporaries
                ids, scores = self.term(s)
                out.mask[ids] = True
                if scores is not None:
                    out.score[ids] += scores
                if hits is not None:
                    hits[ids] += 1
                continue
            part = self.evaluate(s)
            out.mask |= part.mask
            out.score += part.score
            if hits is not None:
                hits += part.mask
        if hits is not None and len(subs) > 1:
            out.score *= 1.0 - q.scale + q.scale * hits / len(subs)
        if q.boost != 1.0:
            out.score *= q.boost
        return out

    def _eval_DisjunctionMax(self, q) -> Evaluated:
        out = self._empty()
        for s in q.subqueries:
            part = self.evaluate(s)
            out.mask |= part.mask
            np.maximum(out.score, part.score, out=out.score)
        return out

    def _eval_Not(self, q: query.Not) -> Evaluated:
        inner = self.evaluate(q.query)
        return Evaluated(self.segment.live & ~inner.mask, np.zeros(self.n, dtype=np.float32))

    def _eval_AndNot(self, q) -> Evaluated:
        out = self.evaluate(q.a)
        out.mask &= ~self.evaluate(q.b).mask
        out.score[~out.mask] = 0
        return out

    def _eval_AndMaybe(self, q) -> Evaluated:
        out = self.evaluate(q.a)
        extra = self.evaluate(q.b)
        out.score += np.where(out.mask, extra.score, 0)
        return out

    def _eval_Require(self, q) -> Evaluated:
        out = self.evaluate(q.a)
        out.mask &= self.evaluate(q.b).mask
        out.score[~out.mask] = 0
        return out

    # Everything else (phrases, wildcards, prefixes): Whoosh's matcher ------------

    def _whoosh(self, q: query.Query) -> Evaluated:
        out = self._empty()
        matcher = q.matcher(self.leaf, self.leaf.context())
        ids, scores, clock, deadline = [], [], time.perf_counter, self.deadline
        while matcher.is_active():
            ids.append(matcher.id())
            scores.append(matcher.score())
            if len(ids) % 256 == 0 and clock() > deadline:
                raise Deadline
            matcher.next()
        if ids:
            idx = np.asarray(ids, dtype=np.int64)
            out.mask[idx] = True
            out.score[idx] = np.asarray(scores, dtype=np.float32)
        return out
