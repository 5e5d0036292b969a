"""How a confirmed contribution's value flows up the derivation DAG, exactly.

A contribution to a version keeps ``1 - upstream_share`` of it there and
passes the rest to the version's parents, split equally or by the weights its
``design.toml`` declares (:mod:`opendesign.manifests.reciprocity`); each parent
does the same with what reached it, up to the original designs, which keep
everything. Amounts are integers in minor units (:mod:`.money`), so nothing is
lost or made up: what every version keeps adds up to the contribution.

Multi-parent designs and diamonds are walked once per version, children before
parents (Kahn's order over the entry's ancestors): a version that two paths
reach adds both inflows and splits the sum once, so no value is counted twice.
Improvements are not divisible and stay with the design they improve.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass, field
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...manifests.reciprocity import ReciprocitySpec, exact, parent_weights
from ...models import Design, DesignVersion, Lineage

#: Kinds whose value flows upstream (money and hardware in their currency, hours as hours).
FLOWING_KINDS = ("money", "hardware", "hours")


@dataclass(frozen=True)
class Node:
    """One version of the lineage, with what it passes upstream and to whom (``derived_from`` order)."""

    id: int
    ref: str
    slug: str
    share: Fraction
    parents: tuple[int, ...] = ()
    weights: tuple[Fraction, ...] = ()
    #: The weights as integers over one denominator, and each parent's share of what reaches this version:
    #: worked out once per version, not once per contribution.
    numerators: tuple[int, ...] = field(default=(), compare=False)
    denominator: int = field(default=1, compare=False)
    shares: tuple[Fraction, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        den = 1
        for w in self.weights:
            den = den * w.denominator // math.gcd(den, w.denominator)
        object.__setattr__(self, "denominator", den)
        object.__setattr__(self, "numerators", tuple(w.numerator * (den // w.denominator) for w in self.weights))
        object.__setattr__(self, "shares", tuple(self.share * w for w in self.weights))


@dataclass(frozen=True)
class Flow:
    """*amount* minor units passed from version *child* to its parent *parent*.

    ``share`` is the parent's fraction of what reached the child (the child's
    upstream share times the parent's weight); ``weight`` the parent's part of
    that share; ``reached`` what reached the child.
    """

    child: int
    parent: int
    amount: int
    share: Fraction
    weight: Fraction
    reached: int


@dataclass
class Allocation:
    """Where one contribution's minor units went: received and kept per version, and the flows between."""

    start: int
    total: int
    received: dict[int, int] = field(default_factory=dict)
    kept: dict[int, int] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)


def _ancestry(start: int, graph: dict[int, Node]) -> dict[int, int]:
    """For each ancestor of *start*: how many of its children within start's ancestry it waits for."""
    waiting: dict[int, int] = defaultdict(int)
    seen, stack = {start}, [start]
    while stack:
        node = graph[stack.pop()]
        for parent in node.parents:
            waiting[parent] += 1
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return waiting


def _share(amount: int, num: int, den: int) -> int:
    """``round(amount * num / den)``, half to even, in integers (what :func:`.money.share_of` does with Fractions)."""
    q, r = divmod(amount * num, den)
    return q + (1 if 2 * r > den or (2 * r == den and q % 2) else 0)


def _split(amount: int, nums: tuple[int, ...], den: int) -> list[int]:
    """:func:`.money.split` with the weights as integers over a common denominator: the same parts, faster."""
    if len(nums) == 1:  # one parent, the common case
        return [amount]
    parts, rems = [], []
    for n in nums:
        q, r = divmod(amount * n, den)
        parts.append(q)
        rems.append(r)
    left = amount - sum(parts)
    if left:
        # Largest remainders first; sorted() is stable with reverse=True too, so ties go to the earlier parent.
        for i in sorted(range(len(nums)), key=rems.__getitem__, reverse=True)[:left]:
            parts[i] += 1
    return parts


def allocate(total: int, start: int, graph: dict[int, Node], flowing: bool = True,
             ancestry: dict[int, dict[int, int]] | None = None) -> Allocation:
    """Split *total* minor units contributed to version *start* over it and its ancestors.

    :param ancestry: a cache of :func:`_ancestry` per start version, for callers that allocate many entries.
    """
    result = Allocation(start=start, total=total, received={start: total})
    if not flowing:
        result.kept[start] = total
        return result
    if ancestry is None:
        waiting = _ancestry(start, graph)
    else:
        if start not in ancestry:
            ancestry[start] = _ancestry(start, graph)
        waiting = dict(ancestry[start])
    ready = deque([start])
    while ready:
        node = graph[ready.popleft()]
        amount = result.received.get(node.id, 0)
        if not node.parents:
            result.kept[node.id] = amount
            continue
        upstream = _share(amount, node.share.numerator, node.share.denominator)
        result.kept[node.id] = amount - upstream
        parts = _split(upstream, node.numerators, node.denominator)
        for parent, weight, share, part in zip(node.parents, node.weights, node.shares, parts, strict=True):
            if part:
                result.flows.append(Flow(node.id, parent, part, share, weight, amount))
                result.received[parent] = result.received.get(parent, 0) + part
            waiting[parent] -= 1
            if waiting[parent] == 0:
                ready.append(parent)
    return result


def _node(version_id: int, ref: str, slug: str, manifest: dict, parents: list[tuple[int, str]]) -> Node:
    try:
        spec = ReciprocitySpec.model_validate(manifest.get("reciprocity") or {})
    except ValueError:  # a version imported before [reciprocity] existed cannot hold one; be safe anyway
        spec = ReciprocitySpec()
    share = Fraction(exact(spec.upstream_share))
    ids = tuple(pid for pid, _ in parents)
    weights = None
    declared = list(manifest.get("derived_from") or [])
    if spec.weights and sorted(declared) == sorted(r for _, r in parents):
        by_ref = dict(zip(declared, parent_weights(spec, declared) or [], strict=False))
        weights = tuple(Fraction(by_ref[r]) for _, r in parents)
    if weights is None or sum(weights) != 1:
        weights = tuple(Fraction(1, len(ids)) for _ in ids) if ids else ()
    return Node(version_id, ref, slug, share, ids, weights)


def load_graph(session: Session, start: set[int]) -> dict[int, Node]:
    """Every version in *start* and all their ancestors, as :class:`Node` values (one query per generation)."""
    graph: dict[int, Node] = {}
    frontier = set(start)
    while frontier:
        versions = session.execute(
            select(DesignVersion.id, DesignVersion.version, DesignVersion.manifest, Design.slug)
            .join(Design, Design.id == DesignVersion.design_id).where(DesignVersion.id.in_(frontier))).all()
        edges = session.execute(
            select(Lineage.child_id, Lineage.parent_id, Lineage.position).where(Lineage.child_id.in_(frontier))
            .order_by(Lineage.child_id, Lineage.position)).all()
        parent_ids = {e.parent_id for e in edges}
        refs = dict(session.execute(
            select(DesignVersion.id, Design.slug + "@" + DesignVersion.version)
            .join(Design, Design.id == DesignVersion.design_id).where(DesignVersion.id.in_(parent_ids))).all())
        by_child: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for e in edges:
            by_child[e.child_id].append((e.parent_id, refs[e.parent_id]))
        for row in versions:
            graph[row.id] = _node(row.id, f"{row.slug}@{row.version}", row.slug, row.manifest or {},
                                  by_child.get(row.id, []))
        frontier = parent_ids - set(graph)
    return graph
