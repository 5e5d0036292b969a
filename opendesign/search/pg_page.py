"""The one statement that answers a PostgreSQL search page, and the rows it returns.

A search reads its matches once (the GIN index, then each row's sort keys,
facet ids and small ``ranked`` vector) into a materialised set. From that set the
same statement takes the total, every facet count (one GROUP BY over the
``facet_ids`` column, named from ``search_facet``), the best :data:`CANDIDATES` by the cheap rank or the sort
key, and the shown page among those candidates: ranked on the whole
``document``, with ``ts_headline`` for its rows only. One statement rather than
a match statement and a page statement: the candidates never travel to the
client and back, and a search is one round trip (plus its settings).

Every branch of the ``UNION ALL`` returns the same typed columns (:data:`_ROW`);
``kind`` says what a row is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .pg_query import SqlQuery
from .pg_tables import PLAIN, STEMMED
from .schema import FACET_FIELDS
from .service import FacetValue

#: Weights of D (body), C (summary), B (tags), A (title): PostgreSQL's defaults, steeper than Whoosh's boosts.
RANK_WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"
#: Normalisation 1: divide by 1 + log(document length), as BM25 discounts long READMEs.
RANK_NORMALISATION = 1
#: Cover density rather than ts_rank: ts_rank saturates at 1.0 for a title typed in full, so a longer title
#: holding the same words tied with the exact one (measured on the seed commons: 2-3 of 22 titles missed
#: their design with ts_rank under any weights; none with ts_rank_cd).
RANK_EXPRESSION = "ts_rank_cd('{weights}', {vector}, {q}, {n})"
#: Relevance ranks every match on the small ``ranked`` vector (title, tags, summary; kept in the row), then
#: this many of the best on the whole ``document``: ranking a 1.2 kB document per match was most of a
#: common word's cost.
CANDIDATES = 200
ORDER = {
    "relevance": "score DESC, slug",
    "newest": "published DESC, slug",
    "most-forked": "forks DESC, published DESC, slug",
    "most-produced": "productions DESC, published DESC, slug",
}
#: Marks ts_headline puts around matches; the text is HTML-escaped afterwards and they become <mark>.
START, STOP = "\x02", "\x03"
_HEADLINE_WHOLE = f"HighlightAll=true, StartSel={START}, StopSel={STOP}"
_HEADLINE_SNIPPET = f"MaxWords=35, MinWords=15, ShortWord=2, StartSel={START}, StopSel={STOP}"
HIT_COLUMNS = ("slug", "version", "title", "summary", "category", "license", "tags", "authors", "forks",
               "productions", "published")
#: The columns of every row of the statement. kind 0: the total in ``n``; kind 1: a hit of the page, at
#: ``pos``; kind 2: a facet value (``name:value``) in ``key`` with its count in ``n``.
_ROW = (("kind", "int"), ("key", "text"), ("n", "bigint"), ("pos", "bigint"), ("version", "text"),
        ("title", "text"), ("summary", "text"), ("category", "text"), ("license", "text"), ("tags", "text[]"),
        ("authors", "text[]"), ("forks", "int"), ("productions", "int"), ("published", "timestamptz"),
        ("score", "float8"), ("m_title", "text"), ("m_summary", "text"), ("m_tags", "text"),
        ("m_authors", "text"))
KINDS = {"total": 0, "hit": 1, "facet": 2}


@dataclass
class Page:
    total: int = 0
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    #: The page's rows in order: a mapping of :data:`_ROW`'s names, ``key`` being the slug.
    rows: list[dict] = field(default_factory=list)


def _select(**values: str) -> str:
    """One branch's select list: *values* where given, typed NULLs elsewhere."""
    return ", ".join(f"CAST({values[name]} AS {type_})" if name in values else f"CAST(NULL AS {type_})"
                     for name, type_ in _ROW)


def rank(sql: SqlQuery, vector: str) -> str:
    return RANK_EXPRESSION.format(weights=RANK_WEIGHTS, vector=vector, q=sql.rank, n=RANK_NORMALISATION)


def cheap_rank(sql: SqlQuery) -> str:
    """The rank of every match on ``ranked``, computed only where it can be above 0.

    ts_rank_cd zeroes 32 kB per node of the query before it looks at the vector (2 µs a call for a
    two-word phrase, a third of a phrase search at 100k designs); a vector that does not match a query
    without NOT has no cover, so its rank is 0 and the cheap ``@@`` test says so. A query holding a NOT
    (``!`` in its text; never made by :mod:`.pg_query`, which ranks positive leaves only) is ranked
    everywhere, as a NOT can be satisfied inside a cover where the whole vector fails it. PostgreSQL
    folds the test of the query's text to a constant.
    """
    return (f"CASE WHEN ranked @@ {sql.rank} OR strpos(CAST({sql.rank} AS text), '!') > 0 "
            f"THEN {rank(sql, 'ranked')} ELSE 0 END")


def statement(sql: SqlQuery, where: str, sort: str, limit: int, offset: int, facets: bool,
              highlight: bool) -> tuple[str, dict[str, object]]:
    """The page statement for the matches of *where* and its parameters (beside *sql*'s and the filters')."""
    want = offset + limit
    relevance = sort == "relevance" and sql.rank is not None
    if relevance:
        cheap, full = cheap_rank(sql), rank(sql, "document")
        want = max(CANDIDATES, want) if want else 0
    else:
        cheap = "0"
        full = {"newest": "extract(epoch FROM published)", "most-forked": "forks",
                "most-produced": "productions"}.get(sort, "0")
    order = ORDER["relevance"] if sort == "relevance" else ORDER[sort]
    columns = "slug, published, forks, productions" + (", facet_ids" if facets else "")
    ctes = [f"m AS MATERIALIZED (SELECT {columns}, {cheap} AS score FROM search_document WHERE {where})"]
    branches = [f"SELECT {_select(kind='0', n='count(*)')} FROM m"]
    if want:
        marks = {}
        if highlight and sql.rank:
            marks = {"m_title": f"ts_headline('{STEMMED}', title, {sql.rank}, '{_HEADLINE_WHOLE}')",
                     "m_summary": f"ts_headline('{STEMMED}', summary, {sql.rank}, '{_HEADLINE_SNIPPET}')",
                     "m_tags": f"ts_headline('{STEMMED}', array_to_string(tags, ', '), {sql.rank}, "
                               f"'{_HEADLINE_WHOLE}')",
                     "m_authors": f"ts_headline('{PLAIN}', array_to_string(authors, ', '), {sql.rank_plain}, "
                                  f"'{_HEADLINE_WHOLE}')"}
        if relevance:
            # The best CANDIDATES by the cheap rank, ordered on the full rank, come first; matches beyond
            # them follow in cheap-rank order. Where a match stands never depends on the page asked for,
            # so pages past the candidates neither repeat nor skip a design.
            # The window numbers the candidates after LIMIT picked them: over the whole of m it made
            # PostgreSQL sort every match (a quicksort of 2.5k rows for a phrase) where a top-N heap of
            # :want rows does.
            ctes += [f"c AS (SELECT slug, score AS cheap, row_number() OVER (ORDER BY {order}) AS cheap_pos "
                     f"FROM (SELECT slug, score FROM m ORDER BY {order} LIMIT :want) AS best)",
                     f"p AS (SELECT {', '.join('d.' + c for c in HIT_COLUMNS)}, c.cheap_pos > {CANDIDATES} AS beyond, "
                     f"CASE WHEN c.cheap_pos <= {CANDIDATES} THEN {full} ELSE c.cheap END AS score "
                     f"FROM search_document AS d JOIN c ON c.slug = d.slug "
                     f"ORDER BY beyond, score DESC, slug LIMIT :limit OFFSET :offset)"]
            position = "row_number() OVER (ORDER BY beyond, score DESC, slug)"
        else:
            ctes += [f"c AS (SELECT slug FROM m ORDER BY {order} LIMIT :want)",
                     f"p AS (SELECT {', '.join(HIT_COLUMNS)}, {full} AS score FROM search_document "
                     f"WHERE slug IN (SELECT slug FROM c) ORDER BY {order} LIMIT :limit OFFSET :offset)"]
            position = f"row_number() OVER (ORDER BY {order})"
        # ts_headline is in the outer select, so it runs for the shown page only.
        hit = {name: name for name in HIT_COLUMNS if name != "slug"}
        branches.append(f"SELECT {_select(kind='1', key='slug', pos=position, score='score', **hit, **marks)} FROM p")
    if facets:
        # Integer ids grouped, their names joined to the few groups (a phrase at 100k designs: 16k values,
        # 46 groups); unnest in the select list (a ProjectSet) rather than a lateral function scan per
        # match: a third less time for a common word's 130k facet values, measured.
        branches.append(f"SELECT {_select(kind='2', key='f.key', n='g.n')} "
                        f"FROM (SELECT x, count(*) AS n FROM (SELECT unnest(facet_ids) AS x FROM m) AS u "
                        f"GROUP BY x) AS g JOIN search_facet AS f ON f.id = g.x")
    text = "WITH " + ", ".join(ctes) + " " + " UNION ALL ".join(branches)
    return text, {"want": want, "limit": limit, "offset": offset}


def read(rows, facets: bool) -> Page:
    """The statement's rows as a :class:`Page`."""
    page = Page(facets={name: [] for name in FACET_FIELDS} if facets else {})
    names = [name for name, _type in _ROW]
    for values in rows:
        row = dict(zip(names, values))
        if row["kind"] == KINDS["total"]:
            page.total = row["n"]
        elif row["kind"] == KINDS["hit"]:
            page.rows.append(row)
        else:
            name, _, value = row["key"].partition(":")
            if name in page.facets:
                page.facets[name].append(FacetValue(value, row["n"]))
    for values in page.facets.values():
        values.sort(key=lambda fv: (-fv.count, fv.value))
    page.rows.sort(key=lambda r: r["pos"])
    return page
