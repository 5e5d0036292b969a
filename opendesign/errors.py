"""Error types with messages a user can act on.

The CLI and the web layer turn these into exit codes and HTTP statuses in one
place each; nothing below them formats errors for a particular front end.
"""

from __future__ import annotations

from dataclasses import dataclass


class OpenDesignError(Exception):
    """Base class for every error a user is meant to read."""

    #: Exit code the CLI uses; HTTP layers map the class instead.
    exit_code = 1


@dataclass(frozen=True)
class FieldError:
    """One problem in one field of one file."""

    file: str
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{where}: {self.reason}"


class ManifestError(OpenDesignError):
    """A design folder or maker file failed validation.

    Carries every problem found, not only the first, so a designer can fix
    them all in one pass.
    """

    def __init__(self, errors: list[FieldError]):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


class NotFound(OpenDesignError):
    """A slug, version or file that the catalogue does not hold."""


class VersionConflict(OpenDesignError):
    """Released versions are immutable: same version, different content."""


class LineageError(OpenDesignError):
    """A derivation edge that cannot exist (unknown parent, cycle, self)."""


class LicenseConflict(OpenDesignError):
    """A derivative's license is not allowed by one of its parents."""
