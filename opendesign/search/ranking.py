"""Ranking a matched set: top hits by score or by a sort key, and facet counts.

All of it works on the arrays :mod:`.engine` produced, per segment, so no
Python runs per matching document.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .schema import FACET_FIELDS
from .service import FacetValue
from .tables import TableCache


@dataclass
class Matched:
    #: (leaf searcher, segment key, docnum offset, matching segment-local docnums, their scores)
    leaves: list[tuple[object, str, int, np.ndarray, np.ndarray]]
    total: int
    timed_out: bool


def top_by_score(matched: Matched, n: int) -> list[tuple[float, int]]:
    """The *n* best (score, docnum) pairs; ties go to the lower docnum."""
    if n <= 0 or not matched.total:
        return []
    score = np.concatenate([scores for *_, scores in matched.leaves])
    docnum = np.concatenate([docs + offset for _l, _k, offset, docs, _s in matched.leaves])
    if len(score) > n:
        part = np.argpartition(-score, n - 1)[:n]
        score, docnum = score[part], docnum[part]
    order = np.lexsort((docnum, -score))
    return [(float(score[i]), int(docnum[i])) for i in order]


def top_by_key(matched: Matched, tables: TableCache, fieldname: str, n: int) -> list[tuple[float, int]]:
    """The *n* matches with the largest *fieldname* (newest as the tie-break), as (key, docnum)."""
    keys, docnums = [], []
    for leaf, key, offset, docs, _scores in matched.leaves:
        if not len(docs):
            continue
        segment_tables = tables.get(key, leaf.reader())
        primary = segment_tables.sort_keys[fieldname][docs]
        # Ties (most designs have no forks) are broken by newest first.
        secondary = segment_tables.sort_keys["published"][docs] & 0xFFFFFFFF
        keys.append(primary * (1 << 32) + secondary if fieldname != "published" else primary)
        docnums.append(docs + offset)
    if not keys or n <= 0:
        return []
    key, docnum = np.concatenate(keys), np.concatenate(docnums)
    if len(key) > n:
        part = np.argpartition(-key, n - 1)[:n]
        key, docnum = key[part], docnum[part]
    order = np.lexsort((docnum, -key))
    return [(float(key[i] >> 32 if fieldname != "published" else key[i]), int(docnum[i])) for i in order]


def facet_counts(matched: Matched, tables: TableCache) -> dict[str, list[FacetValue]]:
    """Every facet value's count over the whole matched set, most frequent first."""
    counts: dict[tuple[str, str], int] = {}
    for leaf, key, _offset, docs, _scores in matched.leaves:
        if not len(docs):
            continue
        segment_tables = tables.get(key, leaf.reader())
        if not segment_tables.columns:
            continue
        sums = segment_tables.matrix[docs].sum(axis=0, dtype=np.int64)
        for column, count in zip(segment_tables.columns, sums.tolist()):
            if count:
                counts[column] = counts.get(column, 0) + count
    facets: dict[str, list[FacetValue]] = {name: [] for name in FACET_FIELDS}
    for (fieldname, value), count in counts.items():
        facets[fieldname].append(FacetValue(value, count))
    for values in facets.values():
        values.sort(key=lambda v: (-v.count, v.value))
    return facets
