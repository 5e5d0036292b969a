"""The ``design.toml`` schema, validated with pydantic.

Unknown fields are rejected everywhere (``extra="forbid"``) so a typo such as
``licence`` is an error instead of a silently ignored line.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

import semver
from ..licenses.spdx import normalise_expression
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from .reciprocity import ReciprocitySpec

#: The fixed vocabulary of sustainability domains.
CATEGORIES = (
    "energy",
    "water",
    "food-agriculture",
    "shelter",
    "mobility",
    "tools-fabrication",
    "health",
    "waste-recycling",
)
PROCESSES = ("fdm", "sla", "sls", "cnc", "laser", "manual")
PARAMETER_TYPES = ("int", "float", "bool", "choice")
#: How a design's geometry is made (see :mod:`.kinds`): a ``build(params)``
#: CadQuery module, a CQGI script as CQ-editor runs it, build123d code, or
#: no code at all — parts that are files (STEP, STL, 3MF, OBJ).
KINDS = ("cadquery", "cqgi", "build123d", "static")
Kind = Literal["cadquery", "cqgi", "build123d", "static"]
#: Suffixes a static part's ``file`` may have; B-rep ones can become every format.
BREP_SUFFIXES = (".step", ".stp")
MESH_SUFFIXES = (".stl", ".3mf", ".obj")
PART_FILE_SUFFIXES = BREP_SUFFIXES + MESH_SUFFIXES

SLUG_RE = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_RE, min_length=2, max_length=64)]
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]*$", max_length=64)]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Number = int | float


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Author(_Strict):
    name: NonEmpty
    contact: str | None = None


class ParameterSpec(_Strict):
    """One knob of a parametric model, as the customiser and the renderer see it."""

    name: Identifier
    type: Literal["int", "float", "bool", "choice"]
    default: bool | int | float | str
    min: Number | None = None
    max: Number | None = None
    step: Number | None = None
    unit: str | None = None
    label: NonEmpty
    help: str | None = None
    choices: list[str] | None = None

    @model_validator(mode="after")
    def _check_consistency(self) -> "ParameterSpec":
        numeric = self.type in ("int", "float")
        if numeric:
            if isinstance(self.default, bool) or not isinstance(self.default, int | float):
                raise ValueError(f"default must be a number for type {self.type!r}")
            if self.type == "int" and not isinstance(self.default, int):
                raise ValueError("default must be an integer for type 'int'")
            for key in ("default", "min", "max", "step"):
                value = getattr(self, key)
                if value is not None and not math.isfinite(value):
                    raise ValueError(f"{key} must be a finite number")
            if self.min is not None and self.max is not None and self.min > self.max:
                raise ValueError(f"max must be greater than min ({self.min})")
            if self.min is not None and self.default < self.min:
                raise ValueError(f"default {self.default} is below min {self.min}")
            if self.max is not None and self.default > self.max:
                raise ValueError(f"default {self.default} is above max {self.max}")
            if self.step is not None and self.step <= 0:
                raise ValueError("step must be positive")
        elif self.min is not None or self.max is not None or self.step is not None:
            raise ValueError(f"min, max and step apply only to int and float parameters, not {self.type!r}")
        if self.type == "bool" and not isinstance(self.default, bool):
            raise ValueError("default must be true or false for type 'bool'")
        if self.type == "choice":
            if not self.choices:
                raise ValueError("choices must list at least one value for type 'choice'")
            if len(set(self.choices)) != len(self.choices):
                raise ValueError("choices must not repeat")
            if self.default not in self.choices:
                raise ValueError(f"default {self.default!r} is not one of the choices {self.choices}")
        elif self.choices is not None:
            raise ValueError("choices apply only to parameters of type 'choice'")
        return self


class PartSpec(_Strict):
    name: Identifier
    material: NonEmpty
    process: Literal["fdm", "sla", "sls", "cnc", "laser", "manual"]
    quantity: int = Field(default=1, ge=1, le=100_000)
    #: A static design's part: a file inside the design folder (``parts/frame.step``).
    file: str | None = None

    @field_validator("file")
    @classmethod
    def _relative_part_file(cls, value: str | None) -> str | None:
        if value is None:
            return None
        segments = value.split("/")
        if not value or value.startswith("/") or "\\" in value or ":" in value or "\0" in value:
            raise ValueError(f"{value!r} must be a relative path inside the design folder, e.g. 'parts/frame.step'")
        if any(seg in ("", ".", "..") for seg in segments):
            raise ValueError(f"{value!r} leaves the design folder or has an empty segment; "
                             "use a plain relative path such as 'parts/frame.step'")
        if not value.lower().endswith(PART_FILE_SUFFIXES):
            raise ValueError(f"{value!r} has an unsupported type; a part file must be one of "
                             f"{', '.join(PART_FILE_SUFFIXES)}")
        return value

    @property
    def is_mesh(self) -> bool:
        """A mesh part (STL, 3MF, OBJ) has no B-rep, so it cannot become STEP."""
        return self.file is not None and self.file.lower().endswith(MESH_SUFFIXES)


class BomLine(_Strict):
    item: NonEmpty
    quantity: float = Field(gt=0)
    unit: str = "pcs"
    note: str = ""


class PresetSpec(_Strict):
    """A named parameter set the designer recommends (``[[presets]]``).

    Its values are checked against the parameters by :mod:`opendesign.presets.design`
    when the folder is loaded, so an error can name the preset and the field.
    """

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    values: dict[str, Any]


class DesignManifest(_Strict):
    """The validated content of ``design.toml``."""

    slug: Slug
    #: Detected from the folder when absent (see :func:`.kinds.detect_kind`);
    #: the loader stores the resolved kind, so a stored manifest always has one.
    kind: Kind | None = None
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=120)]
    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=500)]
    version: str
    license: NonEmpty
    authors: list[Author] = Field(min_length=1)
    category: Literal[CATEGORIES]  # type: ignore[valid-type]
    tags: list[Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9+.-]*$", max_length=40)]] = []
    derived_from: list[str] = []
    parameters: list[ParameterSpec] = []
    parts: list[PartSpec] = Field(min_length=1)
    bom: list[BomLine] = []
    presets: list[PresetSpec] = []
    links: dict[str, Annotated[str, StringConstraints(pattern=r"^https?://\S+$")]] = {}
    #: What flows to the parents of a derivative (see :mod:`.reciprocity`).
    reciprocity: ReciprocitySpec = ReciprocitySpec()

    @field_validator("version")
    @classmethod
    def _semver(cls, value: str) -> str:
        if not semver.Version.is_valid(value):
            raise ValueError(f"{value!r} is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.0.0)")
        return value

    @field_validator("license")
    @classmethod
    def _spdx(cls, value: str) -> str:
        # Normalised spelling (``mit`` -> ``MIT``) so equal licenses compare equal.
        return normalise_expression(value)

    @field_validator("derived_from")
    @classmethod
    def _parent_refs(cls, refs: list[str]) -> list[str]:
        for ref in refs:
            slug, sep, version = ref.partition("@")
            if not sep or not re.match(SLUG_RE, slug) or not semver.Version.is_valid(version):
                raise ValueError(f"{ref!r} must be 'slug@version', e.g. 'solar-dryer@1.0.0'")
        if len(set(refs)) != len(refs):
            raise ValueError("lists the same parent twice")
        return refs

    @field_validator("parameters", "parts", "presets")
    @classmethod
    def _unique_names(cls, items: list) -> list:
        names = [item.name for item in items]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"names must be unique; repeated: {', '.join(dupes)}")
        return items

    @model_validator(mode="after")
    def _kind_rules(self) -> "DesignManifest":
        files = [p.name for p in self.parts if p.file is not None]
        if self.kind == "static":
            if self.parameters:
                raise ValueError("a static design has no parameters: its parts are fixed files")
            if self.presets:
                raise ValueError("a static design has no presets: it has no parameters")
            missing = [p.name for p in self.parts if p.file is None]
            if missing:
                raise ValueError(f"every part of a static design needs a file; missing for: {', '.join(missing)}")
        elif self.kind is not None and files:
            raise ValueError(f"part file(s) apply only to kind = \"static\"; this design is kind = \"{self.kind}\" "
                             f"and lists a file for: {', '.join(files)}")
        return self

    @property
    def resolved_kind(self) -> str:
        """The kind, ``cadquery`` for manifests stored before kinds existed."""
        return self.kind or "cadquery"

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, tags: list[str]) -> list[str]:
        return sorted(set(tags))

    def parameter(self, name: str) -> ParameterSpec:
        for spec in self.parameters:
            if spec.name == name:
                return spec
        raise KeyError(name)
