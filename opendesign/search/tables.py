"""Per-segment arrays for facet counts and sorting, computed once per segment.

Whoosh's own grouping and sorting call Python code for every matched
document. Here each segment's facet values become one 0/1 matrix (documents x
values) and each sort key one array, built the first time the segment is
searched and kept while the segment lives; counting facets over a result set
is then one numpy gather-and-sum, and sorting an argpartition.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .engine import decode_postings
from .schema import FACET_FIELDS, SORT_FIELDS


@dataclass(frozen=True)
class SegmentTables:
    #: (facet field, value) for each column of ``matrix``.
    columns: tuple[tuple[str, str], ...]
    #: uint8[doc_count_all, len(columns)]
    matrix: np.ndarray
    #: sort field -> int64[doc_count_all]
    sort_keys: dict[str, np.ndarray]


def build_tables(reader) -> SegmentTables:
    """Read the facet postings and sort columns of one segment *reader*."""
    n = reader.doc_count_all()
    columns: list[tuple[str, str]] = []
    postings: list[np.ndarray] = []
    for fieldname in FACET_FIELDS:
        if fieldname not in reader.indexed_field_names():
            continue
        for btext in reader.lexicon(fieldname):
            ids, _weights = decode_postings(reader, fieldname, btext)
            columns.append((fieldname, btext.decode("utf-8")))
            postings.append(ids)
    matrix = np.zeros((n, len(columns)), dtype=np.uint8)
    for col, ids in enumerate(postings):
        matrix[ids, col] = 1
    sort_keys = {}
    for fieldname in SORT_FIELDS:
        if reader.has_column(fieldname):
            sort_keys[fieldname] = np.fromiter(reader.column_reader(fieldname), dtype=np.int64, count=n)
        else:
            sort_keys[fieldname] = np.zeros(n, dtype=np.int64)
    return SegmentTables(tuple(columns), matrix, sort_keys)


class TableCache:
    """Tables by segment key; a segment's content never changes, only its deletions,
    and deleted documents never reach the tables' users."""

    def __init__(self, size: int = 64):
        self._size = size
        self._tables: OrderedDict[str, SegmentTables] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, reader) -> SegmentTables:
        with self._lock:
            tables = self._tables.get(key)
            if tables is not None:
                self._tables.move_to_end(key)
                return tables
        tables = build_tables(reader)
        with self._lock:
            self._tables[key] = tables
            while len(self._tables) > self._size:
                self._tables.popitem(last=False)
        return tables
