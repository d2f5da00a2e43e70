"""The write use cases: one transaction each, in named steps.

    check the input  →  lock the item  →  ask the workflow table  →  write  →  publish

Each command takes `now` (the clock is injected) and an `Actor`; the workflow table decides what
the actor may do, so pages, the API, imports and the command line enforce the same rules. Every
command locks the item row before it reads what it decides on (`FOR UPDATE` on PostgreSQL, an
IMMEDIATE transaction on SQLite), and unique indexes refuse what must never exist even if a code
path forgot: a second (item, version), a second open edition, a second change record.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Protocol

from guides.i18n import _
from guides.snapshot import replace
from registry import checks
from registry.access import Actor, PermissionDenied
from registry.db import write_transaction
from registry.editions import publication, store
from registry.editions.schema import (
    EditionContent,
    code_department_error,
    content_rule_errors,
    item_code_error,
)
from registry.editions.workflow import Action, TransitionError, check
from registry.errors import DomainError, FieldError, ValidationError
from registry.tables import Department, Edition, ServiceItem
from registry.vocab import ITEM_TYPES, EditionStatus, local_today

MAX_NOTE = 2000

__all__ = [
    "ConflictError",
    "PermissionDenied",
    "TransitionError",
    "approve",
    "create_item",
    "publish_held",
    "request_withdrawal",
    "save_draft",
    "send_back",
    "submit",
]


class ConflictError(DomainError):
    """The draft was saved by someone else since this editor loaded it."""

    def __init__(self, current_lock_version: int, current: dict[str, Any]) -> None:
        self.current_lock_version = current_lock_version
        self.current = current
        super().__init__(_("草稿已被他人修改（当前版本号 {v}），请核对后再保存。", v=current_lock_version))


class DeadlineCalendar(Protocol):
    def publish_deadline(self, approved_at: datetime) -> datetime: ...


def _text(name: str, value: str | None, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError([FieldError(name, message)])
    if len(text) > MAX_NOTE or "\x00" in text:
        raise ValidationError([FieldError(name, _("过长（最多 {n} 字）", n=MAX_NOTE))])
    return text


async def save_draft(
    actor: Actor,
    code: str,
    content: EditionContent,
    *,
    base_lock_version: int | None,
    now: datetime,
) -> dict[str, Any]:
    """Create or update the item's draft. `base_lock_version` is the lock version the editor
    loaded (None for a new draft); a mismatch raises ConflictError and changes nothing."""
    errors = content_rule_errors(content, complete=False)
    if errors:
        raise ValidationError(errors)
    async with write_transaction():
        item = await store.item_row(code, lock=True)
        ids = await store.check_references(content)
        draft = await store.open_edition(item["id"])
        if draft is None:
            check(Action.open_draft, actor, store.subject(item, None))
            if base_lock_version not in (None, 0):
                raise ConflictError(0, {})
            edition_id = await store.insert_edition(
                item_id=item["id"],
                version=await store.next_version(item["id"]),
                status=EditionStatus.draft,
                content=content,
                ids=ids,
                now=now,
                editor=actor.id,
            )
            return await store.edition_row(edition_id)
        check(Action.save, actor, store.subject(item, draft))
        if draft["lock_version"] != base_lock_version:
            raise ConflictError(draft["lock_version"], draft)
        contributors = sorted({*draft["contributors"], *([actor.id] if actor.id is not None else [])})
        await Edition.update(
            {
                **store.content_columns(content),
                Edition.lock_version: Edition.lock_version + 1,
                Edition.updated_at: now,
                Edition.editor: actor.id,
                Edition.contributors: contributors,
            }
        ).where(Edition.id == draft["id"])
        await store.write_references(draft["id"], content, ids)
        return await store.edition_row(draft["id"])


async def create_item(
    actor: Actor,
    *,
    code: str,
    department_code: str,
    item_type: str,
    content: EditionContent,
    now: datetime,
) -> dict[str, Any]:
    """A new item: its code is reserved at once and its first edition starts as a draft."""
    errors = []
    if (message := item_code_error(code)) is not None:
        errors.append(FieldError("code", message))
    if item_type not in ITEM_TYPES:
        errors.append(FieldError("item_type", _("应为 {v} 之一", v="、".join(ITEM_TYPES))))
    if errors:
        raise ValidationError(errors)
    async with write_transaction():
        department = await Department.select().where(Department.code == department_code).first()
        if department is None:
            raise ValidationError([FieldError("department", _("未知的实施主体编码"))])
        if not actor.can_edit(department_code):
            raise PermissionDenied(_("您无权为“{dept}”新增事项。", dept=department["name"]))
        if (message := code_department_error(code, department_code)) is not None:
            raise ValidationError([FieldError("code", message)])
        if await ServiceItem.exists().where(ServiceItem.code == code):
            raise ValidationError([FieldError("code", _("事项编码“{c}”已被使用，编码不可重复使用", c=code))])
        await ServiceItem.insert(
            ServiceItem(code=code, department=department["id"], item_type=item_type, created_at=now)
        )
        return await save_draft(actor, code, content, base_lock_version=None, now=now)


async def request_withdrawal(actor: Actor, code: str, *, now: datetime) -> dict[str, Any]:
    """Start a withdrawal: a draft that, once approved and published, withdraws the item."""
    async with write_transaction():
        item = await store.item_row(code, lock=True)
        check(Action.request_withdrawal, actor, store.subject(item, await store.open_edition(item["id"])))
        content = await store.edition_content(item["current_edition"])
        edition_id = await store.insert_edition(
            item_id=item["id"],
            version=await store.next_version(item["id"]),
            status=EditionStatus.draft,
            content=replace(content, effective_at=local_today(now)),
            ids=await store.ref_ids(),
            now=now,
            editor=actor.id,
            withdraw=True,
        )
        return await store.edition_row(edition_id)


async def submit(
    actor: Actor, code: str, *, change_note: str, effective_at: date | None, now: datetime
) -> dict[str, Any]:
    note = _text("change_note", change_note, _("请填写变更说明"))
    async with write_transaction():
        item = await store.item_row(code, lock=True)
        draft = await store.open_edition(item["id"])
        status = check(Action.submit, actor, store.subject(item, draft))
        context = checks.Context(item_type=item["item_type"])
        errors = content_rule_errors(store.content_of(draft), complete=True, context=context)
        if errors:
            raise ValidationError(errors)
        values: dict[Any, Any] = {
            Edition.status: status.value,
            Edition.change_note: note,
            Edition.submitted_at: now,
            Edition.send_back_reason: "",
        }
        if effective_at is not None:
            content = replace(store.content_of(draft), effective_at=effective_at)
            values.update(store.content_columns(content))
        await Edition.update(values).where(Edition.id == draft["id"])
        return await store.edition_row(draft["id"])


async def send_back(actor: Actor, code: str, *, reason: str, now: datetime) -> dict[str, Any]:
    reason = _text("reason", reason, _("请填写退回原因"))
    async with write_transaction():
        item = await store.item_row(code, lock=True)
        edition = await store.open_edition(item["id"])
        status = check(Action.send_back, actor, store.subject(item, edition))
        await Edition.update(
            {
                Edition.status: status.value,
                Edition.send_back_reason: reason,
                Edition.reviewer: actor.id,
                Edition.updated_at: now,
            }
        ).where(Edition.id == edition["id"])
        return await store.edition_row(edition["id"])


async def approve(
    actor: Actor,
    code: str,
    *,
    effective_at: date | None,
    now: datetime,
    calendar: DeadlineCalendar,
    hold: bool = False,
) -> dict[str, Any]:
    """Approve the edition in review; publish it at once unless the reviewer holds it."""
    async with write_transaction():
        item = await store.item_row(code, lock=True)
        edition = await store.open_edition(item["id"])
        status = check(Action.hold if hold else Action.approve, actor, store.subject(item, edition))
        values: dict[Any, Any] = {
            Edition.status: status.value,
            Edition.reviewer: actor.id,
            Edition.approved_at: now,
            Edition.publish_deadline: calendar.publish_deadline(now),
            Edition.held: hold,
        }
        if effective_at is not None:
            values.update(
                store.content_columns(replace(store.content_of(edition), effective_at=effective_at))
            )
        await Edition.update(values).where(Edition.id == edition["id"])
        if not hold:
            await publication.publish_approved(item, edition["id"], now=now)
        return await store.edition_row(edition["id"])


async def publish_held(actor: Actor, code: str, *, now: datetime) -> Any:
    """Release a held (or failed) publication."""
    async with write_transaction():
        item = await store.item_row(code, lock=True)
        edition = await store.open_edition(item["id"])
        check(Action.release, actor, store.subject(item, edition))
        return await publication.publish_approved(item, edition["id"], now=now)
