"""Exact amounts and flows up the lineage: every split adds up to its whole, on any DAG."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opendesign.commons.ledger.flows import Node, allocate
from opendesign.commons.ledger.money import (amount_problem, format_amount, json_amount, percent, scale_of, share_of,
                                             split, to_minor)


def test_minor_units_follow_each_currency():
    assert (scale_of("EUR"), scale_of("JPY"), scale_of("BHD"), scale_of("hours"), scale_of("improvements")) == (
        2, 0, 3, 2, 0)
    assert to_minor(Decimal("120.50"), "EUR") == 12050
    assert to_minor(Decimal("1500"), "JPY") == 1500
    assert "more decimal places than JPY has (0 — it has no minor unit)" in amount_problem(Decimal("0.5"), "JPY")
    assert "more decimal places than EUR has (2)" in amount_problem(Decimal("1.005"), "EUR")
    assert "hundredth" in amount_problem(Decimal("0.333"), "hours")
    assert "must be whole" in amount_problem(Decimal("1.5"), "improvements")
    assert amount_problem(Decimal("-1"), "EUR") == "must be greater than zero (got -1)"
    assert amount_problem(Decimal("NaN"), "EUR") == "must be a finite number, not NaN"
    assert (format_amount(12050, 2, "EUR"), format_amount(12000, 2, "EUR"), format_amount(150, 2, "hours"),
            format_amount(1, 0, "improvements")) == ("120.50 EUR", "120 EUR", "1.5 hours", "1 improvement")
    assert json_amount(12000, 2) == "120.00"
    assert (percent(Fraction(1, 4)), percent(Fraction(1, 8)), percent(Fraction(1, 3))) == ("25%", "12.5%", "33.33%")


def test_splits_are_exact_and_deterministic():
    assert split(100, [Fraction(1, 3)] * 3) == [34, 33, 33]  # the remainder goes to the earlier part
    assert split(101, [Fraction(1, 2), Fraction(1, 2)]) == [51, 50]
    assert split(7, [Fraction(6, 10), Fraction(4, 10)]) == [4, 3]  # quotas 4.2, 2.8: the larger remainder wins
    assert share_of(25, Fraction(1, 10)) == 2 and share_of(35, Fraction(1, 10)) == 4  # half to even: 2.5->2, 3.5->4
    with pytest.raises(ValueError):
        split(10, [Fraction(1, 2), Fraction(1, 3)])


def _graph(edges: dict[int, list[int]], shares: dict[int, Fraction], weights: dict[int, list[Fraction]]):
    return {n: Node(n, f"d{n}@1.0.0", f"d{n}", shares.get(n, Fraction(1, 10)), tuple(edges.get(n, [])),
                    tuple(weights.get(n) or [Fraction(1, len(edges[n]))] * len(edges[n]) if edges.get(n) else ()))
            for n in {*edges, *(p for ps in edges.values() for p in ps)}}


def test_a_diamond_is_not_counted_twice():
    # 3 derives from 1 and 2, both of which derive from 0.
    graph = _graph({3: [1, 2], 1: [0], 2: [0], 0: []}, {3: Fraction(1, 4), 1: Fraction(1, 2), 2: Fraction(1, 2)}, {})
    result = allocate(12000, 3, graph)
    assert result.kept == {3: 9000, 1: 750, 2: 750, 0: 1500}
    assert result.received[0] == 1500  # two inflows of 750, split once
    assert sum(result.kept.values()) == 12000
    assert [(f.child, f.parent, f.amount) for f in result.flows] == [(3, 1, 1500), (3, 2, 1500), (1, 0, 750),
                                                                      (2, 0, 750)]


def test_weights_split_the_upstream_share():
    graph = _graph({2: [0, 1]}, {2: Fraction(1, 4)}, {2: [Fraction(3, 5), Fraction(2, 5)]})
    result = allocate(12000, 2, graph)
    assert result.kept == {2: 9000, 0: 1800, 1: 1200}
    assert result.flows[0].share == Fraction(3, 20) and result.flows[0].weight == Fraction(3, 5)


def test_improvements_do_not_flow():
    graph = _graph({1: [0]}, {}, {})
    assert allocate(1, 1, graph, flowing=False).kept == {1: 1}


@st.composite
def dags(draw):
    """A random DAG over 1-8 versions (edges only from higher to lower numbers), shares and weights."""
    n = draw(st.integers(1, 8))
    edges, weights, shares = {}, {}, {}
    for node in range(n):
        parents = draw(st.lists(st.integers(0, node - 1), unique=True, max_size=3)) if node else []
        edges[node] = parents
        shares[node] = Fraction(draw(st.integers(0, 100)), 100)
        if parents and draw(st.booleans()):
            raw = draw(st.lists(st.integers(0, 10), min_size=len(parents), max_size=len(parents)))
            if sum(raw):
                weights[node] = [Fraction(r, sum(raw)) for r in raw]
    return n, edges, shares, weights


@settings(max_examples=300, deadline=None)
@given(dags(), st.integers(0, 10**12), st.data())
def test_every_allocation_adds_up_exactly(dag, total, data):
    n, edges, shares, weights = dag
    graph = _graph(edges, shares, weights)
    start = data.draw(st.integers(0, n - 1))
    result = allocate(total, start, graph)
    assert sum(result.kept.values()) == total  # nothing lost, nothing made up
    assert all(v >= 0 for v in result.kept.values()) and all(f.amount > 0 for f in result.flows)
    for node, received in result.received.items():
        out = sum(f.amount for f in result.flows if f.child == node)
        assert received == result.kept[node] + out  # each split sums to its whole
        assert out == share_of(received, graph[node].share) if graph[node].parents else out == 0
    # every version that keeps something is the start or one of its ancestors
    reachable, stack = {start}, [start]
    while stack:
        for p in graph[stack.pop()].parents:
            if p not in reachable:
                reachable.add(p)
                stack.append(p)
    assert set(result.kept) <= reachable


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**15), st.lists(st.integers(0, 50), min_size=1, max_size=6), st.integers(0, 100))
def test_the_integer_splits_are_the_fraction_splits(amount, raw, pct):
    from opendesign.commons.ledger.flows import _share, _split

    assert _share(amount, pct, 100) == share_of(amount, Fraction(pct, 100))
    if sum(raw):
        weights = [Fraction(r, sum(raw)) for r in raw]
        assert _split(amount, tuple(raw), sum(raw)) == split(amount, weights)
