"""The numpy evaluator finds exactly what Whoosh's own matchers find, deletions included."""

from __future__ import annotations

import dataclasses

import pytest
from whoosh import query

from opendesign.search import SearchQuery, WhooshSearchIndex
from opendesign.search.querying import parse

from .test_search_safety import make_docs

QUERIES = ["solar", "solar dryer", "water OR gear", "solar NOT dryer", '"solar dryer"', "sol*", "title:gear",
           "compost AND (frame OR panel)", "category:water", "tags:rotor stove"]


@pytest.fixture
def segmented(tmp_path):
    """An index of several segments, some with deleted (replaced or removed) documents."""
    index = WhooshSearchIndex(tmp_path / "index")
    docs = make_docs(90)
    index.rebuild(docs[:60])
    index.apply(docs[60:])
    index.apply([dataclasses.replace(d, title=f"Replaced {d.title}") for d in docs[::7]], deleted=["design-3"])
    yield index
    index.close()


@pytest.mark.parametrize("text", QUERIES)
def test_engine_matches_whoosh(segmented, text):
    searcher = segmented._searcher()
    q = parse(text).query
    expected = set(searcher.docs_for_query(q))
    matched = segmented._match(searcher, q, deadline=float("inf"))
    found = {int(d) + offset for _leaf, _key, offset, docs, _scores in matched.leaves for d in docs}
    assert found == expected and matched.total == len(expected)
    assert segmented.search(SearchQuery(text)).total == len(expected)


def test_deleted_and_replaced_documents_appear_once(segmented):
    results = segmented.search(SearchQuery("", limit=100))
    assert results.total == 89
    assert len({h.slug for h in results.hits}) == 89 and "design-3" not in {h.slug for h in results.hits}
    assert segmented.search(SearchQuery("replaced")).total == len(range(0, 90, 7))


def test_scores_rank_title_matches_first(segmented):
    searcher = segmented._searcher()
    hits = segmented.search(SearchQuery("rotor")).hits
    assert "rotor" in hits[0].title.lower()
    assert searcher.docs_for_query(query.Term("title", "rotor"))
