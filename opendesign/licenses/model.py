"""The shape of one license's rules, and the vocabularies its fields draw from.

Kept apart from :mod:`~opendesign.licenses.registry` so the data modules can
build :class:`License` values without importing the registry that collects them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

#: License families, from most to least permissive towards reusers.
FAMILIES: tuple[str, ...] = (
    "permissive",
    "weakly-reciprocal",
    "strongly-reciprocal",
    "copyfair",
    "non-commercial",
    "no-derivatives",
)

ALLOWED = "allowed"
NON_COMMERCIAL = "non-commercial"
WORKER_OWNED_ONLY = "worker-owned-only"

#: Commercial-use rules, least restrictive first.  ``worker-owned-only`` sits
#: below ``non-commercial`` because it still lets *some* businesses sell.
COMMERCIAL_RULES: tuple[str, ...] = (ALLOWED, WORKER_OWNED_ONLY, NON_COMMERCIAL)

#: Keys a :attr:`License.clauses` mapping may use, one per rule.
CLAUSE_KEYS: frozenset[str] = frozenset(
    {"attribution", "share_alike", "derivatives", "commercial_use", "products", "source", "compatible",
     # Licenses that give these ask every product to come with its source location / carry the notice.
     "source_location", "notice"}
)


def commercial_rank(rule: str) -> int:
    """Position of *rule* in :data:`COMMERCIAL_RULES`; higher is more restrictive."""
    return COMMERCIAL_RULES.index(rule)


@dataclass(frozen=True)
class License:
    """What one license lets a reuser do, and what it asks in return.

    :param id: SPDX identifier (or a ``LicenseRef-...`` the project defines).
    :param name: full name.
    :param url: canonical URL of the legal text.
    :param family: one of :data:`FAMILIES`.
    :param attribution_required: reusers must credit the authors.
    :param share_alike: derivatives must keep this license (or a compatible one).
    :param compatible: licenses a derivative may carry *instead* of this one.
        One-way: ``CC-BY-SA-4.0`` lists ``GPL-3.0-or-later``, not the reverse.
    :param derivatives_allowed: modified versions may be shared at all.
    :param commercial_use: one of :data:`COMMERCIAL_RULES`.
    :param product_obligations: plain-language duties of whoever makes or sells
        products, each ending with the clause it comes from.
    :param clauses: clause citations keyed by rule (see :data:`CLAUSE_KEYS`),
        without the license id, e.g. ``{"share_alike": "§3(b)(1)"}``.
    :param note: anything a reader of the rules should know that fits no field.
    """

    id: str
    name: str
    url: str
    family: str
    attribution_required: bool
    share_alike: bool
    derivatives_allowed: bool
    commercial_use: str
    compatible: tuple[str, ...] = ()
    product_obligations: tuple[str, ...] = ()
    # Excluded from hashing: a mapping is not hashable, and the id already
    # identifies the license.
    clauses: Mapping[str, str] = field(default_factory=dict, hash=False)
    note: str = ""

    def __post_init__(self) -> None:
        # Catch data-entry mistakes at import time rather than as odd verdicts.
        if self.family not in FAMILIES:
            raise ValueError(f"{self.id}: family {self.family!r} is not one of {', '.join(FAMILIES)}")
        if self.commercial_use not in COMMERCIAL_RULES:
            raise ValueError(
                f"{self.id}: commercial_use {self.commercial_use!r} is not one of {', '.join(COMMERCIAL_RULES)}"
            )
        unknown_keys = set(self.clauses) - CLAUSE_KEYS
        if unknown_keys:
            raise ValueError(f"{self.id}: unknown clause keys {sorted(unknown_keys)}")
        if self.share_alike and not self.derivatives_allowed:
            raise ValueError(f"{self.id}: share-alike makes no sense without derivatives")
        if self.id in self.compatible:
            raise ValueError(f"{self.id}: lists itself as compatible")
        object.__setattr__(self, "compatible", tuple(self.compatible))
        object.__setattr__(self, "product_obligations", tuple(self.product_obligations))
        object.__setattr__(self, "clauses", MappingProxyType(dict(self.clauses)))

    @property
    def is_permissive(self) -> bool:
        """Reusers owe nothing beyond credit: no share-alike, no use restriction."""
        return self.derivatives_allowed and not self.share_alike and self.commercial_use == ALLOWED

    def clause(self, rule: str) -> str:
        """Citation for *rule*, prefixed with the license id (``"CC-BY-4.0 §3(a)"``).

        Falls back to the bare id when the data gives no clause for the rule.
        """
        cited = self.clauses.get(rule, "")
        return f"{self.id} {cited}" if cited else self.id
