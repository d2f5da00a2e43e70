"""One query interface over both engines: `search(params, vocabulary)`.

A query is planned in Python (words, synonyms, pinyin) into a small expression tree, which is
rendered as an FTS5 MATCH expression on SQLite and as a tsquery on PostgreSQL. In order:

1. **exact** — every word of the query (or of a synonym's meaning) is in the item; ranked by
   where it matched: name, then summary and result, then conditions, materials and department.
2. **code** — a query that looks like an item code is a prefix (then substring) match on codes.
3. **typo** — nothing found and the query has ≥ 3 Chinese characters: the items whose name is
   one character edit from containing it, found in the distinct names held in memory
   (registry.search.names, built once per change-log head; pass it as `names`).
4. **loose** — still nothing: items with any of the query's words, shown as "related".

Filters (department, level, trips, item type, audience, topic) combine with any of these; with
no query they list the filtered items by code (browsing by topic, audience or type).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from markupsafe import Markup, escape
from msgspec import Struct

from guides.snapshot import F
from registry.db import point_read
from registry.search import names as name_index
from registry.search import tokens
from registry.search.names import NameIndex
from registry.search.vocabulary import Vocabulary, normalize
from registry.tables import SearchEntry
from registry.vocab import ITEM_TYPES

PAGE_SIZE = 20
MAX_QUERY = 100
COUNT_CAP = 1000
TIERS = ("name", "summary", "body")
RANK_CAP = 300  # a tier with more matches is listed in index order (ranking them costs ~5 µs each)
CODE_RE = re.compile(r"[0-9a-z-]*[0-9-][0-9a-z-]*")


class SearchParams(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The query parameters of /search (read by registry.inputs.read: a bad one is a 400 naming
    the field)."""

    q: Annotated[str, F("搜索词", max_length=MAX_QUERY)] = ""
    department: Annotated[str, F("实施主体", max_length=32)] = ""
    level: Annotated[Literal["city", "district"] | None, F("层级")] = None
    trips: Annotated[Literal["0", "1", "2+"] | None, F("到现场次数")] = None
    type: Annotated[Literal[ITEM_TYPES] | None, F("事项类型")] = None  # type: ignore[valid-type]
    audience: Annotated[Literal["person", "organisation"] | None, F("服务对象")] = None
    topic: Annotated[str, F("主题", max_length=32)] = ""
    page: Annotated[int, F("页码", ge=1, le=1000)] = 1

    @property
    def filtered(self) -> bool:
        return bool(self.department or self.level or self.trips or self.type or self.audience or self.topic)

    def query_string(self, **changes: Any) -> dict[str, Any]:
        """The parameters as a URL's query (for links: pages, removing a filter)."""
        values = {
            "q": self.q,
            "department": self.department,
            "level": self.level,
            "trips": self.trips,
            "type": self.type,
            "audience": self.audience,
            "topic": self.topic,
            "page": self.page if self.page > 1 else None,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}


# ---- the plan ---------------------------------------------------------------------------

Node = tuple  # ("word", w) | ("prefix", w) | ("and", (nodes…)) | ("or", (nodes…))


def _and(nodes: list[Node]) -> Node | None:
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        return None
    return nodes[0] if len(nodes) == 1 else ("and", tuple(nodes))


def _or(nodes: list[Node]) -> Node | None:
    nodes = list(dict.fromkeys(n for n in nodes if n is not None))
    if not nodes:
        return None
    return nodes[0] if len(nodes) == 1 else ("or", tuple(nodes))


def _words_node(words: Iterable[str], *, prefix_ascii: bool = True) -> Node | None:
    """Every word (an ASCII word as a prefix: pinyin is typed as it comes). One-character
    Chinese words only count when there is nothing else (换 in 换身份证 is not in 换领)."""
    words = list(dict.fromkeys(words))
    strong = [w for w in words if not (tokens.has_han(w) and len(w) == 1)]
    chosen = strong or words
    return _and([("prefix", w) if prefix_ascii and not tokens.has_han(w) else ("word", w) for w in chosen])


@dataclass
class Plan:
    text: str  # the normalized query
    exact: Node | None = None
    loose: Node | None = None
    code: str | None = None  # a code to match with LIKE
    typo: str | None = None  # the Chinese text to check for typos
    marks: list[str] = field(default_factory=list)  # words to highlight
    ascii: list[str] = field(default_factory=list)  # pinyin typed, to highlight in names
    meanings: list[str] = field(default_factory=list)  # synonyms used ("驾照" → 机动车驾驶证)


def plan(q: str, vocabulary: Vocabulary) -> Plan:
    """What to look for: the query's own words (filler words such as 怎么 and 办理 removed), or
    what a colloquial term in it means (驾照 → 机动车驾驶证; pinyin of a term works too)."""
    text = normalize(q)
    result = Plan(text)
    if not text:
        return result
    meanings: list[str] = []
    if text in vocabulary.synonyms:
        meanings.extend(vocabulary.synonyms[text])
    else:
        rest = text
        for term in vocabulary.ordered:
            if term in rest:
                meanings.extend(vocabulary.synonyms[term])
                rest = rest.replace(term, " ")
        for part in text.split():
            if part.isascii() and part in vocabulary.by_pinyin:
                meanings.extend(vocabulary.synonyms[vocabulary.by_pinyin[part]])
    stripped = text
    for word in vocabulary.ignore:
        if word in stripped and stripped.replace(word, " ").strip():
            stripped = stripped.replace(word, " ")
    compact = text.replace(" ", "")
    if len(compact) >= 3 and CODE_RE.fullmatch(compact) and any(c.isdigit() for c in compact):
        result.code = compact.upper()
    words = [w for part in stripped.split() for w in tokens.cut(part)]
    alternatives = [_words_node(words)]
    result.marks.extend(w for w in words if tokens.has_han(w))
    result.ascii.extend(w for w in words if not tokens.has_han(w) and w.isalpha())
    loose_words = [
        w for part in stripped.split() for w in tokens.words(part) if len(w) >= 2 or not tokens.has_han(w)
    ]
    for meaning in dict.fromkeys(meanings):
        meaning_words = [w for m in meaning.split() for w in tokens.cut(m)]
        alternatives.append(_words_node(meaning_words))
        result.marks.extend(w for w in meaning_words if tokens.has_han(w))
        result.meanings.append(meaning)
    result.exact = _or(alternatives)
    result.loose = _or([("word", w) if tokens.has_han(w) else ("prefix", w) for w in loose_words])
    han = "".join(tokens.HAN.findall(stripped))
    if len(han) >= 3:
        result.typo = han
    marks = list(dict.fromkeys(result.marks))
    result.marks = [m for m in marks if len(m) >= 2 or len(marks) == 1]
    return result


def topic_node(terms: Iterable[str]) -> Node | None:
    return _or([_words_node(tokens.cut(t), prefix_ascii=False) for t in terms])


# ---- rendering for each engine -----------------------------------------------------------


def fts5(node: Node) -> str:
    kind, value = node
    if kind == "word":
        return f'"{value}"'
    if kind == "prefix":
        return f'"{value}"*'
    joiner = " AND " if kind == "and" else " OR "
    return "(" + joiner.join(fts5(n) for n in value) + ")"


def tsquery(node: Node, weight: str = "") -> str:
    kind, value = node
    if kind == "word":
        return f"'{value}'" + (f":{weight}" if weight else "")
    if kind == "prefix":
        return f"'{value}':*{weight}"
    joiner = " & " if kind == "and" else " | "
    return "(" + joiner.join(tsquery(n, weight) for n in value) + ")"


# ---- results ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hit:
    code: str
    name: str
    summary: str
    department_code: str
    department_name: str
    level: str
    item_type: str
    trips: int
    online_depth: int
    promised_days: int
    name_html: Markup
    summary_html: Markup


@dataclass(frozen=True, slots=True)
class Results:
    params: SearchParams
    hits: tuple[Hit, ...]
    total: int
    mode: str  # exact | code | typo | loose | browse | none
    meanings: tuple[str, ...] = ()

    @property
    def pages(self) -> int:
        return max(1, -(-min(self.total, COUNT_CAP) // PAGE_SIZE))

    @property
    def total_label(self) -> str:
        return f"{COUNT_CAP}+" if self.total > COUNT_CAP else str(self.total)

    @property
    def found(self) -> bool:
        """Did the query find what it asked for (a loose match does not count)?"""
        return self.total > 0 and self.mode != "loose"


COLUMNS = (
    "e.code, e.name, e.summary, e.department_code, e.department_name, e.level, e.item_type,"
    " e.trips, e.online_depth, e.promised_days"
)


def _filters(params: SearchParams) -> tuple[list[str], list[Any]]:
    where, args = [], []
    if params.department:
        where.append("e.department_code = {}")
        args.append(params.department)
    if params.level:
        where.append("e.level = {}")
        args.append(params.level)
    if params.trips:
        where.append({"0": "e.trips = 0", "1": "e.trips = 1", "2+": "e.trips >= 2"}[params.trips])
    if params.type:
        where.append("e.item_type = {}")
        args.append(params.type)
    if params.audience:
        where.append(f"e.{params.audience} = {{}}")
        args.append(True)
    return where, args


def _is_sqlite() -> bool:
    return SearchEntry._meta.db.engine_type == "sqlite"


@dataclass(frozen=True, slots=True)
class _Query:
    source: str
    clause: str
    args: list[Any]
    order: str
    order_args: list[Any]
    id: str = "e.id"  # the entry's id in `source`


def _query(
    match: Node | None,
    topic: Node | None,
    params: SearchParams,
    *,
    extra: tuple[str, list[Any]] | None = None,
    order: tuple[str, list[Any]] | None = None,
    tier: str = "all",
    walk: bool = False,
) -> _Query:
    """The FROM, WHERE and ORDER BY of entries matching `match` within `topic` and the filters.
    `tier`: "name" keeps the entries whose name matches, "summary" those whose summary does but
    not the name, "body" the others (see `_run`). `walk` (PostgreSQL, name and summary tiers):
    the conditions are written so that no index can answer them (nor the filters alone, which the
    planner without statistics takes as very selective), for a walk of the table in block order
    that stops at the page (see `_tiers_pg`)."""
    where, args = _filters(params)
    if extra:
        where.append(extra[0])
        args.extend(extra[1])
    source, match_args, id_sql = "search_entry e", [], "e.id"
    order_sql, order_args = order if order else ("e.code", [])
    if _is_sqlite():
        parts = []
        if match is not None:
            expr = fts5(match)
            parts.append(
                {
                    "name": f"{{name}} : {expr}",
                    "summary": f"({{summary}} : {expr}) NOT ({{name}} : {expr})",
                    "body": f"(({{name summary body}} : {expr}) NOT ({{name}} : {expr}))"
                    f" NOT ({{summary}} : {expr})",
                }.get(tier, f"{{name summary body}} : {expr}")
            )
        if topic is not None:
            parts.append("{name} : " + fts5(topic))
        if parts:
            # Without filters the entries' rows are not read at all until the page's few: a
            # common word's thousand matches cost what reading the FTS5 index costs.
            alone = not where and match is not None and order is None
            source = "search_fts" if alone else "search_fts JOIN search_entry e ON e.id = search_fts.rowid"
            id_sql = "search_fts.rowid"
            where.insert(0, "search_fts MATCH {}")
            match_args.append(" AND ".join(f"({p})" for p in parts))
            if match is not None and order is None:
                order_sql = (
                    "search_fts.rowid"
                    if tier == "body"
                    else "bm25(search_fts, 10.0, 4.0, 1.0, 0), search_fts.rowid"
                )
    else:
        if match is not None:
            # name and summary have their own tsvector (a weight-restricted query on `document`
            # would re-read every match's whole document)
            column = {"name": "e.name_document", "summary": "e.summary_document"}.get(tier, "e.document")
            where.insert(0, f"{column} @@ to_tsquery('simple', {{}})")
            match_args.append(tsquery(match))
            for i, excluded in enumerate({"summary": ("name",), "body": ("name", "summary")}.get(tier, ())):
                where.insert(1 + i, f"NOT e.{excluded}_document @@ to_tsquery('simple', {{}})")
                match_args.append(tsquery(match))
            if order is None:
                if tier == "body":
                    order_sql = "e.id"
                else:
                    order_sql = f"ts_rank({column}, to_tsquery('simple', {{}}), 1) DESC, e.code"
                    order_args = [tsquery(match)]
        if topic is not None:
            where.append("e.name_document @@ to_tsquery('simple', {})")
            args.append(tsquery(topic))
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    if walk and where:  # in block order (a TID range scan), as a bitmap would return them
        clause = " WHERE e.ctid >= '(0,0)'::tid AND coalesce(" + " AND ".join(where) + ", false)"
    return _Query(source, clause, [*match_args, *args], order_sql, list(order_args), id_sql)


async def _rows(q: _Query, *, limit: int, offset: int) -> list[dict]:
    """One page of `q`. SQLite: ranked on the entries' ids alone (thousands of matches sort as
    narrow rows, not as wide entries), then the page's few rows read by id."""
    if limit <= 0:
        return []
    if not _is_sqlite():  # PostgreSQL sorts the few columns it needs: one round trip
        return await point_read(
            f"SELECT {COLUMNS} FROM {q.source}{q.clause} ORDER BY {q.order} LIMIT {{}} OFFSET {{}}",
            *q.args,
            *q.order_args,
            limit,
            offset,
        )
    ids = [
        r["id"]
        for r in await point_read(
            f"SELECT {q.id} AS id FROM {q.source}{q.clause} ORDER BY {q.order} LIMIT {{}} OFFSET {{}}",
            *q.args,
            *q.order_args,
            limit,
            offset,
        )
    ]
    if not ids:
        return []
    marks = ", ".join("{}" for _ in ids)
    rows = {
        r["id"]: r
        for r in await point_read(
            f"SELECT e.id AS id, {COLUMNS} FROM search_entry e WHERE e.id IN ({marks})", *ids
        )
    }
    return [rows[i] for i in ids if i in rows]


async def _count(q: _Query, cap: int = COUNT_CAP) -> int:
    """How many entries match, counted up to `cap` + 1 (a page says "1000+" beyond)."""
    (row,) = await point_read(
        f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM {q.source}{q.clause} LIMIT {cap + 1}) c", *q.args
    )
    return row["n"]


async def _run(
    match: Node | None,
    topic: Node | None,
    params: SearchParams,
    *,
    limit: int,
    offset: int,
    extra: tuple[str, list[Any]] | None = None,
    order: tuple[str, list[Any]] | None = None,
) -> tuple[list[dict], int]:
    """One page of entries matching `match` within `topic` and the filters, and their count.
    Matches come in tiers: in the name, then in the summary (each ranked by bm25 / ts_rank: few
    entries), then only in conditions, materials or department (thousands for a common word:
    by code, so that no rank is computed for them)."""
    if match is None:
        q = _query(match, topic, params, extra=extra, order=order)
        rows = await _rows(q, limit=limit, offset=offset)
        if offset == 0 and len(rows) < limit:
            return rows, len(rows)
        return rows, await _count(q)
    if not _is_sqlite():
        return await _tiers_pg(match, topic, params, limit=limit, offset=offset, extra=extra)
    total = await _count(_query(match, topic, params, extra=extra))
    if not total:
        return [], 0
    rows: list[dict] = []
    skip = offset  # of the current tier's entries, how many come before this page
    for tier in TIERS:
        q = _query(match, topic, params, extra=extra, tier=tier)
        n = await _count(q, RANK_CAP)
        if n > RANK_CAP:  # a very common word: in index order, as ranking them all would cost
            q = _Query(q.source, q.clause, q.args, q.id, [], q.id)
        got = await _rows(q, limit=limit - len(rows), offset=skip) if n else []
        rows += got
        if len(rows) == limit:
            break
        skip = max(0, skip - n)
    return rows, total


def _capped(q: _Query, cap: int) -> str:
    return f"SELECT count(*) FROM (SELECT 1 FROM {q.source}{q.clause} LIMIT {cap}) c"


def _capped_with_block(q: _Query, cap: int, gate: str = "") -> str:
    """The count up to `cap` and the table block of the last entry counted: a bitmap visits the
    table in block order, so the share of the table that holds the first `cap` matches tells how
    dense the matches are beyond the cap."""
    return (
        "SELECT count(*) AS n, max((c.ctid::text::point)[0]) AS b"
        f" FROM (SELECT e.ctid FROM {q.source}{q.clause}{gate} LIMIT {cap}) c"
    )


# Rough costs on PostgreSQL (µs, measured at 100 000 entries): reading one table block in a walk
# and checking its ~5 rows' inline tsvectors; one match put into a GIN bitmap and sorted by block.
WALK_BLOCK_US = 15.0
BITMAP_MATCH_US = 0.25


def _walk_is_cheaper(need: int, block: float | None, blocks: int) -> bool:
    """For a tier of more than COUNT_CAP matches of which the first COUNT_CAP + 1 lie within
    `block + 1` of the table's `blocks`: is walking the table until `need` matches cheaper than a
    bitmap of every match? Both give the same order, so this decides speed, never results."""
    if block is None or blocks <= 0:
        return False
    seen = min(block + 1, blocks)
    walk = need / (COUNT_CAP + 1) * seen * WALK_BLOCK_US
    bitmap = (COUNT_CAP + 1) * blocks / seen * BITMAP_MATCH_US
    return walk < bitmap


async def _tiers_pg(
    match: Node,
    topic: Node | None,
    params: SearchParams,
    *,
    limit: int,
    offset: int,
    extra: tuple[str, list[Any]] | None = None,
) -> tuple[list[dict], int]:
    """`_run` on PostgreSQL: the counts in one statement, then usually one page query.

    A GIN match is a bitmap of every matching row (~0.2 µs each, plus the table read per row
    visited): a word in 46 000 of 100 000 entries costs ~10 ms to count however low the LIMIT.
    So the statement counts the name tier first (up to COUNT_CAP + 1), the summary tier only when
    the name tier does not fill the page, and all matches only when the tiers counted are below
    the cap together (otherwise the total is "1000+" already). Pages of a tier:

    - up to RANK_CAP entries: ranked by ts_rank on the tier's own small tsvector;
    - up to COUNT_CAP: by id, the few hundred matches read through the GIN index and sorted;
    - more: in table (block) order, which a GIN bitmap and a walk of the table (a TID range scan
      checking each row, stopping at the page) both give: the walk when the matches are dense
      (a common word: a few dozen blocks for a first page), the bitmap otherwise; never a walk
      for the body tier, whose `document` is TOASTed and too costly to check row by row.
    """
    tiers = {tier: _query(match, topic, params, extra=extra, tier=tier) for tier in TIERS}
    every = _query(match, topic, params, extra=extra)
    cap = COUNT_CAP + 1
    need = offset + limit
    gate = f" AND (SELECT n FROM n) < {need}"  # a one-time filter: no scan when false
    (row,) = await point_read(
        f"WITH n AS MATERIALIZED ({_capped_with_block(tiers['name'], cap)}),"
        f" s AS MATERIALIZED ({_capped_with_block(tiers['summary'], cap, gate)})"
        f" SELECT n.n AS name_n, n.b AS name_block, CASE WHEN n.n < {need} THEN s.n END AS summary_n,"
        f" s.b AS summary_block,"
        f" CASE WHEN n.n + s.n >= {cap} THEN {cap} ELSE ({_capped(every, cap)}) END AS total,"
        " pg_relation_size('search_entry'::regclass) / current_setting('block_size')::int AS blocks"
        " FROM n, s",
        *tiers["name"].args,
        *tiers["summary"].args,
        *every.args,
    )
    total = row["total"]
    if not total:
        return [], 0
    counts: dict[str, int | None] = {"name": row["name_n"], "summary": row["summary_n"], "body": None}
    if row["summary_n"] is not None and total <= COUNT_CAP:
        counts["body"] = total - row["name_n"] - row["summary_n"]
    last = {"name": row["name_block"], "summary": row["summary_block"], "body": None}
    rows: list[dict] = []
    skip = offset  # of the current tier's entries, how many come before this page
    for tier in TIERS:
        n = counts[tier]
        if n is None and tier != "body":  # not counted: the name tier fills the page
            n = COUNT_CAP + 1
        if n is not None and n <= COUNT_CAP and skip >= n:
            skip -= n
            continue
        q = tiers[tier]
        want = limit - len(rows)
        if n is not None and n <= RANK_CAP and tier != "body":
            sql = f"SELECT {COLUMNS} FROM {q.source}{q.clause} ORDER BY {q.order} LIMIT {{}} OFFSET {{}}"
            args = [*q.args, *q.order_args, want, skip]
        elif n is not None and n <= COUNT_CAP:
            # the matches through the index (the fence keeps the planner from walking the
            # primary key for the order), then sorted
            sql = (
                f"SELECT {COLUMNS} FROM (SELECT e.id, {COLUMNS} FROM {q.source}{q.clause} OFFSET 0) e"
                " ORDER BY e.id LIMIT {} OFFSET {}"
            )
            args = [*q.args, want, skip]
        elif tier != "body" and _walk_is_cheaper(skip + want, last[tier], row["blocks"]):
            q = _query(match, topic, params, extra=extra, tier=tier, walk=True)
            sql = f"SELECT {COLUMNS} FROM {q.source}{q.clause} LIMIT {{}} OFFSET {{}}"
            args = [*q.args, want, skip]
        else:
            sql = f"SELECT {COLUMNS} FROM {q.source}{q.clause} LIMIT {{}} OFFSET {{}}"
            args = [*q.args, want, skip]
        rows += await point_read(sql, *args)
        if len(rows) >= limit or n is None or n > COUNT_CAP:
            break  # a tier beyond the cap: the pages after it are not shown
        skip = 0
    return rows, total


async def search(
    params: SearchParams,
    vocabulary: Vocabulary,
    *,
    page_size: int = PAGE_SIZE,
    names: NameIndex | None = None,
) -> Results:
    """The results page for `params`: a few queries (PostgreSQL: in one read-only transaction).
    `names`: the typo names cached per change-log head (loaded now when not given)."""
    engine = SearchEntry._meta.db
    if engine.current_transaction.get() is None and not _is_sqlite():
        async with engine.transaction():
            # The planner cannot see that checking a match on a row means reading its whole
            # (TOASTed) document: at every size it preferred scanning the table to the GIN
            # indexes, ~80 µs a row. Only for this read-only transaction.
            await SearchEntry.raw("SET LOCAL enable_seqscan = off")
            return await _search(params, vocabulary, page_size, names)
    # SQLite: each query is a point read on the event loop's kept connection (registry.db): a
    # search is a handful of indexed FTS5 queries of well under a millisecond each, and handing
    # each to a thread and back cost more than running it.
    return await _search(params, vocabulary, page_size, names)


async def _search(
    params: SearchParams, vocabulary: Vocabulary, page_size: int, names: NameIndex | None
) -> Results:
    offset = (params.page - 1) * page_size
    topic = vocabulary.topic(params.topic) if params.topic else None
    topic_match = topic_node(topic.terms) if topic else None
    p = plan(params.q, vocabulary)
    if not p.text or (p.exact is None and p.code is None):
        if not params.filtered and not p.text:
            return Results(params, (), 0, "none")
        rows, total = await _run(None, topic_match, params, limit=page_size, offset=offset)
        return _results(params, rows, total, "browse" if not p.text else "exact", p)
    if p.code:
        # A prefix as a range on the code index, then anywhere in the code.
        for like in (
            ("e.code >= {} AND e.code < {}", [p.code, p.code + "\uffff"]),
            ("e.code LIKE {}", [f"%{p.code}%"]),
        ):
            rows, total = await _run(None, topic_match, params, limit=page_size, offset=offset, extra=like)
            if total:
                return _results(params, rows, total, "code", p)
    if p.exact is not None:
        rows, total = await _run(p.exact, topic_match, params, limit=page_size, offset=offset)
        if total:
            return _results(params, rows, total, "exact", p)
    if p.typo:
        close = (names or await name_index.load()).close(p.typo)
        if close:
            # closest names first (as NameIndex ranks them), then by code
            order = (
                "CASE e.name " + " ".join(f"WHEN {{}} THEN {i}" for i in range(len(close))) + " END, e.code",
                close,
            )
            marks = ", ".join("{}" for _ in close)
            rows, total = await _run(
                None,
                topic_match,
                params,
                limit=page_size,
                offset=offset,
                extra=(f"e.name IN ({marks})", close),
                order=order,
            )
            if total:
                p.marks = list(dict.fromkeys([*p.marks, *tokens.grams(p.typo)[: len(p.typo)]]))
                return _results(params, rows, total, "typo", p)
    if p.loose is not None:
        rows, total = await _run(p.loose, topic_match, params, limit=page_size, offset=offset)
        if total:
            return _results(params, rows, total, "loose", p)
    return _results(params, [], 0, "exact", p)


async def topic_counts(vocabulary: Vocabulary) -> dict[str, str]:
    """How many items each topic lists, as shown ("1000+" beyond COUNT_CAP); callers cache it
    per change-log head."""
    counts = {}
    for topic in vocabulary.topics:
        node = topic_node(topic.terms)
        n = await _count(_query(None, node, SearchParams())) if node is not None else 0
        counts[topic.code] = f"{COUNT_CAP}+" if n > COUNT_CAP else str(n)
    return counts


def _results(params: SearchParams, rows: list[dict], total: int, mode: str, p: Plan) -> Results:
    return Results(
        params=params,
        hits=tuple(_hit(row, p) for row in rows),
        total=total,
        mode=mode,
        meanings=tuple(dict.fromkeys(p.meanings)),
    )


def _hit(row: dict, p: Plan) -> Hit:
    name_marks = list(p.marks)
    if p.ascii:
        name_marks.extend(pinyin_spans(row["name"], p.ascii))
    return Hit(
        code=row["code"],
        name=row["name"],
        summary=row["summary"],
        department_code=row["department_code"],
        department_name=row["department_name"],
        level=row["level"],
        item_type=row["item_type"],
        trips=row["trips"],
        online_depth=row["online_depth"],
        promised_days=row["promised_days"],
        name_html=highlight(row["name"], name_marks),
        summary_html=highlight(snippet(row["summary"], p.marks), p.marks),
    )


# ---- highlighting -----------------------------------------------------------------------


def highlight(text: str, words: Iterable[str]) -> Markup:
    """`text` escaped, with every occurrence of `words` in <mark>. The spans are found in the
    plain text and each piece is escaped on its own, so neither the text nor the query can add
    markup (nor can a word match inside an entity such as &amp;)."""
    words = sorted({w for w in words if w}, key=len, reverse=True)
    lowered = text.lower()
    marked = [False] * len(text)
    for word in words:
        start = lowered.find(word)
        while start != -1:
            for i in range(start, start + len(word)):
                marked[i] = True
            start = lowered.find(word, start + len(word))
    out: list[str] = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and marked[j] == marked[i]:
            j += 1
        piece = str(escape(text[i:j]))
        out.append(f"<mark>{piece}</mark>" if marked[i] else piece)
        i = j
    return Markup("".join(out))


def snippet(text: str, words: Iterable[str], width: int = 80) -> str:
    """The part of a summary around its first matched word."""
    if len(text) <= width:
        return text
    positions = [text.lower().find(w) for w in words if w]
    positions = [p for p in positions if p >= 0]
    start = max(0, min(positions) - 20) if positions else 0
    end = min(len(text), start + width)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def pinyin_spans(name: str, typed: Iterable[str]) -> list[str]:
    """The words of `name` that pinyin (full or initials) typed as a prefix stands for."""
    parts = list(tokens.cut(name))
    found: list[str] = []
    for word in typed:
        for i in range(len(parts)):
            span = _pinyin_span(parts[i:], word)
            if span:
                found.append(span)
                break
    return found


def _pinyin_span(parts: list[str], word: str) -> str | None:
    full, initials, covered = "", "", []
    for part in parts:
        f, a = tokens.pinyin_of(part)
        full, initials = full + f, initials + a
        covered.append(part)
        if full.startswith(word) or initials.startswith(word):
            return "".join(covered)
        if not (word.startswith(full) or word.startswith(initials)):
            return None
    return None
