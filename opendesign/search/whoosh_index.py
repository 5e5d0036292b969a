"""The Whoosh implementation of :class:`~opendesign.search.service.SearchIndex`."""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from whoosh import index as whoosh_index
from whoosh import query

from . import querying
from .engine import Deadline, Evaluator, IndexStatistics, PostingCache, SegmentData
from .highlight import highlight, query_terms
from .ranking import Matched, facet_counts, top_by_key, top_by_score
from .schema import _PLAIN, FACET_FIELDS, to_fields
from .service import MAX_LIMIT, SORTS, Hit, IndexStatus, SearchIndex, SearchQuery, SearchResults
from .storage import IndexStorage
from .tables import TableCache

if TYPE_CHECKING:  # annotations only: documents.py loads the ORM, which a search does not need
    from .documents import SearchDocument

log = logging.getLogger(__name__)

#: Below this many results (or when AND was relaxed to OR) we look for a spelling correction.
SUGGEST_BELOW = 3
_SORT_KEYS = {"newest": "published", "most-forked": "forks", "most-produced": "productions"}
#: Memory the writer may use before it spills sorted runs to disk.
WRITER_LIMIT_MB = 256
#: A rebuild writes one segment per this many designs. Whoosh's spill-and-merge
#: of larger segments is superlinear (100k designs in one segment took 14 min,
#: ten segments of 10k about 2.5 min); the evaluator searches segments side by
#: side, so more of them cost little.
REBUILD_SEGMENT_DOCS = 10_000
#: A generation folder modified this recently (nanoseconds) is always checked in full: file
#: system timestamps are coarse, so a commit in the same clock tick may leave its mtime as it was.
SETTLED_NS = 2_000_000_000


@dataclass
class _ReaderState:
    stamp: tuple[int, int] | None
    generation: Path
    index: whoosh_index.Index
    searcher: object
    #: The generation folder's mtime when the searcher was last known up to date.
    folder_mtime: int | None = None


def _folder_mtime(path: Path) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


class WhooshSearchIndex(SearchIndex):
    """A Whoosh index in generations under *root* (see :mod:`.storage`)."""

    def __init__(self, root: str | Path, *, time_limit: float = 0.5, lock_timeout: float = 120.0):
        self.storage = IndexStorage(Path(root))
        self.time_limit = time_limit
        self.lock_timeout = lock_timeout
        self._local = threading.local()
        self._tables = TableCache()
        self._postings = PostingCache()
        self._segments: dict[str, SegmentData] = {}
        self._segments_lock = threading.Lock()
        self._stats = IndexStatistics(())

    # Reading ---------------------------------------------------------------

    def _searcher(self):
        """This thread's searcher on the live generation, reopened or refreshed when it changed."""
        state: _ReaderState | None = getattr(self._local, "state", None)
        stamp = self.storage.pointer_stamp()
        if state is not None and state.stamp == stamp:
            # A commit adds a TOC file to the folder, changing its mtime; listing the folder
            # (up_to_date()) on every search is only needed while that mtime may be stale.
            mtime = _folder_mtime(state.generation)
            if mtime is not None and mtime == state.folder_mtime and time.time_ns() - mtime > SETTLED_NS:
                return state.searcher
            if not state.searcher.up_to_date():
                # Not searcher.refresh(): it reuses the reader of any segment whose name
                # is unchanged, with that segment's old deletions, so replaced designs
                # would show twice. Segment data stays cached by name and deletion count.
                state.searcher.close()
                state.searcher = state.index.searcher()
            state.folder_mtime = mtime  # taken before the check: a later commit changes it again
            return state.searcher
        if state is not None:
            state.searcher.close()
            self._local.state = None
        generation = self.storage.current()
        if generation is None:
            return None
        mtime = _folder_mtime(generation)
        ix = whoosh_index.open_dir(str(generation))
        self._local.state = _ReaderState(stamp, generation, ix, ix.searcher(), mtime)
        return self._local.state.searcher

    def close(self) -> None:
        state = getattr(self._local, "state", None)
        if state is not None:
            state.searcher.close()
            self._local.state = None

    def search(self, request: SearchQuery) -> SearchResults:
        started = time.perf_counter()
        try:
            return self._search(request, started)
        except Exception:
            # A generation removed under us, a damaged segment: reopen once, then give up quietly.
            log.warning("search for %r failed; retrying on a fresh searcher", request.text, exc_info=True)
            self.close()
            try:
                return self._search(request, started)
            except Exception:
                log.exception("search for %r failed", request.text)
                return SearchResults(query=request.text, total=0, hits=[], facets={},
                                     took_ms=(time.perf_counter() - started) * 1000)

    def _search(self, request: SearchQuery, started: float) -> SearchResults:
        deadline = started + self.time_limit
        parsed = querying.parse(request.text)
        searcher = self._searcher()
        if searcher is None:
            return SearchResults(query=parsed.text, total=0, hits=[], facets={})
        limit = max(0, min(int(request.limit), MAX_LIMIT))
        offset = max(0, int(request.offset))
        sort = request.sort if request.sort in SORTS else "relevance"
        if parsed.match_all and sort == "relevance":
            sort = "newest"
        filters = self._filter_query(searcher, request.filters)

        def combine(q):
            return query.And([q, filters]) if filters is not None else q

        q = combine(parsed.query)
        matched = self._match(searcher, q, deadline)
        relaxed = False
        if matched.total == 0 and not matched.timed_out:
            any_word = querying.relaxed(parsed)
            if any_word is not None:
                q, relaxed = combine(any_word), True
                matched = self._match(searcher, q, deadline)
        timed_out = matched.timed_out
        if sort == "relevance":
            top = top_by_score(matched, offset + limit)
        else:
            top = top_by_key(matched, self._tables, _SORT_KEYS[sort], offset + limit)
        top = top[offset:offset + limit]
        terms = query_terms(q) if request.highlight else {}
        hits = [self._hit(searcher, docnum, score, terms) for score, docnum in top]
        facets = facet_counts(matched, self._tables) if request.facets else {}
        suggestion = None
        if request.suggest and not parsed.match_all and (relaxed or matched.total < SUGGEST_BELOW):
            suggestion = self._suggest(searcher, parsed, filters, matched.total, relaxed, deadline)
        return SearchResults(
            query=parsed.text, total=matched.total, hits=hits, facets=facets, suggestion=suggestion,
            fallback=parsed.fallback, relaxed=relaxed, timed_out=timed_out,
            took_ms=round((time.perf_counter() - started) * 1000, 3),
        )

    def _filter_query(self, searcher, filters) -> query.Query | None:
        """Values of one facet are alternatives; facets combine with AND. Unknown values match nothing."""
        clauses = []
        reader = searcher.reader()
        for fieldname, values in (filters or {}).items():
            if fieldname not in FACET_FIELDS:
                continue
            if isinstance(values, str):
                values = (values,)
            known = {t.decode("utf-8").lower(): t.decode("utf-8") for t in reader.lexicon(fieldname)} \
                if fieldname in reader.indexed_field_names() else {}
            terms = [query.Term(fieldname, known.get(str(v).strip().lower(), str(v).strip())) for v in values if v]
            if terms:
                clauses.append(query.Or(terms) if len(terms) > 1 else terms[0])
        if not clauses:
            return None
        return query.ConstantScoreQuery(query.And(clauses) if len(clauses) > 1 else clauses[0], 0.0)

    def _segment(self, leaf) -> SegmentData:
        """Per-segment data, rebuilt when the segment's deletions change."""
        reader = leaf.reader()
        key = _segment_key(reader)
        full = f"{key}:{reader.segment().deleted_count()}"
        with self._segments_lock:
            data = self._segments.get(full)
        if data is None:
            data = SegmentData(reader, key)
            with self._segments_lock:
                current = {_segment_key(leaf_.reader()) for leaf_, _ in leaf.get_parent().leaf_searchers()}
                for old_full, old in list(self._segments.items()):
                    if old.key == key:  # same segment, older deletions: keep its field lengths
                        data.adopt(old)
                    if old.key == key or old.key not in current:
                        del self._segments[old_full]
                self._segments[full] = data
        return data

    def _match(self, searcher, q, deadline: float) -> Matched:
        """Every matching document with its score, per segment."""
        leaves, total, timed_out = [], 0, False
        segments = [(leaf, offset, self._segment(leaf)) for leaf, offset in searcher.leaf_searchers()]
        stats = self._statistics(tuple(segment.key for _leaf, _offset, segment in segments))
        for leaf, offset, segment in segments:
            try:
                result = Evaluator(searcher, leaf, segment, self._postings, deadline, stats).evaluate(q)
            except Deadline:
                timed_out = True
                break
            docs = np.flatnonzero(result.mask & segment.live)
            leaves.append((leaf, segment.key, offset, docs, result.score[docs]))
            total += len(docs)
        return Matched(leaves, total, timed_out)

    def _statistics(self, key: tuple[str, ...]) -> IndexStatistics:
        """The BM25 statistics of this set of segments, started afresh when the set changes."""
        stats = self._stats
        if stats.key != key:
            stats = IndexStatistics(key)
            # Threads still on the previous set (until their next search) keep their own copy.
            self._stats = stats
        return stats

    def _hit(self, searcher, docnum: int, score: float, terms: dict[str, set[str]]) -> Hit:
        stored = searcher.stored_fields(docnum)
        marks = {}
        for fieldname, stemmed, whole in (("title", True, True), ("summary", True, False),
                                          ("tags", True, True), ("authors", False, True)):
            wanted = terms.get(fieldname)
            value = stored.get(fieldname)
            if isinstance(value, list):
                value = ", ".join(value)
            snippet = highlight(value or "", wanted or set(), stemmed=stemmed, whole=whole)
            if snippet:
                marks[fieldname] = snippet
        published_ts, forks, productions = stored.get("numbers") or (0, 0, 0)
        published = datetime.fromtimestamp(published_ts, UTC).isoformat()
        return Hit(
            slug=stored["slug"], version=stored.get("version", ""), title=stored.get("title", ""),
            summary=stored.get("summary", ""), score=round(score, 4), category=stored.get("category", ""),
            license=stored.get("license", ""), tags=list(stored.get("tags") or []),
            authors=list(stored.get("authors") or []), forks=int(forks), productions=int(productions),
            published=published, highlights=marks,
        )

    def _suggest(self, searcher, parsed, filters, total: int, relaxed: bool, deadline: float) -> str | None:
        reader = searcher.reader()
        if "spell" not in reader.indexed_field_names():
            return None
        corrections: dict[str, str] = {}
        for word in dict.fromkeys(w.lower() for w in parsed.words):
            if len(word) < 3 or word.isdigit() or word.upper() in querying.OPERATORS:
                continue
            if not [t.text for t in _PLAIN(word)] or reader.doc_frequency("spell", word):
                continue
            for distance in (1, 2):
                candidates = list(reader.terms_within("spell", word, distance, prefix=1))
                if candidates:
                    corrections[word] = max(candidates, key=lambda c: (reader.doc_frequency("spell", c), c))
                    break
        if not corrections:
            return None
        pattern = re.compile(r"\b(" + "|".join(map(re.escape, corrections)) + r")\b", re.IGNORECASE)
        text = pattern.sub(lambda m: corrections[m.group(0).lower()], parsed.text)
        corrected = querying.parse(text)
        q = corrected.query if filters is None else query.And([corrected.query, filters])
        better = self._match(searcher, q, deadline)
        if better.total > (0 if relaxed else total):
            return text
        return None

    # Writing ---------------------------------------------------------------

    def _create(self) -> Path:
        generation = self.storage.new_generation()
        whoosh_index.create_in(str(generation), querying.SCHEMA)
        return generation

    def apply(self, documents: Iterable[SearchDocument], deleted: Iterable[str] = ()) -> None:
        documents, deleted = list(documents), sorted(set(deleted))
        if not documents and not deleted:
            return
        with self.storage.write_lock(self.lock_timeout):
            generation = self.storage.current()
            if generation is None:
                generation = self._create()
                self.storage.publish(generation)
            ix = whoosh_index.open_dir(str(generation))
            writer = ix.writer(limitmb=WRITER_LIMIT_MB)
            try:
                for slug in deleted:
                    writer.delete_by_term("slug", slug)
                for doc in documents:
                    writer.update_document(**to_fields(doc))
            except BaseException:
                writer.cancel()
                raise
            writer.commit()

    def rebuild(self, documents: Iterable[SearchDocument]) -> int:
        with self.storage.write_lock(self.lock_timeout):
            generation = self._create()
            try:
                ix = whoosh_index.open_dir(str(generation))
                count = 0
                for chunk in _chunks(documents, REBUILD_SEGMENT_DOCS):
                    writer = ix.writer(limitmb=WRITER_LIMIT_MB)
                    try:
                        for doc in chunk:
                            writer.add_document(**to_fields(doc))
                            count += 1
                    except BaseException:
                        writer.cancel()
                        raise
                    writer.commit(merge=False)
                self.storage.publish(generation)
            except BaseException:
                self.storage.discard(generation)
                raise
        return count

    # Inspecting ------------------------------------------------------------

    def exists(self) -> bool:
        return self.storage.current() is not None

    def status(self) -> IndexStatus:
        generation = self.storage.current()
        if generation is None:
            return IndexStatus(exists=False, documents=0, last_update=None, generation=None)
        ix = whoosh_index.open_dir(str(generation))
        with ix.searcher() as searcher:
            fingerprints = frozenset((f["slug"], f.get("version", ""), f.get("content_hash", ""))
                                     for f in searcher.all_stored_fields())
            count = searcher.doc_count()
        toc = max((p.stat().st_mtime for p in generation.glob("*.toc")), default=None)
        last = datetime.fromtimestamp(toc, UTC) if toc else None
        return IndexStatus(True, count, last, generation.name, fingerprints)

    def stored(self, slug: str) -> dict | None:
        """The stored fields of one design, or None when it is not indexed."""
        searcher = self._searcher()
        return None if searcher is None else searcher.document(slug=slug)

    def parents_of(self, slugs: Iterable[str]) -> set[str]:
        searcher = self._searcher()
        if searcher is None:
            return set()
        parents: set[str] = set()
        for slug in slugs:
            fields = searcher.document(slug=slug)
            if fields:
                parents.update(fields.get("parents") or ())
        return parents



def _segment_key(reader) -> str:
    """Names one segment of one generation; a segment's postings never change."""
    folder = getattr(getattr(reader, "_storage", None), "folder", "")
    return f"{folder}:{reader.segment().segment_id()}"


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
