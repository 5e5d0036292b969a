"""Errors of the accounts services."""

from __future__ import annotations

from ..errors import FieldError, OpenDesignError


class AccountError(OpenDesignError):
    """Invalid input to an account operation; ``errors`` name the fields."""

    def __init__(self, errors: list[FieldError]):
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in self.errors))

    def by_field(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for err in self.errors:
            out.setdefault(err.field, []).append(err.reason)
        return out


class PermissionDenied(OpenDesignError):
    """The user or token may not do this (e.g. a token scoped to another design)."""
