"""The one error type of the render pipeline, with a category callers can branch on."""

from __future__ import annotations

from opendesign.errors import OpenDesignError

INVALID_PARAMS = "invalid-params"
SCRIPT_ERROR = "script-error"
TIMEOUT = "timeout"
OUT_OF_MEMORY = "out-of-memory"
INVALID_GEOMETRY = "invalid-geometry"
SANDBOX_FAILURE = "sandbox-failure"
#: The design is not the operator's seed and the sandbox cannot isolate it (opendesign.trust).
SANDBOX_REQUIRED = "sandbox-required"
#: The job filled its own scratch disk (its per-job quota).
DISK_FULL = "disk-full"
#: The model needed more than the render memory cap (renderers.sandbox.memory), or its mesh is beyond
#: what converting it may cost (triangles, memory, time): see renderers.caps.
TOO_LARGE = "too-large"

CATEGORIES = (INVALID_PARAMS, SCRIPT_ERROR, TIMEOUT, OUT_OF_MEMORY, INVALID_GEOMETRY, SANDBOX_FAILURE,
              SANDBOX_REQUIRED, DISK_FULL, TOO_LARGE)


class RenderError(OpenDesignError):
    """A render that did not produce files.

    :attr:`category` is one of :data:`CATEGORIES`; :attr:`traceback` holds the
    last lines of the design script's traceback (or log) when there is one;
    :attr:`fields` maps parameter name -> reason for ``invalid-params``.
    """

    def __init__(self, category: str, message: str, *, traceback: list[str] | None = None,
                 fields: dict[str, str] | None = None, ref: str | None = None):
        if category not in CATEGORIES:
            raise ValueError(f"unknown render error category {category!r}")
        self.category = category
        self.message = message
        self.traceback = list(traceback or [])
        self.fields = dict(fields or {})
        self.ref = ref
        super().__init__(self._text())

    def _text(self) -> str:
        where = f"{self.ref}: " if self.ref else ""
        text = f"{where}{self.category}: {self.message}"
        if self.traceback:
            text += "\n" + "\n".join("  " + line for line in self.traceback)
        return text

    def with_ref(self, ref: str) -> RenderError:
        """The same error, naming the design version it happened in."""
        if self.ref is None:
            self.ref = ref
            self.args = (self._text(),)
        return self

    def as_dict(self) -> dict:
        return {"category": self.category, "message": self.message, "traceback": self.traceback,
                "fields": self.fields, "ref": self.ref}


class RendersUnavailable(OpenDesignError):
    """Renders cannot be queued right now (the broker is unreachable); pages and cached files still serve.

    The web layer answers 503 with the message; the CLI exits 3.
    """

    exit_code = 3
