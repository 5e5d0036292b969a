"""License identifiers and families of a design, as facets.

The license registry (:mod:`opendesign.licenses.registry`) owns the family of
each license; this module only asks it, and says ``unknown`` when the registry
cannot answer, so search never fails because of license data.
"""

from __future__ import annotations

import logging
from functools import lru_cache

log = logging.getLogger(__name__)

UNKNOWN = "unknown"
FAMILIES = ("permissive", "weakly-reciprocal", "strongly-reciprocal", "non-commercial", "no-derivatives",
            "copyfair", UNKNOWN)


def license_ids(expression: str) -> tuple[str, ...]:
    """The license identifiers in an SPDX *expression*; the raw text if it does not parse."""
    from ..licenses.spdx import license_keys

    try:
        return tuple(license_keys(expression))
    except Exception:  # an expression the registry no longer knows must still be indexed
        log.debug("cannot parse license expression %r", expression, exc_info=True)
        return (expression.strip(),) if expression and expression.strip() else ()


def _normalise(value) -> str:
    value = getattr(value, "value", value)  # an Enum member
    text = str(value or "").strip().lower().replace("_", "-").replace(" ", "-")
    return text or UNKNOWN


@lru_cache(maxsize=1024)
def license_family(license_id: str) -> str:
    """The family of one license identifier (``permissive``, ``copyfair``...), or ``unknown``."""
    try:
        from ..licenses import registry

        return _normalise(registry.get(license_id).family)
    except Exception:
        return UNKNOWN


def license_families(ids: tuple[str, ...]) -> tuple[str, ...]:
    """The families of *ids*, unique, in order."""
    return tuple(dict.fromkeys(license_family(i) for i in ids)) or (UNKNOWN,)
