"""The lineage graph of a design family as an SVG you can click through.

A small layered layout: each version is a node, placed in the column of its
generation (longest path from a root of the family), parents left of their
children. Nodes are links to the version pages, so the graph works without
JavaScript, inline in the page or opened on its own.
"""

from __future__ import annotations

from collections import defaultdict

from markupsafe import Markup, escape

NODE_W, NODE_H = 200, 46
COL_GAP, ROW_GAP, PAD = 70, 18, 12


def _depths(nodes: list, edges: list) -> dict[int, int]:
    parents: dict[int, list[int]] = defaultdict(list)
    for e in edges:
        parents[e.child.id].append(e.parent.id)
    depth: dict[int, int] = {}

    def visit(vid: int, guard: int = 0) -> int:
        if vid in depth:
            return depth[vid]
        if guard > len(nodes):  # a cycle cannot be stored, but never loop on one
            return 0
        d = 1 + max((visit(p, guard + 1) for p in parents.get(vid, [])), default=-1)
        depth[vid] = d
        return d

    for n in nodes:
        visit(n.id)
    return depth


def _truncate(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def render_family(family, current_id: int, url_for_version) -> Markup:
    """SVG markup of *family* (``versions``, ``edges``), highlighting version *current_id*."""
    nodes = list(family.versions)
    if not nodes:
        return Markup("")
    depth = _depths(nodes, family.edges)
    columns: dict[int, list] = defaultdict(list)
    for n in nodes:
        columns[depth[n.id]].append(n)
    pos: dict[int, tuple[float, float]] = {}
    rows = max(len(c) for c in columns.values())
    height = PAD * 2 + rows * NODE_H + (rows - 1) * ROW_GAP
    width = PAD * 2 + len(columns) * NODE_W + (len(columns) - 1) * COL_GAP
    for col, members in sorted(columns.items()):
        members.sort(key=lambda v: (v.design.slug, v.version))
        span = len(members) * NODE_H + (len(members) - 1) * ROW_GAP
        top = (height - span) / 2
        for i, v in enumerate(members):
            pos[v.id] = (PAD + col * (NODE_W + COL_GAP), top + i * (NODE_H + ROW_GAP))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="lineage" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" aria-label="Lineage of {escape(family.slug)}">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="currentColor"/></marker></defs>']
    for e in family.edges:
        if e.parent.id not in pos or e.child.id not in pos:
            continue
        x1, y1 = pos[e.parent.id]
        x2, y2 = pos[e.child.id]
        x1, y1, x2, y2 = x1 + NODE_W, y1 + NODE_H / 2, x2, y2 + NODE_H / 2
        mx = (x1 + x2) / 2
        out.append(f'<path class="edge" d="M{x1:.0f},{y1:.0f} C{mx:.0f},{y1:.0f} {mx:.0f},{y2:.0f} {x2:.0f},{y2:.0f}" '
                   'fill="none" stroke="currentColor" stroke-width="1.5" marker-end="url(#arrow)"/>')
    for v in nodes:
        x, y = pos[v.id]
        cls = "node current" if v.id == current_id else "node"
        href = escape(url_for_version(v))
        out.append(
            f'<a href="{href}" class="{cls}"><title>{escape(v.title)} ({escape(v.ref)}) — {escape(v.license)}</title>'
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{NODE_W}" height="{NODE_H}" rx="8"/>'
            f'<text x="{x + 10:.0f}" y="{y + 19:.0f}" class="t">{escape(_truncate(v.title, 26))}</text>'
            f'<text x="{x + 10:.0f}" y="{y + 36:.0f}" class="s">{escape(_truncate(v.ref, 24))} · '
            f'{escape(_truncate(v.license, 14))}</text></a>'
        )
    out.append("</svg>")
    return Markup("".join(out))
