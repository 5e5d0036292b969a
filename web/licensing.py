"""A license's rules in plain words, for badges and the license pages."""

from __future__ import annotations

from typing import Any

from .adapters import commons

_FAMILY_WORDS = {
    "permissive": "Permissive",
    "weakly-reciprocal": "Weakly reciprocal",
    "strongly-reciprocal": "Strongly reciprocal (share-alike)",
    "copyfair": "Copyfair",
    "non-commercial": "Non-commercial",
    "no-derivatives": "No derivatives",
}
_COMMERCIAL_WORDS = {
    "allowed": "Commercial use is allowed.",
    "non-commercial": "No commercial use: you may not sell it or products made from it.",
    "worker-owned-only": "Commercial use only by worker-owned businesses and collectives that share all "
                         "financial gain among their worker-owners.",
}


def family_label(family: str) -> str:
    return _FAMILY_WORDS.get(family, family)


def explain(lic) -> dict[str, Any]:
    """What a registry license allows and requires, as sentences."""
    allows = ["Use, study, copy and make the design."]
    requires: list[str] = []
    if lic.derivatives_allowed:
        allows.append("Modify it and share your modified versions.")
    else:
        requires.append("Share it only unmodified: modified versions may not be distributed.")
    allows.append(_COMMERCIAL_WORDS.get(lic.commercial_use, lic.commercial_use))
    if lic.attribution_required:
        requires.append("Credit the authors and link the license.")
    if lic.share_alike:
        others = f" (or one of: {', '.join(lic.compatible)})" if lic.compatible else ""
        requires.append(f"Release modified versions under {lic.id}{others}.")
    requires.extend(lic.product_obligations)
    return {"id": lic.id, "name": lic.name, "url": lic.url, "family": lic.family,
            "family_label": family_label(lic.family), "allows": allows, "requires": requires, "note": lic.note}


def badges(expression: str) -> list[dict[str, Any]]:
    """One entry per license id in an SPDX expression; unknown ids get just their name."""
    out = []
    for key in commons.license_ids(expression):
        lic = commons.license(key)
        out.append(explain(lic) if lic else {"id": key, "name": key, "url": "", "family": "unknown",
                                             "family_label": "Unknown", "allows": [], "requires": [], "note": ""})
    return out
