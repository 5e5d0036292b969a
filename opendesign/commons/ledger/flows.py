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

from collections import defaultdict, deque
from dataclasses import dataclass, field
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...manifests.reciprocity import ReciprocitySpec, exact, parent_weights
from ...models import Design, DesignVersion, Lineage
from .money import share_of, split

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


def allocate(total: int, start: int, graph: dict[int, Node], flowing: bool = True) -> Allocation:
    """Split *total* minor units contributed to version *start* over it and its ancestors."""
    result = Allocation(start=start, total=total, received={start: total})
    if not flowing:
        result.kept[start] = total
        return result
    # How many children (within the entry's ancestry) each version waits for before it splits.
    waiting: dict[int, int] = defaultdict(int)
    seen, stack = {start}, [start]
    while stack:
        node = graph[stack.pop()]
        for parent in node.parents:
            waiting[parent] += 1
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    ready = deque([start])
    while ready:
        node = graph[ready.popleft()]
        amount = result.received.get(node.id, 0)
        upstream = share_of(amount, node.share) if node.parents else 0
        result.kept[node.id] = amount - upstream
        parts = split(upstream, node.weights) if node.parents else []
        for parent, weight, part in zip(node.parents, node.weights, parts, strict=True):
            if part:
                result.flows.append(Flow(node.id, parent, part, node.share * weight, weight, amount))
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
