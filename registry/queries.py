"""The read side: published guides, lists and counts. No writes here."""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from guides import Guide
from registry.tables import ChangeRecord, Department, Edition

TRIP_FILTERS = ("0", "1", "2+")


@dataclass(frozen=True, slots=True)
class DepartmentSummary:
    code: str
    name: str
    short_name: str
    level: str
    kind: str
    region: str
    shares_administration_with: str | None
    items: int
    at_most_once: int

    @property
    def rate(self) -> float | None:
        return self.at_most_once / self.items if self.items else None


@dataclass(frozen=True, slots=True)
class ItemRow:
    code: str
    name: str
    item_type: str
    department_code: str
    department_name: str
    department_short_name: str
    level: str
    trips: int
    online_depth: int
    promised_days: int
    fingerprint: str
    version: int


@dataclass(frozen=True, slots=True)
class ItemFilter:
    department: str | None = None
    level: str | None = None
    trips: str | None = None  # "0", "1" or "2+"

    def where(self) -> Any:
        clause = _current()
        if self.department:
            clause &= Edition.item.department.code == self.department
        if self.level:
            clause &= Edition.item.department.level == self.level
        if self.trips == "2+":
            clause &= Edition.trips >= 2
        elif self.trips in ("0", "1"):
            clause &= Edition.trips == int(self.trips)
        return clause


def _current() -> Any:
    """Editions that are the current guide of an item still in service."""
    return (Edition.id == Edition.item.current_edition) & (Edition.item.withdrawn == False)  # noqa: E712


async def department_summaries() -> list[DepartmentSummary]:
    rows = await Edition.select(Edition.item.department.code, Edition.trips).where(_current())
    counts: dict[str, list[int]] = {}
    for r in rows:
        c = counts.setdefault(r["item.department.code"], [0, 0])
        c[0] += 1
        c[1] += r["trips"] <= 1
    departments = await Department.select().order_by(Department.position)
    return [
        DepartmentSummary(
            code=d["code"],
            name=d["name"],
            short_name=d["short_name"],
            level=d["level"],
            kind=d["kind"],
            region=d["region"],
            shares_administration_with=d["shares_administration_with"],
            items=counts.get(d["code"], [0, 0])[0],
            at_most_once=counts.get(d["code"], [0, 0])[1],
        )
        for d in departments
    ]


async def department_exists(code: str) -> bool:
    return await Department.exists().where(Department.code == code)


async def count_items(flt: ItemFilter) -> int:
    return await Edition.count().where(flt.where())


async def list_items(flt: ItemFilter, *, page: int, page_size: int) -> tuple[list[ItemRow], int]:
    where = flt.where()
    total = await Edition.count().where(where)
    rows = (
        await Edition.select(
            Edition.item.code,
            Edition.name,
            Edition.item.item_type,
            Edition.item.department.code,
            Edition.item.department.name,
            Edition.item.department.short_name,
            Edition.item.department.level,
            Edition.trips,
            Edition.online_depth,
            Edition.promised_days,
            Edition.fingerprint,
            Edition.version,
        )
        .where(where)
        .order_by(Edition.item.department.position)
        .order_by(Edition.item.code)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    return [
        ItemRow(
            code=r["item.code"],
            name=r["name"],
            item_type=r["item.item_type"],
            department_code=r["item.department.code"],
            department_name=r["item.department.name"],
            department_short_name=r["item.department.short_name"],
            level=r["item.department.level"],
            trips=r["trips"],
            online_depth=r["online_depth"],
            promised_days=r["promised_days"],
            fingerprint=r["fingerprint"],
            version=r["version"],
        )
        for r in rows
    ], total


# Snapshots are immutable and content-addressed: cache them by fingerprint (bounded, per process).
_SNAPSHOTS: OrderedDict[str, Guide] = OrderedDict()
_SNAPSHOT_CACHE_SIZE = 512  # ≈ 20 KB of Python objects each


@dataclass(frozen=True, slots=True)
class GuideLookup:
    """The answer to "what does /g/{code} show?"."""

    status: str  # "ok" | "withdrawn" | "missing"
    guide: Guide | None = None
    fingerprint: str = ""


async def published_guide(code: str) -> GuideLookup:
    row = (
        await Edition.select(Edition.id, Edition.fingerprint, Edition.item.withdrawn)
        .where((Edition.item.code == code) & (Edition.id == Edition.item.current_edition))
        .first()
    )
    if row is None or row["fingerprint"] is None:
        return GuideLookup("missing")
    fp = row["fingerprint"]
    guide = _SNAPSHOTS.get(fp)
    if guide is None:
        snap = await Edition.select(Edition.snapshot).where(Edition.id == row["id"]).first()
        guide = Guide.from_json(snap["snapshot"])
        _SNAPSHOTS[fp] = guide
        if len(_SNAPSHOTS) > _SNAPSHOT_CACHE_SIZE:
            _SNAPSHOTS.popitem(last=False)
    else:
        _SNAPSHOTS.move_to_end(fp)
    return GuideLookup("withdrawn" if row["item.withdrawn"] else "ok", guide=guide, fingerprint=fp)


@dataclass(frozen=True, slots=True)
class ChangeEntry:
    seq: int
    item_code: str
    kind: str
    version_before: int | None
    version_after: int
    lines: list[str]
    summary: str
    change_note: str
    approved_at: Any
    publish_deadline: Any
    published_at: Any
    effective_at: Any
    fingerprint: str
    name: str = ""

    @property
    def on_time(self) -> bool:
        return self.published_at <= self.publish_deadline


def _entry(row: dict[str, Any], name: str = "") -> ChangeEntry:
    diff = row["diff"]
    if isinstance(diff, str):
        diff = json.loads(diff)
    return ChangeEntry(
        seq=row["seq"],
        item_code=row["item_code"],
        kind=row["kind"],
        version_before=row["version_before"],
        version_after=row["version_after"],
        lines=[f"{d['label']}：{d['text']}" for d in diff],
        summary=row["summary"],
        change_note=row["change_note"],
        approved_at=row["approved_at"],
        publish_deadline=row["publish_deadline"],
        published_at=row["published_at"],
        effective_at=row["effective_at"],
        fingerprint=row["fingerprint"],
        name=name,
    )


async def item_history(code: str) -> list[ChangeEntry]:
    rows = (
        await ChangeRecord.select()
        .where(ChangeRecord.item_code == code)
        .order_by(ChangeRecord.seq, ascending=False)
    )
    return [_entry(r) for r in rows]


async def recent_changes(*, limit: int = 50, since_seq: int = 0) -> list[ChangeEntry]:
    rows = (
        await ChangeRecord.select(*ChangeRecord.all_columns(), ChangeRecord.item.code)
        .where(ChangeRecord.seq > since_seq)
        .order_by(ChangeRecord.seq, ascending=False)
        .limit(limit)
    )
    codes = list({r["item_code"] for r in rows})
    names = {
        r["item.code"]: r["name"]
        for r in await Edition.select(Edition.item.code, Edition.name).where(
            _current() & Edition.item.code.is_in(codes or [""])
        )
    }
    return [_entry(r, names.get(r["item_code"], "")) for r in rows]


async def scheduled_guide(code: str) -> Guide | None:
    """A published announcement of a coming edition (自 YYYY-MM-DD 起), if there is one."""
    row = (
        await Edition.select(Edition.snapshot)
        .where((Edition.item.code == code) & (Edition.status == "scheduled"))
        .order_by(Edition.version, ascending=False)
        .first()
    )
    return Guide.from_json(row["snapshot"]) if row else None


async def item_exists(code: str) -> bool:
    from registry.tables import ServiceItem

    return await ServiceItem.exists().where(ServiceItem.code == code)
