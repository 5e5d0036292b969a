"""Which designs may render, given how well the render sandbox isolates them.

A design's ``model.py`` is someone's code. Inside bubblewrap it sees a
read-only system and nothing of the catalogue; without it (no ``bwrap``, or
``render_use_bwrap = false``) it runs on the host's filesystem, so it could
read what the job's uid may read. Then only the operator's own seed
(:data:`~opendesign.catalogue.origins.SEED`) renders, with a warning, and every
other design is refused, unless the operator sets
``render_allow_unsandboxed_untrusted``. Files rendered earlier are still served
from the cache: serving bytes runs no code.
"""

from __future__ import annotations

from dataclasses import dataclass

from .catalogue.origins import DESCRIPTIONS, TRUSTED
from .config import Settings

SETTING = "render_allow_unsandboxed_untrusted"
ENV = "OPENDESIGN_RENDER_ALLOW_UNSANDBOXED_UNTRUSTED"

ISOLATED, SEED_ONLY, UNSAFE = "isolated", "seed-only", "unsafe-all"


@dataclass(frozen=True)
class RenderMode:
    """What renders on this server: :data:`ISOLATED`, :data:`SEED_ONLY` or :data:`UNSAFE`."""

    name: str
    isolated: bool

    @property
    def degraded(self) -> bool:
        return not self.isolated

    def describe(self) -> str:
        if self.name == ISOLATED:
            return "every design renders in the isolated sandbox"
        if self.name == SEED_ONLY:
            return ("the sandbox is not isolated: only seed designs (imported from the designs folder) render; "
                    f"every other design is refused (set {SETTING} to allow them, at your own risk)")
        return (f"the sandbox is not isolated and {SETTING} is set: EVERY design renders, so model code of "
                "strangers runs with the host's filesystem in view")


def render_mode(settings: Settings, isolated: bool) -> RenderMode:
    if isolated:
        return RenderMode(ISOLATED, True)
    return RenderMode(UNSAFE if settings.render_allow_unsandboxed_untrusted else SEED_ONLY, False)


def refusal(settings: Settings, isolated: bool, origin: str, ref: str, sandbox_reason: str = "") -> str | None:
    """Why *ref* (of *origin*) must not render here, or None when it may."""
    if isolated or origin in TRUSTED or settings.render_allow_unsandboxed_untrusted:
        return None
    why = sandbox_reason or "the render sandbox is not isolated"
    came = DESCRIPTIONS.get(origin, f"of origin {origin!r}")
    return (f"{ref} was {came}, and this server cannot render it safely: {why}. Only the operator's seed "
            f"designs render without the bubblewrap sandbox. Install bubblewrap (apt-get install bubblewrap) "
            f"and leave render_use_bwrap on, or, if you trust every design, set {SETTING} = true "
            f"({ENV}=1)")
