"""`seeds/events.toml`: life events, read and checked with the other seeds, written after the
items in the same transaction. Idempotent: a bundle that exists with the same content is left
alone; one whose seed differs is reported (or, with `update`, published as a new edition)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import rtoml

from guides.events import EventContent, event_code_error
from guides.i18n import _
from registry.errors import ValidationError
from registry.events import commands, store
from registry.tables import Department, LifeEvent
from registry.vocab import EditionStatus

FILE = "events.toml"


@dataclass(frozen=True, slots=True)
class SeedEvent:
    code: str
    department: str
    content: EventContent


def read_events(root: Path, departments: set[str], items: set[str], problem: Any) -> list[SeedEvent]:
    """Check `root/events.toml`; `problem(entry, field, message)` collects what is wrong."""
    path = Path(root) / FILE
    if not path.is_file():
        return []
    try:
        data = rtoml.loads(path.read_text(encoding="utf-8"))
    except (rtoml.TomlParsingError, UnicodeDecodeError) as exc:
        problem("-", "-", _("TOML 格式错误：{e}", e=str(exc).splitlines()[0]))
        return []
    out: list[SeedEvent] = []
    seen: set[str] = set()
    entries = data.get("event", [])
    if not isinstance(entries, list):
        problem("-", "event", _("应为 [[event]] 列表"))
        return []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            problem(f"event[{i}]", "-", _("应为对象"))
            continue
        code = entry.get("code")
        where = f"event {code}" if isinstance(code, str) else f"event[{i}]"
        if (message := event_code_error(code)) is not None:
            problem(where, "code", message)
            continue
        if code in seen:
            problem(where, "code", _("编码重复"))
        seen.add(code)
        department = entry.get("department")
        if department not in departments:
            problem(where, "department", _("未知的实施主体编码“{v}”", v=department))
        try:
            content = commands.content_from_mapping(
                {k: v for k, v in entry.items() if k not in ("code", "department")}
            )
        except ValidationError as exc:
            for e in exc.errors:
                problem(where, e.field, e.message)
            continue
        for j, item in enumerate(content.items):
            if item not in items:
                problem(where, f"items[{j}]", _("种子数据中没有事项“{v}”", v=item))
        out.append(SeedEvent(code, str(department), content))
    return out


async def apply_events(events: list[SeedEvent], *, now: datetime, update: bool, report: Any) -> None:
    """Inside the seeding transaction: create and publish new bundles (reviewed by nobody: seed
    data), leave unchanged ones alone, report or republish changed ones."""
    departments = {r["code"]: r["id"] for r in await Department.select(Department.id, Department.code)}
    for seed in events:
        exists = await LifeEvent.exists().where(LifeEvent.code == seed.code)
        if not exists:
            await LifeEvent.insert(
                LifeEvent(code=seed.code, department=departments[seed.department], created_at=now)
            )
        event = await store.event_row(seed.code, lock=True)
        current = await store.current_event(event)
        if current is not None and current.content == seed.content:
            report.count("unchanged", "events")
            continue
        if current is not None and (not update or await store.open_edition(event["id"]) is not None):
            # Not republished over an edition in the works: reported, like a seed left alone.
            report.count("unchanged", "events")
            report.differs.append(seed.code)
            continue
        edition_id = await store.insert_edition(
            event_id=event["id"],
            version=await store.next_version(event["id"]),
            status=EditionStatus.approved,
            content=seed.content,
            ids=await store.item_ids(seed.content),
            now=now,
            change_note=_("初始数据导入") if current is None else _("依据种子数据更新"),
        )
        await commands.publish(event, edition_id, now=now, seed=True)
        report.count("created" if current is None else "updated", "events")
