"""Life events: rows <-> content, finding and locking a bundle, its items' current guides."""

from __future__ import annotations

from typing import Any

import msgspec

from guides import Guide
from guides.events import EventContent, EventGuide
from guides.i18n import _
from registry.editions.store import is_postgres
from registry.editions.workflow import Subject
from registry.errors import FieldError, NotFound, ValidationError
from registry.tables import Edition, LifeEvent, LifeEventEdition, LifeEventItem, ServiceItem
from registry.vocab import OPEN_STATUSES, EditionStatus

EVENT_COLUMNS = (
    LifeEvent.id,
    LifeEvent.code,
    LifeEvent.current_edition,
    LifeEvent.withdrawn,
    LifeEvent.department.id,
    LifeEvent.department.code,
    LifeEvent.department.name,
    LifeEvent.department.short_name,
    LifeEvent.department.level,
    LifeEvent.department.region,
)


async def event_row(code: str, *, lock: bool = False) -> dict[str, Any]:
    """The bundle and its lead department; `lock=True` takes its row lock (PostgreSQL), as
    registry.editions.store.item_row does for an item."""
    query = LifeEvent.select(*EVENT_COLUMNS).where(LifeEvent.code == code)
    if lock and is_postgres():
        query = query.lock_rows("UPDATE", of=(LifeEvent,))
    row = await query.first()
    if row is None:
        raise NotFound(_("没有找到编码为“{code}”的一件事。", code=code))
    return row


async def open_edition(event_id: int) -> dict[str, Any] | None:
    return (
        await LifeEventEdition.select()
        .where(
            (LifeEventEdition.event == event_id)
            & LifeEventEdition.status.is_in([s.value for s in OPEN_STATUSES])
        )
        .output(load_json=True)
        .first()
    )


def subject(event: dict[str, Any], edition: dict[str, Any] | None) -> Subject:
    return Subject(
        status=EditionStatus(edition["status"]) if edition else None,
        department_code=event["department.code"],
        contributors=frozenset(edition["contributors"] or ()) if edition else frozenset(),
        withdrawn=event["withdrawn"],
        published=event["current_edition"] is not None,
    )


async def next_version(event_id: int) -> int:
    rows = await LifeEventEdition.select(LifeEventEdition.version).where(LifeEventEdition.event == event_id)
    return max((r["version"] for r in rows), default=0) + 1


def content_json(content: EventContent) -> str:
    return msgspec.json.encode(content).decode("utf-8")


def content_of(row: dict[str, Any]) -> EventContent:
    value = row["content"]
    if isinstance(value, str | bytes):
        return msgspec.json.decode(value, type=EventContent)
    return msgspec.convert(value, EventContent)


async def item_ids(content: EventContent) -> dict[str, int]:
    """Every item the bundle names exists, is published and not withdrawn, and is named once."""
    rows = await ServiceItem.select(
        ServiceItem.id, ServiceItem.code, ServiceItem.current_edition, ServiceItem.withdrawn
    ).where(ServiceItem.code.is_in(list(content.items) or [""]))
    found = {r["code"]: r for r in rows}
    errors = []
    seen: set[str] = set()
    for i, code in enumerate(content.items):
        row = found.get(code)
        if code in seen:
            errors.append(FieldError(f"items[{i}]", _("事项“{c}”重复", c=code)))
        elif row is None:
            errors.append(FieldError(f"items[{i}]", _("没有编码为“{c}”的事项", c=code)))
        elif row["withdrawn"] or row["current_edition"] is None:
            errors.append(FieldError(f"items[{i}]", _("事项“{c}”未公开或已取消", c=code)))
        seen.add(code)
    if errors:
        raise ValidationError(errors)
    return {code: found[code]["id"] for code in content.items}


async def write_items(edition_id: int, content: EventContent, ids: dict[str, int]) -> None:
    await LifeEventItem.delete().where(LifeEventItem.edition == edition_id)
    if content.items:
        await LifeEventItem.insert(
            *(
                LifeEventItem(edition=edition_id, item=ids[code], position=i)
                for i, code in enumerate(content.items)
            )
        )


async def insert_edition(
    *,
    event_id: int,
    version: int,
    status: EditionStatus,
    content: EventContent,
    ids: dict[str, int],
    now: Any,
    editor: int | None = None,
    change_note: str = "",
) -> int:
    (row,) = await LifeEventEdition.insert(
        LifeEventEdition(
            event=event_id,
            version=version,
            status=status.value,
            name=content.name,
            content=content_json(content),
            change_note=change_note,
            created_at=now,
            updated_at=now,
            editor=editor,
            contributors=[editor] if editor is not None else [],
        )
    ).returning(LifeEventEdition.id)
    await write_items(row["id"], content, ids)
    return row["id"]


async def edition_row(edition_id: int) -> dict[str, Any]:
    return (
        await LifeEventEdition.select()
        .where(LifeEventEdition.id == edition_id)
        .output(load_json=True)
        .first()
    )


async def current_event(event: dict[str, Any]) -> EventGuide | None:
    if event["current_edition"] is None:
        return None
    row = (
        await LifeEventEdition.select(LifeEventEdition.snapshot)
        .where(LifeEventEdition.id == event["current_edition"])
        .first()
    )
    return EventGuide.from_json(row["snapshot"]) if row and row["snapshot"] else None


async def current_guides(codes: list[str]) -> dict[str, tuple[Guide, str]]:
    """code -> (current guide, fingerprint) of the published, not withdrawn items among `codes`."""
    if not codes:
        return {}
    # An item's one published edition is its current guide (a withdrawal's edition is "withdrawn").
    rows = await Edition.select(Edition.item.code, Edition.snapshot, Edition.fingerprint).where(
        Edition.item.code.is_in(sorted(set(codes))) & (Edition.status == EditionStatus.published.value)
    )
    return {r["item.code"]: (Guide.from_json(r["snapshot"]), r["fingerprint"]) for r in rows}
