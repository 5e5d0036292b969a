"""Read and validate maker files; check what they name against the catalogue.

Every problem is a :class:`~opendesign.errors.FieldError` naming the file and
the field, e.g. ``designs/makers/acme.toml: productions[1].currency: 'EUROS' is
not an ISO 4217 currency code``, and all of a file's problems are reported
together.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.orm import Session

from ...catalogue.queries import get_design, get_version
from ...errors import FieldError, ManifestError, OpenDesignError
from ...manifests.loader import _field_path
from ...models import Design, DesignVersion
from .. import lineage
from .schema import MakerFile, cross_field_problems

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
        raw = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError([FieldError(display, "", f"is not valid TOML: {exc}")]) from None
    try:
        spec = MakerFile.model_validate(raw)
    except ValidationError as exc:
        errors = [FieldError(display, _field_path(e["loc"]), _reason(e)) for e in exc.errors()]
        if isinstance(raw.get("slug"), str) and raw["slug"] != path.stem:
            errors.append(_slug_error(display, raw["slug"], path))
        raise ManifestError(errors) from None
    errors = [FieldError(display, field, reason) for field, reason in cross_field_problems(spec)]
    if spec.slug != path.stem:
        errors.append(_slug_error(display, spec.slug, path))
    if errors:
        raise ManifestError(errors)
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
            version = get_version(session, p.design)
        except OpenDesignError as exc:
            errors.append(FieldError(source.display, f"productions[{i}].design", str(exc)))
            continue
        productions.append(version)
        if "@" in p.modified_source and "://" not in p.modified_source:
            problem = _derivative_problem(session, version, p.modified_source)
            if problem:
                errors.append(FieldError(source.display, f"productions[{i}].modified_source", problem))
    for i, c in enumerate(source.spec.contributions):
        try:
            design = get_design(session, c.design.partition("@")[0])
            if "@" in c.design:
                get_version(session, c.design)
        except OpenDesignError as exc:
            errors.append(FieldError(source.display, f"contributions[{i}].design", str(exc)))
            continue
        contributions.append(design)
    if errors:
        raise ManifestError(errors)
    return Resolved(productions, contributions)


def _derivative_problem(session: Session, produced: DesignVersion, ref: str) -> str:
    try:
        derivative = get_version(session, ref)
    except OpenDesignError as exc:
        return f"{exc}; publish the modified design first, or give a URL"
    if derivative.id == produced.id or produced.id not in {a.id for a in lineage.ancestors(session, derivative)}:
        return f"{derivative.ref} is not a derivative of {produced.ref} (its derived_from does not lead there)"
    return ""
