"""The numpy evaluator finds exactly what Whoosh's own matchers find, deletions included; so does PostgreSQL.

The cache tests below are about the Whoosh evaluator's own caches and run on Whoosh only; every test of
what a search finds runs on both backends.
"""

from __future__ import annotations

import dataclasses
import os
import time

import pytest
from whoosh import query

from opendesign.db import make_engine
from opendesign.search import SearchQuery, WhooshSearchIndex
from opendesign.search.querying import parse

from .test_search_safety import make_docs

QUERIES = ["solar", "solar dryer", "water OR gear", "solar NOT dryer", '"solar dryer"', "sol*", "title:gear",
           "compost AND (frame OR panel)", "category:water", "tags:rotor stove"]


def _history(index):
    """Several writes, some replacing or removing documents (in Whoosh: segments with deletions)."""
    docs = make_docs(90)
    index.rebuild(docs[:60])
    index.apply(docs[60:])
    index.apply([dataclasses.replace(d, title=f"Replaced {d.title}") for d in docs[::7]], deleted=["design-3"])
    return index


@pytest.fixture
def segmented(tmp_path):
    """An index of several segments, some with deleted (replaced or removed) documents."""
    index = _history(WhooshSearchIndex(tmp_path / "index"))
    yield index
    index.close()


@pytest.fixture
def written(new_index):
    """The same history on the backend under test."""
    return _history(new_index())


@pytest.mark.parametrize("text", QUERIES)
def test_engine_matches_whoosh(segmented, text):
    searcher = segmented._searcher()
    q = parse(text).query
    expected = set(searcher.docs_for_query(q))
    matched = segmented._match(searcher, q, deadline=float("inf"))
    found = {int(d) + offset for _leaf, _key, offset, docs, _scores in matched.leaves for d in docs}
    assert found == expected and matched.total == len(expected)
    assert segmented.search(SearchQuery(text)).total == len(expected)


@pytest.mark.parametrize("text", QUERIES)
def test_postgres_finds_what_whoosh_matchers_find(segmented, text, request):
    """The PostgreSQL translation of each query matches the same designs as Whoosh's own matchers."""
    from opendesign.search.pg_index import PostgresSearchIndex

    from .conftest import _truncate_search

    engine = make_engine(request.getfixturevalue("pg_url"))
    try:
        _truncate_search(engine)
        postgres = _history(PostgresSearchIndex(engine))
        searcher = segmented._searcher()
        expected = {searcher.stored_fields(d)["slug"] for d in searcher.docs_for_query(parse(text).query)}
        results = postgres.search(SearchQuery(text, limit=100))
        assert {h.slug for h in results.hits} == expected and results.total == len(expected)
    finally:
        engine.dispose()


def test_deleted_and_replaced_documents_appear_once(written):
    results = written.search(SearchQuery("", limit=100))
    assert results.total == 89
    assert len({h.slug for h in results.hits}) == 89 and "design-3" not in {h.slug for h in results.hits}
    assert written.search(SearchQuery("replaced")).total == len(range(0, 90, 7))


@pytest.mark.parametrize("sort", ["relevance", "newest", "most-forked"])
def test_pages_cover_every_match_once_with_the_same_facets(written, sort):
    whole = written.search(SearchQuery("build", sort=sort, limit=100))
    pages = [written.search(SearchQuery("build", sort=sort, limit=7, offset=offset)) for offset in range(0, 89, 7)]
    assert [h.slug for page in pages for h in page.hits] == [h.slug for h in whole.hits]
    assert all(page.total == 89 and page.facets == whole.facets for page in pages)
    mixed_case = {"category": ("Water",), "family": ("PERMISSIVE",)}
    filtered = written.search(SearchQuery("build", sort=sort, filters=mixed_case))
    assert filtered.total == sum(1 for h in whole.hits if h.category == "water")
    assert {v.value: v.count for v in filtered.facets["category"]} == {"water": filtered.total}


def test_pages_past_the_ranked_candidates_neither_repeat_nor_skip(written, monkeypatch):
    """PostgreSQL ranks the best CANDIDATES fully; pages beyond them keep one order (Whoosh: no such limit)."""
    from opendesign.search import pg_page

    monkeypatch.setattr(pg_page, "CANDIDATES", 20)  # 89 matches: most pages lie past the candidates
    whole = written.search(SearchQuery("build", limit=100))
    pages = [written.search(SearchQuery("build", limit=7, offset=offset)) for offset in range(0, 89, 7)]
    paged = [h.slug for page in pages for h in page.hits]
    assert paged == [h.slug for h in whole.hits] and len(set(paged)) == 89


def test_scores_rank_title_matches_first(written, segmented):
    hits = written.search(SearchQuery("rotor")).hits
    assert "rotor" in hits[0].title.lower()
    assert segmented._searcher().docs_for_query(query.Term("title", "rotor"))


def test_cached_statistics_follow_index_changes(tmp_path):
    """idf, average lengths and BM25 arrays are cached per segment set; a commit must not leave them stale."""
    index = WhooshSearchIndex(tmp_path / "index")
    docs = make_docs(90)
    index.rebuild(docs[:40])
    before = index.search(SearchQuery("solar dryer OR gear", limit=50))  # fills the caches
    index.apply(docs[40:], deleted=["design-5"])
    after = index.search(SearchQuery("solar dryer OR gear", limit=50))
    fresh = WhooshSearchIndex(tmp_path / "index")  # no caches at all
    expected = fresh.search(SearchQuery("solar dryer OR gear", limit=50))
    assert after.total == expected.total != before.total
    assert [(h.slug, h.score) for h in after.hits] == [(h.slug, h.score) for h in expected.hits]
    index.close()
    fresh.close()


def test_commit_is_seen_when_the_folder_looks_settled(tmp_path, monkeypatch):
    """The directory listing is skipped while the generation's mtime is old and unchanged, never after a commit."""
    index = WhooshSearchIndex(tmp_path / "index")
    docs = make_docs(30)
    index.rebuild(docs[:20])
    generation = index.storage.current()
    os.utime(generation, ns=(time.time_ns() - 10**10,) * 2)  # as if the last commit was 10 s ago
    searcher = index._searcher()
    checks = []
    real = type(searcher).up_to_date
    monkeypatch.setattr(type(searcher), "up_to_date", lambda self: checks.append(1) or real(self))
    assert index.search(SearchQuery("", limit=0)).total == 20
    assert not checks  # the folder is unchanged since the searcher opened: no listing
    index.apply(docs[20:])
    assert index.search(SearchQuery("", limit=0)).total == 30
    assert checks
    index.close()


@pytest.mark.parametrize("text", ["solar", "solar dryer", "Solar dryer solar", "the solar of a", "the", "3d 12 gear",
                                  "dryers Racks", " ".join(["gear"] * 40), " ".join(f"w{i}" for i in range(40))])
def test_plain_words_parse_as_the_parser_does(text):
    from opendesign.search import querying

    assert querying.parse(text).query == querying._AND.parse(text).normalize() or not querying._acceptable(
        querying._AND.parse(text))


def test_a_suggestion_between_equally_common_words_is_the_same_on_both_backends(new_index):
    """"sooar" is one edit from "solar" and from "sonar", each in one design: Whoosh takes the greatest word."""
    base = make_docs(1)[0]
    neutral = {"summary": "A rack.", "readme": "Build the rack.", "tags": ("rack",), "parts": ("rack PETG",)}
    index = new_index()
    index.rebuild([dataclasses.replace(base, slug="a", title="Solar rack", content_hash="a" * 64, **neutral),
                   dataclasses.replace(base, slug="b", title="Sonar rack", content_hash="b" * 64, **neutral)])
    results = index.search(SearchQuery("sooar"))
    assert results.total == 0 and results.suggestion == "sonar"


def _pg_index(request):
    from opendesign.search.pg_index import PostgresSearchIndex

    from .conftest import _truncate_search

    engine = make_engine(request.getfixturevalue("pg_url"))
    _truncate_search(engine)
    return PostgresSearchIndex(engine)


def test_postgres_cheap_rank_skips_only_vectors_that_cannot_rank(request, monkeypatch):
    """Past the fully ranked candidates a hit's score is ts_rank_cd of its ``ranked`` vector (title, tags,
    summary): the rank is left out (0) only where that vector does not match, as ts_rank_cd would give 0."""
    from sqlalchemy import text

    from opendesign.search import pg_page

    monkeypatch.setattr(pg_page, "CANDIDATES", 3)
    index = _pg_index(request)
    try:
        docs = make_docs(40)
        docs = [dataclasses.replace(d, title=f"Sprocket {d.title}") if i % 3 == 0 else
                dataclasses.replace(d, readme=d.readme + " Add a sprocket.") for i, d in enumerate(docs)]
        index.rebuild(docs)
        hits = index.search(SearchQuery("sprocket", limit=100)).hits
        assert len(hits) == 40
        with index.engine.connect() as conn:
            expected = dict(conn.execute(text(
                "SELECT slug, ts_rank_cd(CAST(:w AS real[]), ranked, to_tsquery('english', 'sprocket'), 1) "
                "FROM search_document"), {"w": pg_page.RANK_WEIGHTS}).all())
        beyond = hits[pg_page.CANDIDATES:]
        assert [h.score for h in beyond] == [round(expected[h.slug], 4) for h in beyond]
        assert {h.score > 0 for h in beyond} == {True, False}  # title matches ranked, body-only ones 0
    finally:
        index.engine.dispose()


def test_postgres_cheap_rank_guard_keeps_ranks_of_queries_with_not(request):
    """A NOT can hold inside a cover where the whole vector fails the query: such queries rank everywhere."""
    from sqlalchemy import text

    from opendesign.search import pg_page
    from opendesign.search.pg_query import SqlQuery

    index = _pg_index(request)
    try:
        base = make_docs(1)[0]
        index.rebuild([dataclasses.replace(base, slug=f"d{i}", title=title, content_hash=f"{i:064x}")
                       for i, title in enumerate(["Rotor spur gear", "Gear rotor", "Rotor", "Stove"])])
        ranks = {}
        for q in ("to_tsquery('english', 'rotor & !gear')", "to_tsquery('english', 'rotor')",
                  "to_tsquery('english', 'spur <-> gear')"):
            sql = SqlQuery("TRUE", q, q)
            with index.engine.connect() as conn:
                ranks[q] = conn.execute(text(f"SELECT {pg_page.cheap_rank(sql)}, {pg_page.rank(sql, 'ranked')}, "
                                             f"ranked @@ {q} FROM search_document")).all()
            assert [guarded for guarded, _, _ in ranks[q]] == [plain for _, plain, _ in ranks[q]]
        # "Rotor spur gear" fails 'rotor & !gear' as a whole yet ranks above 0 (the cover is "rotor" alone):
        # a guard of ``@@`` alone would zero it.
        with_not = ranks["to_tsquery('english', 'rotor & !gear')"]
        assert any(plain > 0 and not matched for _, plain, matched in with_not)
    finally:
        index.engine.dispose()


def test_postgres_candidates_come_from_a_bounded_sort(request, monkeypatch):
    """The best candidates are picked by a top-N sort of the matches, not by sorting every match (which
    numbering them over the whole match set forced)."""
    import json

    from sqlalchemy import text

    from opendesign.search import pg_page, querying
    from opendesign.search.pg_query import translate

    monkeypatch.setattr(pg_page, "CANDIDATES", 5)
    index = _pg_index(request)
    try:
        index.rebuild(make_docs(90))
        for sort in ("relevance", "newest"):
            sql = translate(querying.parse("build"))
            statement, params = pg_page.statement(sql, sql.where, sort, 5, 0, True, True)
            with index.engine.connect() as conn:
                plan = conn.execute(text("EXPLAIN (ANALYZE, FORMAT JSON) " + statement),
                                    {**sql.params, **params}).scalar_one()
            plan = plan if isinstance(plan, list) else json.loads(plan)
            sorts = []

            def walk(node):
                if node["Node Type"] == "Sort" and any(c.get("CTE Name") == "m" for c in node.get("Plans", [])):
                    sorts.append(node["Sort Method"])
                for child in node.get("Plans", []):
                    walk(child)

            walk(plan[0]["Plan"])
            assert sorts == ["top-N heapsort"], (sort, sorts)
    finally:
        index.engine.dispose()


def test_postgres_searches_plan_with_their_words_as_constants(request):
    """Every search statement gets a custom plan (its tsqueries folded once), even once psycopg has prepared
    it: a generic plan parses websearch_to_tsquery($1) again for every match."""
    from sqlalchemy import text

    index = _pg_index(request)
    try:
        index.rebuild(make_docs(30))
        with index.engine.connect() as conn, conn.begin():
            bound = index.bound(conn)
            for _ in range(7):  # past psycopg's prepare threshold (5)
                assert bound.search(SearchQuery("solar", limit=5)).total
            assert conn.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_custom_plan"
            plans = conn.execute(text("SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                                      "WHERE statement LIKE 'WITH m AS MATERIALIZED%'")).all()
            assert plans and all(generic == 0 and custom >= 2 for generic, custom in plans)
    finally:
        index.engine.dispose()
