"""A design's ledger: what it received directly, what reached it through derivatives, and why.

Totals count confirmed entries only (not those a later entry corrects);
claimed entries are listed apart, disputed ones with their reason. Every flow
carries a one-line explanation, e.g. ``30 EUR: 25% of a 120 EUR contribution
to solar-dryer-rack-3-tier``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from ...catalogue.queries import get_design
from ...models import Contribution, Design, DesignVersion
from ..lineage import descendant_ids
from .entries import CLAIMED, CONFIRMED, CORRECTED, DISPUTED, entry_view, state
from .flows import FLOWING_KINDS, Allocation, Flow, Node, allocate, load_graph
from .money import format_amount, json_amount, percent, unit_of
from .totals import Sums

#: What to load with an entry for its view and state: the rows it points at in the same query, its reviews in one more.
# The version is loaded without its manifest and README: decoding those once per entry row dominated the page.
ENTRY_LOADS = (joinedload(Contribution.maker), joinedload(Contribution.design),
               joinedload(Contribution.version).load_only(DesignVersion.id, DesignVersion.version,
                                                          DesignVersion.design_id),
               joinedload(Contribution.corrects), joinedload(Contribution.corrected_by),
               selectinload(Contribution.reviews))


def load_entries(session: Session, *where, order=(Contribution.date, Contribution.id)) -> list[Contribution]:
    return list(session.scalars(select(Contribution).where(*where).options(*ENTRY_LOADS).order_by(*order)))


def counts(entry: Contribution) -> bool:
    """Does *entry* count in totals and flows? Confirmed, and not corrected."""
    return state(entry) == CONFIRMED


def allocations(session: Session, entries: Iterable[Contribution]) -> tuple[dict[int, Allocation], dict[int, Node]]:
    """The allocation of every counting entry (by entry row id), and the lineage graph they walk."""
    flowing = [e for e in entries if counts(e) and e.version_id is not None]
    graph = load_graph(session, {e.version_id for e in flowing})
    ancestry: dict[int, dict[int, int]] = {}
    return {e.id: allocate(e.amount_minor, e.version_id, graph, e.kind in FLOWING_KINDS, ancestry)
            for e in flowing}, graph


def explain(flow: Flow, entry: Contribution, graph: dict[int, Node]) -> str:
    """``30 EUR: 25% of a 120 EUR contribution to <child>`` (with the weight when the child has several parents)."""
    unit = unit_of(entry.kind, entry.currency)
    child = graph[flow.child]
    amount = format_amount(flow.amount, entry.scale, unit)
    given = format_amount(entry.amount_minor, entry.scale, unit)
    # "a 120 EUR contribution", but "24 hours contributed": hours read badly as an adjective.
    origin = f"{given} contributed to {entry.design.slug}" if unit == "hours" else \
        f"a {given} contribution to {entry.design.slug}"
    if flow.child == entry.version_id:
        whole = origin
    else:
        whole = f"the {format_amount(flow.reached, entry.scale, unit)} that reached {child.slug} from {origin}"
    weight = f" ({percent(flow.weight)} of its {percent(child.share)} upstream share)" if flow.weight != 1 else ""
    return f"{amount}: {percent(flow.share)} of {whole}{weight}"


def flow_view(flow: Flow, entry: Contribution, graph: dict[int, Node]) -> dict[str, Any]:
    unit = unit_of(entry.kind, entry.currency)
    return {"entry": entry.entry_id, "maker": entry.maker.slug, "kind": entry.kind, "unit": unit,
            "from": graph[flow.child].ref, "to": graph[flow.parent].ref,
            "amount": json_amount(flow.amount, entry.scale), "display": format_amount(flow.amount, entry.scale, unit),
            "share": percent(flow.share), "explanation": explain(flow, entry, graph)}


def _entries_per_kind(flows: list[dict[str, Any]]) -> dict[str, int]:
    seen: dict[str, set[str]] = {}
    for f in flows:
        seen.setdefault(f["kind"], set()).add(f["entry"])
    return {kind: len(ids) for kind, ids in seen.items()}


def design_ledger(session: Session, slug: str, today: date | None = None) -> dict[str, Any]:
    """What design *slug* received directly and through its derivatives, and what it passed upstream."""
    from .qualified import qualified_producers

    design = get_design(session, slug)
    own = list(session.scalars(select(DesignVersion.id).where(DesignVersion.design_id == design.id)))
    below = descendant_ids(session, own)
    # What was given to this design, and to every version deriving from it (whose value may flow here).
    everything = load_entries(session, or_(Contribution.design_id == design.id, Contribution.version_id.in_(below))
                              if below else Contribution.design_id == design.id)
    direct_entries = [e for e in everything if e.design_id == design.id]
    allocation, graph = allocations(session, everything)
    by_id = {e.id: e for e in everything}

    direct, through, upstream = Sums(), Sums(), Sums()
    incoming, outgoing = [], []
    for entry in direct_entries:
        if counts(entry):
            direct.add_entry(entry)
    for entry_id, alloc in allocation.items():
        entry = by_id[entry_id]
        unit = unit_of(entry.kind, entry.currency)
        for flow in alloc.flows:
            if flow.parent in own:
                through.add(entry.kind, unit, flow.amount, count=0)
                incoming.append(flow_view(flow, entry, graph))
            if flow.child in own:
                upstream.add(entry.kind, unit, flow.amount, count=0)
                outgoing.append(flow_view(flow, entry, graph))
    through.count = _entries_per_kind(incoming)
    upstream.count = _entries_per_kind(outgoing)
    by_state = {s: [entry_view(e) for e in direct_entries if state(e) == s]
                for s in (CONFIRMED, CLAIMED, DISPUTED, CORRECTED)}
    return {
        "slug": design.slug,
        "received_directly": direct.as_dict(),
        "through_derivatives": through.as_dict(),
        "passed_upstream": upstream.as_dict(),
        "kept": direct.plus(through).minus(upstream).as_dict(),
        "flows_in": incoming,
        "flows_out": outgoing,
        "confirmed": by_state[CONFIRMED],
        "claimed": by_state[CLAIMED],
        "disputed": by_state[DISPUTED],
        "corrected": by_state[CORRECTED],
        "qualified_producers": qualified_producers(session, design, today, own=own, entries=everything),
    }


def export(session: Session, maker: str | None = None, design: str | None = None,
           entry: str | None = None) -> list[dict[str, Any]]:
    """Every entry (of *maker*, to *design*, or the one *entry*) with its state, history and -- if it counts --
    its flows."""
    from ...models import Maker

    where = [Contribution.entry_id == entry] if entry else []
    if maker:
        where.append(Contribution.maker.has(Maker.slug == maker))
    if design:
        where.append(Contribution.design.has(Design.slug == design))
    entries = load_entries(session, *where, order=(Contribution.recorded_at, Contribution.id))
    allocation, graph = allocations(session, entries)
    rows = []
    for entry in entries:
        view = entry_view(entry)
        alloc = allocation.get(entry.id)
        view["counts"] = alloc is not None
        view["flows"] = [flow_view(f, entry, graph) for f in alloc.flows] if alloc else []
        view["kept"] = ({graph[v].ref: json_amount(m, entry.scale) for v, m in alloc.kept.items() if m}
                        if alloc else {})
        rows.append(view)
    return rows


EXPORT_COLUMNS = ("id", "state", "maker", "design", "version", "kind", "amount", "unit", "date", "evidence", "note",
                  "reason", "corrects", "corrected_by", "origin", "recorded_at", "reviewed_by", "reviewed_at", "counts",
                  "kept", "flows")


def export_row(view: dict[str, Any]) -> dict[str, str]:
    """An exported entry flattened for CSV: lists joined with ``; ``, flows as ``to=amount``."""
    row = {k: view.get(k) for k in EXPORT_COLUMNS}
    row["evidence"] = "; ".join(view["evidence"])
    row["kept"] = "; ".join(f"{ref}={amount}" for ref, amount in view["kept"].items())
    row["flows"] = "; ".join(f"{f['from']}->{f['to']}={f['amount']}" for f in view["flows"])
    return {k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for k, v in row.items()}
