"""License compatibility along every lineage edge.

The rules are the license library's
(:func:`opendesign.licenses.compatibility.check_derivative`); this module
applies them to the catalogue: as a check the importer runs on every new
version (so ``opendesign import`` refuses an incompatible derivative), as an
audit of every edge already stored, and as the list of licenses a new
derivative of some catalogue versions may use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..catalogue.importer import register_check
from ..catalogue.refs import version_key
from ..errors import FieldError
from ..licenses.compatibility import Allowance, ParentRef, Problem, allowance, check_derivative
from ..manifests import DesignFolder
from ..models import DesignVersion, Lineage
from .lineage import parents as parents_of

#: Problem kind that concerns every parent at once rather than one edge.
ALL_PARENTS = "incompatible-parents"


def parent_ref(version: DesignVersion) -> ParentRef:
    return ParentRef(version.design.slug, version.version, version.license)


def license_problems(child_license: str, parents: Iterable[DesignVersion]) -> list[Problem]:
    """Why *child_license* may not license a derivative of *parents* (empty: it may)."""
    return check_derivative(child_license, [parent_ref(p) for p in parents])


def import_check(session: Session, folder: DesignFolder, parents: list[DesignVersion],
                 manifest_file: str) -> list[FieldError]:
    """Importer check: the new version's license must be allowed by every parent."""
    if not parents:
        return []
    license_ = folder.manifest.license
    return [FieldError(manifest_file, "license", f"{license_} is not allowed for this derivative: {p.message}")
            for p in license_problems(license_, parents)]


def install() -> None:
    """Make the importer run :func:`import_check` (idempotent; done on importing :mod:`opendesign.commons`)."""
    register_check(import_check)


def problem_view(problem: Problem) -> dict[str, Any]:
    return {
        "parent": problem.parent,
        "parent_license": problem.parent_license,
        "child_license": problem.child_license,
        "kind": problem.kind,
        "rule": problem.rule,
        "clause": problem.clause,
        "detail": problem.detail,
        "allowed": list(problem.allowed),
        "message": problem.message,
    }


@dataclass
class EdgeVerdict:
    """One parent -> child edge and whether the child's license honours the parent's."""

    parent: DesignVersion
    child: DesignVersion
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "parent": self.parent.ref,
            "parent_license": self.parent.license,
            "child": self.child.ref,
            "child_license": self.child.license,
            "compatible": self.ok,
            "problems": [problem_view(p) for p in self.problems],
        }


def child_edges(child: DesignVersion) -> list[EdgeVerdict]:
    """The verdict on each edge from *child* to its parents.

    A problem about one parent lands on that edge; one about the parents
    together (no license satisfies them all) lands on every edge.
    """
    parents = parents_of(child)
    problems = license_problems(child.license, parents) if parents else []
    verdicts = []
    for parent in parents:
        mine = [p for p in problems if p.parent == parent.ref or p.kind == ALL_PARENTS]
        verdicts.append(EdgeVerdict(parent, child, mine))
    return verdicts


@dataclass
class Audit:
    edges: list[EdgeVerdict] = field(default_factory=list)

    @property
    def incompatible(self) -> list[EdgeVerdict]:
        return [e for e in self.edges if not e.ok]

    @property
    def ok(self) -> bool:
        return not self.incompatible

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "edges": len(self.edges), "incompatible": len(self.incompatible),
                "results": [e.as_dict() for e in self.edges]}


def audit(session: Session) -> Audit:
    """Check every lineage edge in the catalogue against the current license rules."""
    child_ids = session.scalars(select(Lineage.child_id).distinct()).all()
    children = session.scalars(
        select(DesignVersion).where(DesignVersion.id.in_(child_ids)).options(
            selectinload(DesignVersion.design),
            selectinload(DesignVersion.parents).selectinload(Lineage.parent).selectinload(DesignVersion.design),
        )
    ).all()
    children = sorted(children, key=lambda v: (v.design.slug, version_key(v.version)))
    return Audit([edge for child in children for edge in child_edges(child)])


def allowed_for(parents: list[DesignVersion]) -> Allowance:
    """The licenses a new derivative of *parents* may use, with each parent's rule."""
    return allowance([parent_ref(p) for p in parents])


def allowance_view(result: Allowance) -> dict[str, Any]:
    return {
        "parents": [{"parent": pa.parent, "license": pa.license, "kind": pa.kind, "rule": pa.rule,
                     "clause": pa.clause, "allowed": list(pa.allowed)} for pa in result.parents],
        "allowed": list(result.licenses),
        "possible": result.possible,
        "reason": result.reason,
    }
