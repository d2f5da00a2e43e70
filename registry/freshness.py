"""Freshness (seed item 33): every item has a review-by date, 12 months after its last review.

A review is a publication (the reviewer approved the content) or an editor's "reviewed, no
change", which appends a `review` record to the change log (append-only, hash-chained) without
a new edition: the published snapshot and its fingerprint stay exactly as they were. The guide
shows "最近审核：YYYY-MM-DD" next to the content, never inside it.

A law change (registry.laws) sets `review_flag` on every item citing the document; a review or a
new edition clears it. The editors' inbox lists what is due, overdue and flagged.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from guides.i18n import _
from registry import changelog
from registry.access import Actor, PermissionDenied
from registry.db import after_commit, write_transaction
from registry.editions import store
from registry.errors import DomainError
from registry.reads.public import invalidate
from registry.tables import Edition, Role, ServiceItem
from registry.vocab import ChangeKind, local_today

REVIEW_MONTHS = 12
DUE_SOON_DAYS = 60  # the inbox shows what falls due within this many days


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def review_values(today: date) -> dict[Any, Any]:
    """The columns a review sets: reviewed today, due again in 12 months, no flag."""
    return {
        ServiceItem.reviewed_on: today,
        ServiceItem.review_by: add_months(today, REVIEW_MONTHS),
        ServiceItem.review_flag: "",
    }


async def mark_reviewed(item_id: int, today: date) -> None:
    await ServiceItem.update(review_values(today)).where(ServiceItem.id == item_id)


async def review_no_change(actor: Actor, code: str, *, now: datetime, note: str = "") -> dict[str, Any]:
    """ "Reviewed, no change": the item's editor (or an admin) confirms the published guide is
    still right. One change-log record; the snapshot is not touched."""
    today = local_today(now)
    async with write_transaction():
        item = await store.item_row(code, lock=True)
        if not (actor.role == Role.admin or actor.can_edit(item["department.code"])):
            raise PermissionDenied(_("您无权复核“{dept}”的事项。", dept=item["department.name"]))
        if item["current_edition"] is None or item["withdrawn"]:
            raise DomainError(_("只有现行的事项可以复核。"))
        current = (
            await Edition.select(Edition.version, Edition.fingerprint)
            .where(Edition.id == item["current_edition"])
            .first()
        )
        await mark_reviewed(item["id"], today)
        after_commit(invalidate)
        return await changelog.append(
            item_id=item["id"],
            item_code=item["code"],
            kind=ChangeKind.review.value,
            version_before=current["version"],
            version_after=current["version"],
            diff=[],
            summary=_("复核：内容无变化"),
            change_note=(note or "").strip()[:2000],
            editor=actor.username,
            reviewer=actor.username,
            approved_at=now,
            publish_deadline=now,
            published_at=now,
            effective_at=today,
            fingerprint=current["fingerprint"],
        )


@dataclass(frozen=True, slots=True)
class InboxRow:
    code: str
    name: str
    department: str
    reviewed_on: date | None
    review_by: date | None
    flag: str

    def state(self, today: date) -> str:
        if self.flag:
            return "flagged"
        if self.review_by is not None and self.review_by < today:
            return "overdue"
        return "due"


async def inbox(actor: Actor, today: date, *, limit: int = 500) -> list[InboxRow]:
    """Items to review: flagged by a law change, overdue, or due within DUE_SOON_DAYS (indexed on
    review_by; an editor sees their departments')."""
    soon = today + timedelta(days=DUE_SOON_DAYS)
    query = (
        ServiceItem.select(
            ServiceItem.code,
            ServiceItem.current_edition,
            ServiceItem.department.short_name,
            ServiceItem.reviewed_on,
            ServiceItem.review_by,
            ServiceItem.review_flag,
        )
        .where(
            (ServiceItem.withdrawn == False)  # noqa: E712
            & ((ServiceItem.review_by <= soon) | (ServiceItem.review_flag != ""))
        )
        .order_by(ServiceItem.review_by)
        .limit(limit)
    )
    if actor.role == Role.editor:
        query = query.where(ServiceItem.department.code.is_in(sorted(actor.departments) or ["-"]))
    rows = await query
    names = {
        e["id"]: e["name"]
        for e in await Edition.select(Edition.id, Edition.name).where(
            Edition.id.is_in([r["current_edition"] for r in rows if r["current_edition"]] or [-1])
        )
    }
    found = [
        InboxRow(
            code=r["code"],
            name=names.get(r["current_edition"], r["code"]),
            department=r["department.short_name"],
            reviewed_on=r["reviewed_on"],
            review_by=r["review_by"],
            flag=r["review_flag"],
        )
        for r in rows
    ]
    # Flagged first, then by due date.
    return sorted(found, key=lambda r: (not r.flag, r.review_by or date.max))
