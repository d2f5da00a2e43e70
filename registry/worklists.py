"""The read side of the staff pages: what each person has to do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from registry.access import Actor
from registry.tables import (
    Department,
    Edition,
    EditionStatus,
    LegalDocument,
    Material,
    Role,
    ServiceItem,
)
from registry.vocab import OPEN_STATUSES as OPEN


@dataclass(frozen=True, slots=True)
class WorkRow:
    code: str
    name: str
    department: str
    department_code: str
    current_version: int | None
    open_status: str | None
    open_version: int | None
    withdrawn: bool
    send_back_reason: str = ""


async def staff_items(actor: Actor) -> list[WorkRow]:
    query = ServiceItem.select(
        ServiceItem.id,
        ServiceItem.code,
        ServiceItem.withdrawn,
        ServiceItem.current_edition,
        ServiceItem.department.code,
        ServiceItem.department.short_name,
    ).order_by(ServiceItem.code)
    if actor.role == Role.editor:
        query = query.where(ServiceItem.department.code.is_in(sorted(actor.departments) or ["-"]))
    items = await query
    ids = [i["id"] for i in items] or [-1]
    editions = await Edition.select(
        Edition.id, Edition.item, Edition.name, Edition.version, Edition.status, Edition.send_back_reason
    ).where(Edition.item.is_in(ids))
    by_id = {e["id"]: e for e in editions}
    open_by_item = {e["item"]: e for e in editions if e["status"] in {s.value for s in OPEN}}
    rows = []
    for i in items:
        current = by_id.get(i["current_edition"])
        draft = open_by_item.get(i["id"])
        rows.append(
            WorkRow(
                code=i["code"],
                name=(draft or current or {"name": i["code"]})["name"],
                department=i["department.short_name"],
                department_code=i["department.code"],
                current_version=current["version"] if current else None,
                open_status=draft["status"] if draft else None,
                open_version=draft["version"] if draft else None,
                withdrawn=i["withdrawn"],
                send_back_reason=draft["send_back_reason"] if draft else "",
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class BoardRow:
    code: str
    name: str
    version: int
    status: str
    approved_at: datetime | None
    publish_deadline: datetime | None
    effective_at: Any
    held: bool

    def overdue(self, now: datetime) -> bool:
        return self.publish_deadline is not None and now > self.publish_deadline


async def board() -> list[BoardRow]:
    """Approved but not yet public (held or failed), and announced-but-not-yet-current."""
    rows = (
        await Edition.select(
            Edition.item.code,
            Edition.name,
            Edition.version,
            Edition.status,
            Edition.approved_at,
            Edition.publish_deadline,
            Edition.effective_at,
            Edition.held,
        )
        .where(Edition.status.is_in([EditionStatus.approved.value, EditionStatus.scheduled.value]))
        .order_by(Edition.publish_deadline)
    )
    return [
        BoardRow(
            code=r["item.code"],
            name=r["name"],
            version=r["version"],
            status=r["status"],
            approved_at=r["approved_at"],
            publish_deadline=r["publish_deadline"],
            effective_at=r["effective_at"],
            held=r["held"],
        )
        for r in rows
    ]


async def catalogue_options() -> dict[str, list[dict[str, Any]]]:
    return {
        "materials": await Material.select(Material.code, Material.name, Material.kind).order_by(
            Material.name
        ),
        "documents": await LegalDocument.select(
            LegalDocument.code, LegalDocument.title, LegalDocument.number
        ).order_by(LegalDocument.title),
        "departments": await Department.select(
            Department.code, Department.short_name, Department.level
        ).order_by(Department.position),
    }
