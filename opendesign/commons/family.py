"""Views of a design's family: plain data (JSON, web), Graphviz DOT, and a text tree.

Every edge carries its license verdict, so a family graph shows at a glance
where a derivative's license does not honour its parent's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ..catalogue.refs import version_key
from ..models import DesignVersion
from .edges import EdgeVerdict, child_edges
from .lineage import Family, family, fork_count

COMPATIBLE_COLOUR = "#2e7d32"
INCOMPATIBLE_COLOUR = "#c62828"
SUBJECT_FILL = "#fff3c4"


def edge_verdicts(fam: Family) -> dict[tuple[int, int], EdgeVerdict]:
    """The license verdict of every edge of *fam*, keyed ``(parent_id, child_id)``."""
    children = {e.child.id: e.child for e in fam.edges}
    verdicts = {}
    for child in children.values():
        for verdict in child_edges(child):
            verdicts[(verdict.parent.id, child.id)] = verdict
    return verdicts


def _node(version: DesignVersion, subject: str) -> dict[str, Any]:
    return {"ref": version.ref, "slug": version.design.slug, "version": version.version, "title": version.title,
            "license": version.license, "subject": version.design.slug == subject}


def family_view(session: Session, slug: str) -> dict[str, Any]:
    """*slug*'s family as plain data: nodes, edges with license verdicts, fork count."""
    fam = family(session, slug)
    verdicts = edge_verdicts(fam)
    edges = [verdicts[(e.parent.id, e.child.id)].as_dict() for e in fam.edges]
    own = sorted((v for v in fam.versions if v.design.slug == fam.slug), key=lambda v: version_key(v.version))
    return {
        "slug": fam.slug,
        "versions": [v.version for v in own],
        "fork_count": fork_count(session, fam.slug),
        "designs": fam.designs,
        "nodes": [_node(v, fam.slug) for v in fam.versions],
        "edges": edges,
        "compatible": all(e["compatible"] for e in edges),
    }


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def family_dot(session: Session, slug: str) -> str:
    """*slug*'s family as a Graphviz digraph, parents above children.

    Nodes are ``slug@version`` with the license, grouped in one cluster per
    design (the subject design highlighted); edges are green when the child's
    license honours the parent's, red and labelled with the rule when not.
    """
    fam = family(session, slug)
    verdicts = edge_verdicts(fam)
    lines = [
        f"digraph {_quote('family of ' + fam.slug)} {{",
        "  rankdir=TB;",
        f"  label={_quote('Family of ' + fam.slug + ' (green: license compatible, red: incompatible)')};",
        "  labelloc=t;",
        '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    by_design: dict[str, list[DesignVersion]] = {}
    for version in fam.versions:
        by_design.setdefault(version.design.slug, []).append(version)
    for design_slug, versions in by_design.items():
        lines.append(f"  subgraph {_quote('cluster_' + design_slug)} {{")
        lines.append(f"    label={_quote(versions[-1].title)};")
        lines.append("    style=dashed;" if design_slug != fam.slug else "    style=bold;")
        for v in versions:
            fill = SUBJECT_FILL if design_slug == fam.slug else "white"
            lines.append(f"    {_quote(v.ref)} [label={_quote(v.ref + chr(10) + v.license)}, "
                         f"fillcolor={_quote(fill)}];")
        lines.append("  }")
    for e in fam.edges:
        verdict = verdicts[(e.parent.id, e.child.id)]
        if verdict.ok:
            attrs = f"color={_quote(COMPATIBLE_COLOUR)}, label=\"compatible\", fontcolor={_quote(COMPATIBLE_COLOUR)}"
        else:
            problem = verdict.problems[0]
            text = f"incompatible: {problem.kind}" + (f"\n{problem.clause}" if problem.clause else "")
            attrs = (f"color={_quote(INCOMPATIBLE_COLOUR)}, penwidth=2, label={_quote(text)}, "
                     f"fontcolor={_quote(INCOMPATIBLE_COLOUR)}, tooltip={_quote(problem.message)}")
        lines.append(f"  {_quote(e.parent.ref)} -> {_quote(e.child.ref)} [{attrs}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def family_text(session: Session, slug: str) -> str:
    """*slug*'s lineage for a terminal: each version, what it derives from, and what derives from it."""
    fam = family(session, slug)
    verdicts = edge_verdicts(fam)
    parents: dict[int, list[tuple[DesignVersion, EdgeVerdict]]] = {}
    children: dict[int, list[tuple[DesignVersion, EdgeVerdict]]] = {}
    for e in fam.edges:
        verdict = verdicts[(e.parent.id, e.child.id)]
        parents.setdefault(e.child.id, []).append((e.parent, verdict))
        children.setdefault(e.parent.id, []).append((e.child, verdict))

    def mark(verdict: EdgeVerdict) -> str:
        return "" if verdict.ok else f"  ✗ incompatible: {verdict.problems[0].message}"

    def walk(version: DesignVersion, links, depth: int, arrow: str, seen: set[int]) -> list[str]:
        out = []
        for other, verdict in links.get(version.id, []):
            out.append(f"{'    ' * depth}{arrow} {other.ref}  [{other.license}]{mark(verdict)}")
            if other.id not in seen:
                out += walk(other, links, depth + 1, arrow, seen | {other.id})
        return out

    own = sorted((v for v in fam.versions if v.design.slug == fam.slug), key=lambda v: version_key(v.version))
    forks = fork_count(session, fam.slug)
    lines = [f"{own[-1].title} ({fam.slug}): {len(own)} version{'s' * (len(own) != 1)}, "
             f"{forks} fork{'s' * (forks != 1)}"]
    for version in own:
        lines.append("")
        lines.append(f"{version.ref}  [{version.license}]")
        up = walk(version, parents, 1, "↑ derives from", {version.id})
        down = walk(version, children, 1, "↓ derived by", {version.id})
        lines += up + down
        if not up and not down:
            lines.append("    (no derivation edges)")
    return "\n".join(lines) + "\n"
