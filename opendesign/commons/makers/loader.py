"""Read and validate maker files; check what they name against the catalogue.

Every problem is a :class:`~opendesign.errors.FieldError` naming the file and
the field, e.g. ``designs/makers/acme.toml: productions[1].currency: 'EUROS' is
not an ISO 4217 currency code``, and all of a file's problems are reported
together.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from ...catalogue.queries import get_design, get_version
from ...errors import FieldError, ManifestError, OpenDesignError
from ...manifests.loader import _field_path
from ...manifests.textfiles import TextError, parse_toml
from ...models import Design, DesignVersion
from .. import lineage
from .schema import (AttestationSpec, ContributionSpec, MakerFile, ProductionSpec, attestation_problems,
                     contribution_problems, cross_field_problems, production_problems)

SUFFIX = ".toml"


@dataclass(frozen=True)
class MakerSource:
    """A maker file that passed the schema, not yet checked against the catalogue."""

    path: Path
    display: str
    spec: MakerFile
    source_hash: str

    @property
    def slug(self) -> str:
        return self.spec.slug


@dataclass(frozen=True)
class Resolved:
    """The catalogue rows a maker file names, in file order."""

    productions: list[DesignVersion]
    contributions: list[Design]


def discover(paths) -> list[Path]:
    """Maker files named by *paths*: ``.toml`` files, or those inside folders."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(p for p in sorted(path.iterdir())
                         if p.suffix == SUFFIX and p.is_file() and not p.name.startswith((".", "_")))
        else:
            found.append(path)
    return found


def _reason(err: dict) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown field (check the spelling; see the maker file format in designs/makers/README.md)"
    if err["type"] == "missing":
        return "field required"
    if err["type"] == "literal_error":
        return f"{err['input']!r} is not allowed; {err['msg'].removeprefix('Input should be ').lower()}"
    return err["msg"].removeprefix("Value error, ")


_CROSS_FIELD = {MakerFile: cross_field_problems, ProductionSpec: production_problems,
                ContributionSpec: contribution_problems, AttestationSpec: attestation_problems}


def _validate(model: type[BaseModel], raw: object, display: str):
    try:
        spec = model.model_validate(raw)
    except ValidationError as exc:
        raise ManifestError([FieldError(display, _field_path(e["loc"]), _reason(e)) for e in exc.errors()]) from None
    errors = [FieldError(display, field, reason) for field, reason in _CROSS_FIELD[model](spec)]
    if errors:
        raise ManifestError(errors)
    return spec


def validate_maker(raw: object, display: str = "") -> MakerFile:
    """Check *raw* (a parsed maker file, or the same fields from a form or the API) against the schema.

    :raises ManifestError: with every problem, each naming *display* and the field.
    """
    return _validate(MakerFile, raw, display)


def validate_production(raw: object, display: str = "") -> ProductionSpec:
    """Check one ``[[productions]]`` entry, as :func:`validate_maker` checks a whole file."""
    return _validate(ProductionSpec, raw, display)


def validate_contribution(raw: object, display: str = "") -> ContributionSpec:
    """Check one ``[[contributions]]`` entry, as :func:`validate_maker` checks a whole file."""
    return _validate(ContributionSpec, raw, display)


def validate_attestation(raw: object, display: str = "") -> AttestationSpec:
    """Check one ``[[attestations]]`` entry, as :func:`validate_maker` checks a whole file."""
    return _validate(AttestationSpec, raw, display)


def load_maker_file(path: str | Path, display: str | None = None) -> MakerSource:
    """Validate the maker file at *path* (schema only).

    :raises ManifestError: with every problem, each naming the file and field.
    """
    path = Path(path)
    display = display or str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ManifestError([FieldError(display, "", f"cannot be read: {exc.strerror}")]) from None
    try:
        raw = parse_toml(data, display)
    except TextError as exc:
        raise ManifestError([exc.error]) from None
    try:
        spec = validate_maker(raw, display)
    except ManifestError as exc:
        errors = exc.errors
        if isinstance(raw.get("slug"), str) and raw["slug"] != path.stem:
            errors.append(_slug_error(display, raw["slug"], path))
        raise ManifestError(errors) from None
    if spec.slug != path.stem:
        raise ManifestError([_slug_error(display, spec.slug, path)])
    return MakerSource(path, display, spec, hashlib.sha256(data).hexdigest())


def _slug_error(display: str, slug: str, path: Path) -> FieldError:
    return FieldError(display, "slug", f"{slug!r} must equal the file name {path.stem!r} (without {SUFFIX})")


def resolve(session: Session, source: MakerSource) -> Resolved:
    """The versions and designs *source* names.

    :raises ManifestError: naming every design or version the catalogue does
        not hold, and every ``modified_source`` that is not a derivative.
    """
    errors: list[FieldError] = []
    productions: list[DesignVersion] = []
    contributions: list[Design] = []
    for i, p in enumerate(source.spec.productions):
        try:
            productions.append(resolve_production(session, p, source.display, f"productions[{i}]."))
        except ManifestError as exc:
            errors.extend(exc.errors)
    for i, c in enumerate(source.spec.contributions):
        try:
            contributions.append(resolve_contribution(session, c, source.display, f"contributions[{i}]."))
        except ManifestError as exc:
            errors.extend(exc.errors)
    if errors:
        raise ManifestError(errors)
    return Resolved(productions, contributions)


def resolve_production(session: Session, spec: ProductionSpec, display: str = "", prefix: str = "") -> DesignVersion:
    """The catalogue version production *spec* makes.

    :raises ManifestError: the version is unknown, or ``modified_source``
        names something that is not a derivative of it (fields named
        ``<prefix>design``, ``<prefix>modified_source``).
    """
    try:
        version = get_version(session, spec.design)
    except OpenDesignError as exc:
        raise ManifestError([FieldError(display, f"{prefix}design", str(exc))]) from None
    if "@" in spec.modified_source and "://" not in spec.modified_source:
        problem = _derivative_problem(session, version, spec.modified_source)
        if problem:
            raise ManifestError([FieldError(display, f"{prefix}modified_source", problem)])
    return version


def resolve_contribution(session: Session, spec: ContributionSpec, display: str = "", prefix: str = "") -> Design:
    """The catalogue design contribution *spec* goes to.

    :raises ManifestError: the design (or the version it names) is unknown.
    """
    try:
        design = get_design(session, spec.design.partition("@")[0])
        if "@" in spec.design:
            get_version(session, spec.design)
    except OpenDesignError as exc:
        raise ManifestError([FieldError(display, f"{prefix}design", str(exc))]) from None
    return design


def _derivative_problem(session: Session, produced: DesignVersion, ref: str) -> str:
    try:
        derivative = get_version(session, ref)
    except OpenDesignError as exc:
        return f"{exc}; publish the modified design first, or give a URL"
    if derivative.id == produced.id or produced.id not in {a.id for a in lineage.ancestors(session, derivative)}:
        return f"{derivative.ref} is not a derivative of {produced.ref} (its derived_from does not lead there)"
    return ""
