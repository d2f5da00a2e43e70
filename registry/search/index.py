"""The search index: one `search_entry` row per current, not withdrawn item, and the engine's
own index over its token columns (FTS5 `search_fts` on SQLite; generated tsvector columns with
GIN indexes on PostgreSQL — see the migration).

`refresh(item_id)` runs inside the publication's write transaction (registry.editions.publication
calls it whenever an item's current edition changes), so the index never disagrees with what the
public sees: it commits or rolls back with the publication. `rebuild()` is `onetrip reindex`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from guides import Guide
from registry.db import _connection, bulk_insert, write_transaction
from registry.search import tokens
from registry.tables import Department, Edition, SearchEntry, ServiceItem

BATCH = 500


@dataclass(frozen=True, slots=True)
class Document:
    """What one item puts in the index."""

    item: int
    code: str
    department: int
    department_code: str
    department_name: str
    level: str
    item_type: str
    person: bool
    organisation: bool
    trips: int
    online_depth: int
    promised_days: int
    name: str
    summary: str
    name_tokens: str
    summary_tokens: str
    body_tokens: str
    grams: str

    def row(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__slots__}


def document(item: dict[str, Any], department: dict[str, Any], guide: Guide) -> Document:
    """The index entry of an item's current guide. Ranking columns: the name (with its pinyin),
    then summary and result, then conditions, materials and the department."""
    materials = "\n".join(m.name for m in guide.materials)
    body = [
        *tokens.words(guide.conditions),
        *tokens.words(materials),
        *tokens.pinyin_words(materials),
        *tokens.words(department["name"]),
        *tokens.words(department["short_name"]),
    ]
    return Document(
        item=item["id"],
        code=item["code"],
        department=department["id"],
        department_code=department["code"],
        department_name=department["short_name"],
        level=department["level"],
        item_type=item["item_type"],
        person="自然人" in guide.audience,
        organisation=bool({"法人", "其他组织"} & set(guide.audience)),
        trips=guide.trips,
        online_depth=guide.online_depth,
        promised_days=guide.promised_days,
        name=guide.name,
        summary=guide.summary,
        name_tokens=tokens.joined([*tokens.words(guide.name), *tokens.pinyin_words(guide.name)]),
        summary_tokens=tokens.joined([*tokens.words(guide.summary), *tokens.words(guide.result)]),
        body_tokens=tokens.joined(body),
        grams="",  # no longer read: typos are found in the distinct names (registry.search.names)
    )


def _is_sqlite() -> bool:
    return SearchEntry._meta.db.engine_type == "sqlite"


async def _remove(item_ids: list[int]) -> None:
    if not item_ids:
        return
    marks = ", ".join("{}" for _ in item_ids)
    if _is_sqlite():
        await SearchEntry.raw(
            f"DELETE FROM search_fts WHERE rowid IN (SELECT id FROM search_entry WHERE item IN ({marks}))",
            *item_ids,
        )
    await SearchEntry.delete().where(SearchEntry.item.is_in(item_ids))


async def _write(documents: list[Document], *, new: bool = False) -> None:
    """Write entries (replacing the items' old ones unless `new`), in one round trip per table
    and batch: the rows, then on SQLite their FTS5 rows."""
    if not new:
        await _remove([d.item for d in documents])
    for start in range(0, len(documents), BATCH):
        batch = documents[start : start + BATCH]
        await bulk_insert(SearchEntry, [d.row() for d in batch])
        if _is_sqlite():
            rows = await SearchEntry.select(SearchEntry.id, SearchEntry.item).where(
                SearchEntry.item.is_in([d.item for d in batch])
            )
            ids = {r["item"]: r["id"] for r in rows}
            await _connection(SearchEntry._meta.db).executemany(
                "INSERT INTO search_fts (rowid, name, summary, body, grams) VALUES (?, ?, ?, ?, ?)",
                [(ids[d.item], d.name_tokens, d.summary_tokens, d.body_tokens, d.grams) for d in batch],
            )


async def _documents(item_ids: Iterable[int]) -> tuple[list[Document], list[int]]:
    """(documents of the items that have a current, not withdrawn guide; ids of the others)."""
    ids = list(item_ids)
    items = await ServiceItem.select(
        ServiceItem.id,
        ServiceItem.code,
        ServiceItem.item_type,
        ServiceItem.department,
        ServiceItem.current_edition,
        ServiceItem.withdrawn,
    ).where(ServiceItem.id.is_in(ids or [-1]))
    live = [i for i in items if i["current_edition"] is not None and not i["withdrawn"]]
    editions = {
        r["id"]: r["snapshot"]
        for r in await Edition.select(Edition.id, Edition.snapshot).where(
            Edition.id.is_in([i["current_edition"] for i in live] or [-1])
        )
    }
    departments = {
        d["id"]: d
        for d in await Department.select().where(Department.id.is_in([i["department"] for i in live] or [-1]))
    }
    documents = [
        document(i, departments[i["department"]], Guide.from_json(editions[i["current_edition"]]))
        for i in live
        if editions.get(i["current_edition"])
    ]
    indexed = {d.item for d in documents}
    return documents, [i for i in ids if i not in indexed]


# PostgreSQL GIN indexes keep new entries in a pending list that every search reads in full
# until it is merged (at `gin_pending_list_limit`, 4 MB by default, or by a VACUUM): ~6 ms a
# query at 4 MB. A publication writes with a small limit, so the list never grows past it; bulk
# writes keep the default (merging in large batches is faster: seeding 10 000 items took ~25 %
# longer with a 256 kB limit) and merge what they leave at the end of each batch.
SMALL_PENDING_LIST = "SET LOCAL gin_pending_list_limit = 256"
MERGE_PENDING_LISTS = (
    "SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i"
    " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
    " WHERE i.indrelid = 'search_entry'::regclass AND a.amname = 'gin'"
)


async def _merge_pending_lists() -> None:
    if not _is_sqlite():
        await SearchEntry.raw(MERGE_PENDING_LISTS)


async def refresh(*item_ids: int) -> None:
    """Make the index say what the public sees now for these items: their current guide, or
    nothing when withdrawn or unpublished. Call it inside the write transaction that changed
    them."""
    async with write_transaction():  # joins the caller's
        if not _is_sqlite():
            await SearchEntry.raw(SMALL_PENDING_LIST)  # until the end of the caller's transaction
        documents, gone = await _documents(item_ids)
        await _remove(gone)
        await _write(documents)


async def index_new(entries: Iterable[tuple[dict[str, Any], dict[str, Any], Guide]]) -> None:
    """Index items published in bulk (seed loading): (item, department, guide) each, where item
    has id, code and item_type, and department id, code, name, short_name and level."""
    await _write([document(item, department, guide) for item, department, guide in entries], new=True)


async def write_new(documents: list[Document]) -> None:
    """Index items published in bulk whose entries were computed beforehand (seed loading in
    worker processes: registry.editions.bulk): items not in the index yet."""
    await _write(documents, new=True)
    await _merge_pending_lists()


async def replace(item_ids: list[int], documents: list[Document]) -> None:
    """What `refresh(*item_ids)` does, with the entries computed beforehand: the items' old
    entries go, `documents` (those of them with a current, not withdrawn guide) come in."""
    for start in range(0, len(item_ids), BATCH):
        await _remove(item_ids[start : start + BATCH])
    await _write(documents, new=True)
    await _merge_pending_lists()


async def refresh_department(department_id: int) -> None:
    """A department's name changed: its items' entries carry it."""
    rows = await ServiceItem.select(ServiceItem.id).where(ServiceItem.department == department_id)
    ids = [r["id"] for r in rows]
    for start in range(0, len(ids), BATCH):
        await refresh(*ids[start : start + BATCH])


async def rebuild() -> int:
    """Drop and rebuild the whole index (`onetrip reindex`) in one transaction; returns the
    number of entries."""
    async with write_transaction():
        if _is_sqlite():
            await SearchEntry.raw("DELETE FROM search_fts")
        await SearchEntry.delete(force=True)
        rows = await ServiceItem.select(ServiceItem.id).order_by(ServiceItem.id)
        ids = [r["id"] for r in rows]
        for start in range(0, len(ids), BATCH):
            documents, _gone = await _documents(ids[start : start + BATCH])
            await _write(documents, new=True)
        await _merge_pending_lists()
    return await SearchEntry.count()


async def size() -> int:
    return await SearchEntry.count()
