"""The public read side, built for a registry of 100 000 items.

Nothing here walks all items in Python. Counts per department come from one indexed SQL
aggregate, lists page through one department at a time on an index, and a guide is found by its
code on an index. What depends only on the published state is cached in this process:

- keyed by the change log's **head** (`Head`): counts, lists, metrics, rendered list pages. The
  head is read from the database at most every `interval` seconds (4 times a second by default),
  so every process of an installation learns of a publication within a second, whoever made it;
  `invalidate()` makes the next request read it at once (the write path of this process calls it
  after a commit);
- keyed by a snapshot's **fingerprint**: rendered guides in every channel. A fingerprint is the
  hash of the content, so these never go stale; they are evicted by size (bounded LRU);
- keyed by an item's **code**: its current edition (`Lookups`, packed small enough to hold a
  whole 100 000-item registry). When the head moves by publications and reviews alone, only the
  items the new change records name are forgotten (`_changed_codes`); anything else forgets all.

One `PublicReads` per app (the composition root makes it): tests build many apps over many
databases in one process, and their caches must not mix.
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from guides import Guide
from registry import rendered
from registry.db import point_read
from registry.queries import DepartmentSummary, GuideLookup, ItemFilter, ItemRow
from registry.tables import Department, Edition, SearchTopic, ServiceItem, Target

T = TypeVar("T")

HEAD_INTERVAL = 0.25  # seconds between two reads of the change log's head
RENDERED_BYTES = 32 * 2**20  # rendered guide documents kept per process, gzip (more are one read away)
PAGE_BYTES = 8 * 2**20  # rendered lists, home and metrics pages kept per process, per head (gzip)
SNAPSHOTS = 512  # parsed Guide snapshots kept per process (≈ 20 KB each)
LOOKUPS = 150_000  # code -> current edition, packed (≈ 180 bytes each: a whole 100 000-item registry)
CHANGED_CODES_MAX = 2_000  # items changed since the last head read that are forgotten one by one
PRELOAD_CHUNK = 5_000  # current editions read per query when a served process fills its lookups
COMPRESS_INLINE = 256 * 1024  # bytes: a page this big or bigger is compressed in a thread


@dataclass(frozen=True, slots=True)
class Head:
    """What changes whenever anything the public sees changes.

    `seq` moves with every publication (the change log is append-only); `scheduled` and
    `approved` move when `publish_due` switches a scheduled edition on its date or an approval
    is held (neither appends to the log); `reference` is a digest of departments, targets and the
    search vocabulary (synonyms, topics), which admins and seeding change without a publication.
    """

    seq: int
    scheduled: int
    approved: int
    reference: str


HEAD_SQL = (
    "SELECT (SELECT MAX(seq) FROM change_record) AS seq,"
    " (SELECT COUNT(*) FROM edition WHERE status = 'scheduled') AS scheduled,"
    " (SELECT COUNT(*) FROM edition WHERE status = 'approved') AS approved,"
    " (SELECT COUNT(*) FROM service_item WHERE review_flag <> '') AS flagged,"
    " (SELECT SUM(revision) FROM legal_document) AS laws,"
    " (SELECT SUM(revision) FROM material) AS materials,"
    " (SELECT COUNT(*) FROM search_synonym) AS synonyms,"
    " (SELECT MAX(changed_at) FROM search_synonym) AS synonyms_changed"
)


async def read_head() -> Head:
    (row,) = await Edition.raw(HEAD_SQL)
    departments = await Department.select().order_by(Department.id)
    targets = await Target.select().order_by(Target.id)
    topics = await SearchTopic.select().order_by(SearchTopic.id)
    vocabulary = (
        row["synonyms"],
        str(row["synonyms_changed"]),
        topics,
        row["flagged"],
        row["laws"],
        row["materials"],
    )
    digest = hashlib.sha256(repr((departments, targets, vocabulary)).encode()).hexdigest()[:16]
    return Head(row["seq"] or 0, row["scheduled"] or 0, row["approved"] or 0, digest)


CHANGED_SQL = (
    "SELECT DISTINCT item_code FROM change_record WHERE seq > {} AND seq <= {} ORDER BY item_code LIMIT {}"
)


async def _changed_codes(old: Head | None, new: Head) -> list[str] | None:
    """The items whose current edition may differ between two heads, when only publications
    and reviews happened in between (each appends a change record naming its item); None when
    anything else moved — an announcement switched on, a held approval, a law change, an admin's
    edit — or too many items changed: then every lookup is forgotten."""
    if (
        old is None
        or new.seq <= old.seq
        or (old.scheduled, old.approved, old.reference) != (new.scheduled, new.approved, new.reference)
    ):
        return None
    rows = await Edition.raw(CHANGED_SQL, old.seq, new.seq, CHANGED_CODES_MAX + 1)
    if len(rows) > CHANGED_CODES_MAX:
        return None
    return [r["item_code"] for r in rows]


class LRU:
    """A bounded least-recently-used map, by entry count or by total size of bytes values.

    Each entry keeps its cost (computed once, on `put`): eviction runs on the request path."""

    SEEN = 65_536  # keys `offer` remembers having been offered once (≈ 4 MB)

    def __init__(self, *, entries: int | None = None, max_bytes: int | None = None) -> None:
        self._data: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._entries = entries
        self._max_bytes = max_bytes
        self.size = 0
        self._seen: set[int] = set()

    @classmethod
    def _cost(cls, value: Any) -> int:
        if isinstance(value, bytes | str):
            return len(value)
        if isinstance(value, rendered.Stored):
            return len(value.body) + 64
        if isinstance(value, tuple):
            return sum(cls._cost(v) for v in value)
        return 64

    def get(self, key: Hashable) -> Any:
        entry = self._data.get(key)
        if entry is None:
            return None
        self._data.move_to_end(key)
        return entry[0]

    def put(self, key: Hashable, value: Any) -> Any:
        old = self._data.pop(key, None)
        if old is not None:
            self.size -= old[1]
        cost = self._cost(value) if self._max_bytes is not None else 1
        self._data[key] = (value, cost)
        self.size += cost
        data = self._data
        while data and (
            (self._entries is not None and len(data) > self._entries)
            or (self._max_bytes is not None and self.size > self._max_bytes)
        ):
            _key, (_value, evicted) = data.popitem(last=False)
            self.size -= evicted
        return value

    def offer(self, key: Hashable, value: Any) -> Any:
        """`put`, for a value that is one cheap read away (a stored page): kept only when its key
        is offered a second time while remembered. A guide asked for once — a crawler walking
        the registry, random traffic over 100 000 items — then neither pushes out the pages
        asked for again and again nor pays for being kept (TinyLFU's doorkeeper)."""
        mark = hash(key)
        if mark in self._seen:
            self._seen.discard(mark)
            return self.put(key, value)
        if len(self._seen) >= self.SEEN:
            self._seen.clear()
        self._seen.add(mark)
        return value

    def clear(self) -> None:
        self._data.clear()
        self._seen.clear()
        self.size = 0

    def __len__(self) -> int:
        return len(self._data)


@dataclass(frozen=True, slots=True)
class Current:
    """An item's current edition as the public sees it (no snapshot text)."""

    status: str  # "ok" | "withdrawn" | "missing"
    edition_id: int = 0
    fingerprint: str = ""
    scheduled_id: int | None = None  # a published announcement of a coming edition
    scheduled_fingerprint: str | None = None
    version: int = 0
    # Not content (the fingerprint does not cover them): shown next to the guide.
    reviewed_on: str = ""  # 最近审核 (registry.freshness), YYYY-MM-DD
    review_flag: str = ""  # a cited document amended or repealed, until the item is reviewed


class Lookups:
    """code -> `Current`, for up to `entries` codes, in ≈ 180 bytes each: the usual entry (a
    published or withdrawn guide with no announcement and no law-change flag) is packed into one
    bytes object — edition id, version, fingerprint as 32 bytes, the review date as an index into
    the dates seen — and unpacked on `get` (≈ 1 µs). Anything else is kept as it is. A
    `Current` object and its strings took ≈ 490 bytes: 49 MB for 100 000 items. Oldest out first
    once full."""

    PACKED = struct.Struct("<?II32sH")  # withdrawn, edition id, version, fingerprint, day index

    def __init__(self, entries: int) -> None:
        self._entries = entries
        self._data: dict[str, bytes | Current] = {}
        self._days: list[str] = []  # review dates seen ("" first), by index
        self._day_index: dict[str, int] = {}

    def _pack(self, found: Current) -> bytes | Current:
        if (
            found.status == "missing"
            or found.scheduled_id is not None
            or found.review_flag
            or len(found.fingerprint) != 64
            or not 0 <= found.version < 2**32
            or not 0 <= found.edition_id < 2**32
        ):
            return found
        try:
            fingerprint = bytes.fromhex(found.fingerprint)
        except ValueError:
            return found
        if fingerprint.hex() != found.fingerprint:  # upper case: kept as it is
            return found
        day = self._day_index.get(found.reviewed_on)
        if day is None:
            if len(self._days) >= 2**16:
                return found
            day = self._day_index[found.reviewed_on] = len(self._days)
            self._days.append(found.reviewed_on)
        return self.PACKED.pack(
            found.status == "withdrawn", found.edition_id, found.version, fingerprint, day
        )

    def get(self, code: str) -> Current | None:
        entry = self._data.get(code)
        if entry is None or type(entry) is Current:
            return entry
        withdrawn, edition_id, version, fingerprint, day = self.PACKED.unpack(entry)
        return Current(
            "withdrawn" if withdrawn else "ok",
            edition_id=edition_id,
            fingerprint=fingerprint.hex(),
            version=version,
            reviewed_on=self._days[day],
        )

    def put(self, code: str, found: Current) -> Current:
        data = self._data
        data.pop(code, None)
        while len(data) >= self._entries:
            del data[next(iter(data))]
        data[code] = self._pack(found)
        return found

    @property
    def capacity(self) -> int:
        return self._entries

    def drop(self, codes: Iterable[str]) -> None:
        for code in codes:
            self._data.pop(code, None)

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


# One query: the current edition and the announced (scheduled) one, both from covering indexes
# (edition_item_facts, edition_scheduled): a lookup never reads an edition row, whose facts after
# the snapshot sit behind its overflow pages on SQLite. `+e.id` keeps SQLite from choosing the
# rowid (which reads the row); PostgreSQL plans it as e.id.
_CURRENT_COLUMNS = """
SELECT si.withdrawn AS withdrawn, e.id AS id, e.fingerprint AS fingerprint, e.version AS version,
       si.reviewed_on AS reviewed_on, si.review_flag AS review_flag,
       (SELECT s.id FROM edition s WHERE s.item = si.id AND s.status = 'scheduled'
        ORDER BY s.version DESC LIMIT 1) AS scheduled_id,
       (SELECT s.fingerprint FROM edition s WHERE s.item = si.id AND s.status = 'scheduled'
        ORDER BY s.version DESC LIMIT 1) AS scheduled_fingerprint"""
_CURRENT_FROM = "\nFROM service_item si JOIN edition e ON +e.id = si.current_edition AND e.item = si.id"
CURRENT_SQL = _CURRENT_COLUMNS + _CURRENT_FROM + "\nWHERE si.code = {}"
# Every item's, a chunk at a time in item order (`PublicReads.preload`).
PRELOAD_SQL = (
    _CURRENT_COLUMNS
    + ", si.id AS item_id, si.code AS code"
    + _CURRENT_FROM
    + "\nWHERE si.id > {} ORDER BY si.id LIMIT {}"
)
# The same, with the item's stored page of one kind (registry.rendered) in the same read: the
# page's key as SQL makes it, and the row under it if there is one.
CURRENT_STORED_SQL = (
    _CURRENT_COLUMNS
    + f",\n       {rendered.key_sql()} AS page_key,"
    + "\n       rd.stamp AS page_stamp, rd.body AS page_body, rd.styles AS page_styles"
    + _CURRENT_FROM
    + f"\nLEFT JOIN rendered_document rd ON rd.key = {rendered.key_sql()}"
    + "\nWHERE si.code = {}"
)

COUNTS_SQL = """
SELECT si.department AS department,
       SUM(CASE WHEN e.trips = 0 THEN 1 ELSE 0 END) AS trips_0,
       SUM(CASE WHEN e.trips = 1 THEN 1 ELSE 0 END) AS trips_1,
       SUM(CASE WHEN e.trips >= 2 THEN 1 ELSE 0 END) AS trips_2_plus
FROM service_item si JOIN edition e ON e.id = si.current_edition
WHERE si.withdrawn = {}
GROUP BY si.department
"""

PAGE_SQL = """
SELECT si.code AS code, si.item_type AS item_type, e.name AS name, e.trips AS trips,
       e.online_depth AS online_depth, e.promised_days AS promised_days,
       e.fingerprint AS fingerprint, e.version AS version
FROM service_item si JOIN edition e ON e.id = si.current_edition
WHERE si.department = {} AND si.withdrawn = {} TRIPS
ORDER BY si.code
LIMIT {} OFFSET {}
"""
TRIPS_SQL = {None: "", "0": "AND e.trips = 0", "1": "AND e.trips = 1", "2+": "AND e.trips >= 2"}


@dataclass(frozen=True, slots=True)
class DepartmentRow:
    id: int
    code: str
    name: str
    short_name: str
    level: str
    kind: str
    region: str
    shares_administration_with: str | None
    position: int


@dataclass(frozen=True, slots=True)
class Overview:
    """Departments in order with their counts of current items by trips: the source of the home
    page, the department filter and every list's total."""

    departments: tuple[DepartmentRow, ...]
    counts: dict[int, tuple[int, int, int]]  # department id -> (trips 0, trips 1, trips 2+)

    def matching(self, department: DepartmentRow, trips: str | None) -> int:
        t0, t1, t2 = self.counts.get(department.id, (0, 0, 0))
        return {None: t0 + t1 + t2, "0": t0, "1": t1, "2+": t2}[trips]

    def summaries(self) -> list[DepartmentSummary]:
        out = []
        for d in self.departments:
            t0, t1, t2 = self.counts.get(d.id, (0, 0, 0))
            out.append(
                DepartmentSummary(
                    code=d.code,
                    name=d.name,
                    short_name=d.short_name,
                    level=d.level,
                    kind=d.kind,
                    region=d.region,
                    shares_administration_with=d.shares_administration_with,
                    items=t0 + t1 + t2,
                    at_most_once=t0 + t1,
                )
            )
        return out

    def selected(self, flt: ItemFilter) -> list[DepartmentRow]:
        return [
            d
            for d in self.departments
            if (not flt.department or d.code == flt.department) and (not flt.level or d.level == flt.level)
        ]

    def total(self, flt: ItemFilter) -> int:
        return sum(self.matching(d, flt.trips) for d in self.selected(flt))

    def department(self, code: str) -> DepartmentRow | None:
        return next((d for d in self.departments if d.code == code), None)


_INSTANCES: weakref.WeakSet[PublicReads] = weakref.WeakSet()


def invalidate() -> None:
    """Make every `PublicReads` of this process read the change log's head on its next request.

    The write path calls this after a publication commits, so that this process shows it at
    once; other processes see it within `HEAD_INTERVAL` anyway."""
    for reads in list(_INSTANCES):
        reads.invalidate()


class PublicReads:
    def __init__(
        self,
        *,
        interval: float = HEAD_INTERVAL,
        rendered_bytes: int = RENDERED_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.clock = clock
        self._head: Head | None = None
        self._checked = float("-inf")
        self._polling: asyncio.Future[Head] | None = None
        self._memo: dict[Hashable, Any] = {}  # per head: overview, metrics …
        # Kept across heads by what computes them, which checks their validity itself (the
        # metrics' counts of past days: registry.metrics.trend); forgotten when the reference
        # data (departments, targets …) changes.
        self.lasting: dict[Hashable, Any] = {}
        self._pending: dict[Hashable, asyncio.Future[Any]] = {}
        self.lookups = Lookups(LOOKUPS)  # code -> Current, forgotten as the change log says
        self.pages = LRU(max_bytes=min(rendered_bytes, PAGE_BYTES))  # per head: lists, home, metrics
        self.documents = LRU(max_bytes=rendered_bytes)  # per fingerprint: rendered guides
        self.snapshots = LRU(entries=SNAPSHOTS)  # fingerprint -> Guide
        self.head_reads = 0
        self.preloading = False  # keep every item's lookup loaded (`preload`; `onetrip serve`)
        self._preload: asyncio.Task | None = None
        _INSTANCES.add(self)

    # ---- the head ---------------------------------------------------------------------

    def invalidate(self) -> None:
        self._checked = float("-inf")

    async def head(self) -> Head:
        """The change log's head, read from the database at most every `interval` seconds."""
        if self._head is not None and self.clock() - self._checked < self.interval:
            return self._head
        if self._polling is None:
            self._polling = asyncio.ensure_future(self._poll())
        polling = self._polling
        try:
            return await asyncio.shield(polling)
        finally:
            if self._polling is polling and polling.done():
                self._polling = None

    async def _poll(self) -> Head:
        started = self.clock()
        head = await read_head()
        self.head_reads += 1
        if head != self._head:
            changed = await _changed_codes(self._head, head)
            if self._head is None or head.reference != self._head.reference:
                self.lasting.clear()
            self._memo.clear()
            self.pages.clear()
            if changed is None:
                self.lookups.clear()
            else:
                self.lookups.drop(changed)
            self._head = head
            if changed is None and self.preloading:
                self.start_preload()
        self._checked = started
        return head

    async def memo(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        """`compute()` once per head for `key`; concurrent callers share one computation."""
        await self.head()
        if key in self._memo:
            return self._memo[key]
        pending = self._pending.get(key)
        if pending is None:
            head = self._head
            pending = asyncio.ensure_future(compute())
            self._pending[key] = pending
            try:
                value = await asyncio.shield(pending)
            finally:
                self._pending.pop(key, None)
            if self._head == head:
                self._memo[key] = value
            return value
        return await asyncio.shield(pending)

    async def page(self, key: Hashable, render: Callable[[], Awaitable[T]]) -> T:
        """A rendered page cached until the head moves (`render` returns bytes or a tuple)."""
        head = await self.head()
        cached = self.pages.get((head, key))
        if cached is not None:
            return cached
        value = await render()
        if self._head == head:
            self.pages.put((head, key), value)
        return value

    async def compressed_page(self, key: Hashable, render: Callable[[], Awaitable[bytes]]) -> rendered.Stored:
        """As `page`, kept gzip-compressed (a fifth of the memory) and sent as kept to browsers."""

        async def compressed() -> rendered.Stored:
            body = await render()
            if len(body) < COMPRESS_INLINE:
                return rendered.Stored.of(body)
            return await asyncio.to_thread(rendered.Stored.of, body)  # big lists: off the event loop

        return await self.page(("compressed", key), compressed)

    async def document(self, key: Hashable, render: Callable[[], T]) -> T:
        """A rendering of one snapshot (key includes its fingerprint): never stale."""
        cached = self.documents.get(key)
        if cached is None:
            cached = self.documents.put(key, render())
        return cached

    # ---- every item's lookup, in the background ----------------------------------------

    def start_preload(self) -> asyncio.Task:
        """(Re)start `preload` in the background: at a served process's startup, and after a head
        move that forgot every lookup."""
        if self._preload is not None and not self._preload.done():
            self._preload.cancel()
        self._preload = asyncio.ensure_future(self.preload())
        return self._preload

    def stop_preload(self) -> None:
        self.preloading = False
        if self._preload is not None:
            self._preload.cancel()

    async def preload(self, chunk: int = PRELOAD_CHUNK) -> int:
        """Fill `lookups` with every item's current edition (up to its capacity), a chunk at a
        time — one indexed read each, in a reader thread, and ≈ 20 ms of Python — so that a
        guide, printout, QR code or API document of any item costs one read, its page, instead
        of two. A chunk read while the head moved is dropped (it may predate what moved it) and
        read again. Returns how many lookups it stored."""
        after, stored = 0, 0
        while len(self.lookups) < self.lookups.capacity:
            head = await self.head()
            rows = await Edition.raw(PRELOAD_SQL, after, chunk)
            if not rows:
                break
            if self._head != head:
                continue  # read again under the new head
            for row in rows:
                self.lookups.put(row["code"], _current_of([row]))
            stored += len(rows)
            after = rows[-1]["item_id"]
            await asyncio.sleep(0)
        return stored

    # ---- counts and lists -------------------------------------------------------------

    async def overview(self) -> Overview:
        return await self.memo("overview", _load_overview)

    async def department_summaries(self) -> list[DepartmentSummary]:
        return (await self.overview()).summaries()

    async def department_exists(self, code: str) -> bool:
        return (await self.overview()).department(code) is not None

    async def list_items(self, flt: ItemFilter, *, page: int, page_size: int) -> tuple[list[ItemRow], int]:
        """One page of the filtered list, in department order then by code.

        The per-department counts (cached) say which department the page starts in and where;
        each department is then read on the index (department, code), so page 500 costs what
        page 1 does, whatever the registry's size."""
        overview = await self.overview()
        departments = overview.selected(flt)
        total = sum(overview.matching(d, flt.trips) for d in departments)
        skip = (page - 1) * page_size
        rows: list[ItemRow] = []
        for d in departments:
            n = overview.matching(d, flt.trips)
            if skip >= n:
                skip -= n
                continue
            want = page_size - len(rows)
            found = await _department_page(d, flt.trips, limit=want, offset=skip)
            rows.extend(found)
            skip = 0
            if len(rows) >= page_size:
                break
        return rows, total

    async def count_items(self, flt: ItemFilter) -> int:
        return (await self.overview()).total(flt)

    # ---- one guide --------------------------------------------------------------------

    async def current(self, code: str) -> Current:
        head = await self.head()
        found = self.lookups.get(code)
        if found is None:
            found = await _load_current(code)
            if self._head == head:
                self.lookups.put(code, found)
        return found

    async def current_and_stored(
        self, code: str, kind: str, day: date | None = None
    ) -> tuple[Current, rendered.Fetched | None]:
        """As `current`; and when this process does not hold the current edition, its stored
        page of `kind` ('hall', 'print', 'api'; the hall page of `day`) comes in the same
        query: a guide no cache holds is one read at any registry size."""
        head = await self.head()
        found = self.lookups.get(code)
        if found is not None:
            return found, None
        kind_day = (kind, day.isoformat() if day else "", kind)
        rows = await point_read(CURRENT_STORED_SQL, *kind_day, *kind_day, code)
        found = _current_of(rows)
        if self._head == head:
            self.lookups.put(code, found)
        if found.status == "missing":
            return found, None
        row = rows[0]
        stored = None
        if row["page_body"] is not None:
            stored = rendered.Stored.from_row(row["page_body"], row["page_styles"])
        return found, rendered.Fetched(row["page_key"], row["page_stamp"], stored)

    async def snapshot(self, edition_id: int, fingerprint: str) -> Guide:
        guide = self.snapshots.get(fingerprint)
        if guide is None:
            row = await Edition.select(Edition.snapshot).where(Edition.id == edition_id).first()
            guide = self.snapshots.put(fingerprint, Guide.from_json(row["snapshot"]))
        return guide

    async def published_guide(self, code: str) -> GuideLookup:
        found = await self.current(code)
        if found.status == "missing":
            return GuideLookup("missing")
        guide = await self.snapshot(found.edition_id, found.fingerprint)
        return GuideLookup(found.status, guide=guide, fingerprint=found.fingerprint)

    async def scheduled_guide(self, code: str) -> Guide | None:
        found = await self.current(code)
        if found.scheduled_id is None or found.scheduled_fingerprint is None:
            return None
        return await self.snapshot(found.scheduled_id, found.scheduled_fingerprint)


async def _load_overview() -> Overview:
    departments = tuple(
        DepartmentRow(
            id=d["id"],
            code=d["code"],
            name=d["name"],
            short_name=d["short_name"],
            level=d["level"],
            kind=d["kind"],
            region=d["region"],
            shares_administration_with=d["shares_administration_with"],
            position=d["position"],
        )
        for d in await Department.select().order_by(Department.position).order_by(Department.id)
    )
    counts = {
        r["department"]: (r["trips_0"] or 0, r["trips_1"] or 0, r["trips_2_plus"] or 0)
        for r in await ServiceItem.raw(COUNTS_SQL, False)
    }
    return Overview(departments, counts)


async def _department_page(d: DepartmentRow, trips: str | None, *, limit: int, offset: int) -> list[ItemRow]:
    sql = PAGE_SQL.replace("TRIPS", TRIPS_SQL[trips])
    rows = await ServiceItem.raw(sql, d.id, False, limit, offset)
    return [
        ItemRow(
            code=r["code"],
            name=r["name"],
            item_type=r["item_type"],
            department_code=d.code,
            department_name=d.name,
            department_short_name=d.short_name,
            level=d.level,
            trips=r["trips"],
            online_depth=r["online_depth"],
            promised_days=r["promised_days"],
            fingerprint=r["fingerprint"],
            version=r["version"],
        )
        for r in rows
    ]


async def _load_current(code: str) -> Current:
    return _current_of(await point_read(CURRENT_SQL, code))


def _current_of(rows: list[dict[str, Any]]) -> Current:
    if not rows or rows[0]["fingerprint"] is None:
        return Current("missing")
    row = rows[0]
    scheduled_fp = row["scheduled_fingerprint"]
    return Current(
        "withdrawn" if row["withdrawn"] else "ok",
        edition_id=row["id"],
        fingerprint=row["fingerprint"],
        scheduled_id=row["scheduled_id"] if scheduled_fp else None,
        scheduled_fingerprint=scheduled_fp,
        version=row["version"],
        reviewed_on=str(row["reviewed_on"] or "")[:10],
        review_flag=row["review_flag"] or "",
    )
