"""Search never fails on what a person types, and keeps answering while the index is rebuilt (both backends)."""

from __future__ import annotations

import fcntl
import logging
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from opendesign.search import IndexLocked, SearchDocument, SearchQuery, WhooshSearchIndex
from opendesign.search.querying import MAX_QUERY_CHARS, parse

WORDS = ["solar", "dryer", "water", "filter", "gear", "rotor", "stove", "compost", "panel", "frame"]


def make_docs(n: int) -> list[SearchDocument]:
    docs = []
    for i in range(n):
        a, b = WORDS[i % len(WORDS)], WORDS[(i * 3 + 1) % len(WORDS)]
        docs.append(SearchDocument(
            slug=f"design-{i}", version="1.0.0", title=f"{a.title()} {b} {i}", summary=f"A {a} for the {b}.",
            category=("water", "energy", "shelter")[i % 3], license="CC-BY-4.0", readme=f"Build the {a} {b}. " * 3,
            tags=(a, b), licenses=("CC-BY-4.0",), families=("permissive",), processes=("fdm",),
            parts=(f"{b} PETG",), forks=i % 4, published=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=i),
            content_hash=f"{i:064x}",
        ))
    return docs


@pytest.fixture
def built(new_index):
    index = new_index(time_limit=2.0)
    index.rebuild(make_docs(60))
    return index


@contextmanager
def write_lock_held_elsewhere(index):
    """The index's writer lock, held as another process would hold it."""
    if isinstance(index, WhooshSearchIndex):
        with open(index.storage.root / "write.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        return
    with index.engine.connect() as conn, conn.begin():
        conn.execute(text("SELECT 1 FROM search_state WHERE id = 1 FOR UPDATE"))
        yield


MALFORMED = [
    "NOT OR foo",
    "NOT OR solar",
    "(" * 5000 + "solar" + ")" * 5000,
    "((solar dryer",
    "solar dryer))))",
    "title:[a TO",
    "title:[a TO z]",
    "nosuchfield:solar",
    "nosuch:",
    "solar\x00dryer",
    "\x00\x00\x00",
    "x" * 10_000,
    "solar " * 2000,
    "*",
    "*olar",
    "?olar",
    "s*",
    "AND",
    "OR OR OR",
    "NOT",
    '"unclosed phrase',
    '""',
    "title:",
    ":",
    "^^^",
    "solar^",
    "solar~",
    "solar AND",
    "+-!@#$%^&*()",
    "category:",
    "category:water OR",
    "\u202e\ufeffsolar\u200b",
    "日本語 ソーラー",
    "",
    "   ",
]


@pytest.mark.parametrize("text", MALFORMED, ids=lambda t: repr(t[:24]))
def test_malformed_queries_return_normally(built, text, caplog):
    with caplog.at_level(logging.WARNING, logger="opendesign.search"):
        results = built.search(SearchQuery(text, filters={"category": ("water",)}))
    assert results.total >= 0 and len(results.hits) <= results.total
    assert not results.timed_out
    # The search did not swallow an internal error either.
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_malformed_queries_fall_back_to_their_words(built):
    assert parse("NOT OR solar").fallback
    results = built.search(SearchQuery("NOT OR solar"))
    assert results.fallback and results.total == built.search(SearchQuery("solar")).total > 0
    assert built.search(SearchQuery("title:[solar TO")).total > 0
    assert built.search(SearchQuery("nosuchfield:solar")).total > 0  # unknown field: searched as words
    assert built.search(SearchQuery("*")).total == 60  # nothing to look for: everything, newest first
    assert built.search(SearchQuery("*lar")).total == built.search(SearchQuery("lar")).total  # dropped, not expanded
    assert len(parse("x" * 10_000).text) == MAX_QUERY_CHARS


def test_field_queries_phrases_and_operators(built):
    assert built.search(SearchQuery("title:solar")).total == 12
    assert built.search(SearchQuery('"solar dryer"')).total > 0
    assert built.search(SearchQuery("solar NOT dryer")).total < built.search(SearchQuery("solar")).total
    assert built.search(SearchQuery("sol*")).total == built.search(SearchQuery("solar")).total
    newest = built.search(SearchQuery("", sort="newest", limit=3))
    assert [h.slug for h in newest.hits] == ["design-59", "design-58", "design-57"]
    forked = built.search(SearchQuery("", sort="most-forked", limit=1))
    assert forked.hits[0].forks == 3


def test_a_time_cap_bounds_every_query(new_index):
    index = new_index(time_limit=1e-9)
    index.rebuild(make_docs(30))
    results = index.search(SearchQuery("solar"))
    assert results.timed_out and results.total == 0


def test_searching_while_a_rebuild_runs_keeps_answering(built):
    expected = built.search(SearchQuery("solar")).total
    stop = threading.Event()
    answers, failures = [], []

    def reader():
        while not stop.is_set():
            try:
                answers.append(built.search(SearchQuery("solar", limit=5)).total)
            except Exception as exc:  # pragma: no cover - what the test is looking for
                failures.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    generations = set()
    try:
        for _ in range(4):
            built.rebuild(make_docs(60))
            generations.add(built.status().generation)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert failures == []
    assert len(generations) == 4 and answers
    assert set(answers) == {expected}  # never a half-built or empty index
    if isinstance(built, WhooshSearchIndex):
        assert len(built.storage.generations()) <= 2  # old generations are cleaned up


def test_writers_take_turns_and_a_held_lock_times_out(built, new_index):
    docs = make_docs(80)
    threads = [threading.Thread(target=built.apply, args=(docs[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert built.search(SearchQuery("")).total == 80

    impatient = new_index(lock_timeout=0.2)  # the same store
    with write_lock_held_elsewhere(built):
        with pytest.raises(IndexLocked):
            impatient.apply(make_docs(1))
        assert impatient.search(SearchQuery("solar")).total > 0  # readers are not blocked
