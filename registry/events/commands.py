"""Life-event use cases, one transaction each, asking the same workflow table as items:

    check the input  →  lock the bundle  →  workflow.check()  →  write  →  publish

Approval publishes at once (a bundle has no effective date of its own: its items carry theirs).
Publication snapshots the bundle with its items' current fingerprints and appends a record to the
one change log (no item id; `item_code` is the bundle's code).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from guides.events import EventContent, EventGuide, event_code_error, event_fingerprint, with_members
from guides.i18n import _
from registry import changelog
from registry.access import SYSTEM, Actor, PermissionDenied
from registry.db import after_commit, write_transaction
from registry.editions.commands import ConflictError, DeadlineCalendar, _text
from registry.editions.workflow import Action, TransitionError, check
from registry.errors import FieldError, ValidationError
from registry.events import store
from registry.inputs import fields_of, read
from registry.reads.public import invalidate
from registry.snapshot import department_ref
from registry.tables import Department, LifeEvent, LifeEventEdition, User
from registry.vocab import ChangeKind, EditionStatus, local_today

__all__ = [
    "ConflictError",
    "PermissionDenied",
    "TransitionError",
    "approve",
    "content_from_mapping",
    "create_event",
    "save_draft",
    "send_back",
    "submit",
]


def content_from_mapping(data: Any) -> EventContent:
    """Untrusted input (form, TOML, JSON) as content; ValidationError names every bad field."""
    content = read(EventContent, data)
    errors = rule_errors(content)
    if errors:
        raise ValidationError(errors)
    return content


def rule_errors(content: EventContent) -> list[FieldError]:
    errors = []
    if content.trips > 1 and not content.trips_reason.strip():
        errors.append(FieldError("trips_reason", _("到现场次数超过 1 次时必须说明原因")))
    if not content.items:
        errors.append(FieldError("items", _("至少包含一个事项")))
    return errors


async def save_draft(
    actor: Actor, code: str, content: EventContent, *, base_lock_version: int | None, now: datetime
) -> dict[str, Any]:
    """Create or update the bundle's draft; a stale `base_lock_version` raises ConflictError."""
    errors = rule_errors(content)
    if errors:
        raise ValidationError(errors)
    async with write_transaction():
        event = await store.event_row(code, lock=True)
        ids = await store.item_ids(content)
        draft = await store.open_edition(event["id"])
        if draft is None:
            check(Action.open_draft, actor, store.subject(event, None))
            if base_lock_version not in (None, 0):
                raise ConflictError(0, {})
            edition_id = await store.insert_edition(
                event_id=event["id"],
                version=await store.next_version(event["id"]),
                status=EditionStatus.draft,
                content=content,
                ids=ids,
                now=now,
                editor=actor.id,
            )
            return await store.edition_row(edition_id)
        check(Action.save, actor, store.subject(event, draft))
        if draft["lock_version"] != base_lock_version:
            raise ConflictError(draft["lock_version"], draft)
        contributors = sorted({*draft["contributors"], *([actor.id] if actor.id is not None else [])})
        await LifeEventEdition.update(
            {
                LifeEventEdition.content: store.content_json(content),
                LifeEventEdition.name: content.name,
                LifeEventEdition.lock_version: LifeEventEdition.lock_version + 1,
                LifeEventEdition.updated_at: now,
                LifeEventEdition.editor: actor.id,
                LifeEventEdition.contributors: contributors,
            }
        ).where(LifeEventEdition.id == draft["id"])
        await store.write_items(draft["id"], content, ids)
        return await store.edition_row(draft["id"])


async def create_event(
    actor: Actor, *, code: str, department_code: str, content: EventContent, now: datetime
) -> dict[str, Any]:
    """A new bundle: its code is reserved at once and its first edition starts as a draft."""
    if (message := event_code_error(code)) is not None:
        raise ValidationError([FieldError("code", message)])
    async with write_transaction():
        department = await Department.select().where(Department.code == department_code).first()
        if department is None:
            raise ValidationError([FieldError("department", _("未知的实施主体编码"))])
        if not actor.can_edit(department_code):
            raise PermissionDenied(_("您无权为“{dept}”新增一件事。", dept=department["name"]))
        if await LifeEvent.exists().where(LifeEvent.code == code):
            raise ValidationError([FieldError("code", _("编码“{c}”已被使用，编码不可重复使用", c=code))])
        await LifeEvent.insert(LifeEvent(code=code, department=department["id"], created_at=now))
        return await save_draft(actor, code, content, base_lock_version=None, now=now)


async def submit(actor: Actor, code: str, *, change_note: str, now: datetime) -> dict[str, Any]:
    note = _text("change_note", change_note, _("请填写变更说明"))
    async with write_transaction():
        event = await store.event_row(code, lock=True)
        draft = await store.open_edition(event["id"])
        status = check(Action.submit, actor, store.subject(event, draft))
        await store.item_ids(store.content_of(draft))  # an item withdrawn since the draft was saved
        await LifeEventEdition.update(
            {
                LifeEventEdition.status: status.value,
                LifeEventEdition.change_note: note,
                LifeEventEdition.submitted_at: now,
                LifeEventEdition.send_back_reason: "",
            }
        ).where(LifeEventEdition.id == draft["id"])
        return await store.edition_row(draft["id"])


async def send_back(actor: Actor, code: str, *, reason: str, now: datetime) -> dict[str, Any]:
    reason = _text("reason", reason, _("请填写退回原因"))
    async with write_transaction():
        event = await store.event_row(code, lock=True)
        edition = await store.open_edition(event["id"])
        status = check(Action.send_back, actor, store.subject(event, edition))
        await LifeEventEdition.update(
            {
                LifeEventEdition.status: status.value,
                LifeEventEdition.send_back_reason: reason,
                LifeEventEdition.reviewer: actor.id,
                LifeEventEdition.updated_at: now,
            }
        ).where(LifeEventEdition.id == edition["id"])
        return await store.edition_row(edition["id"])


async def approve(actor: Actor, code: str, *, now: datetime, calendar: DeadlineCalendar) -> EventGuide:
    """Approve the edition in review (never by anyone who edited it) and publish it at once."""
    async with write_transaction():
        event = await store.event_row(code, lock=True)
        edition = await store.open_edition(event["id"])
        status = check(Action.approve, actor, store.subject(event, edition))
        await LifeEventEdition.update(
            {
                LifeEventEdition.status: status.value,
                LifeEventEdition.reviewer: actor.id,
                LifeEventEdition.approved_at: now,
                LifeEventEdition.publish_deadline: calendar.publish_deadline(now),
            }
        ).where(LifeEventEdition.id == edition["id"])
        return await publish(event, edition["id"], now=now)


async def publish(event: dict[str, Any], edition_id: int, *, now: datetime, seed: bool = False) -> EventGuide:
    """Snapshot the approved edition of the locked `event`, log it, and make it current."""
    edition = await store.edition_row(edition_id)
    status = check(Action.publish, SYSTEM, store.subject(event, edition))
    content = store.content_of(edition)
    before = await store.current_event(event)
    snapshot = with_members(
        EventGuide(
            code=event["code"],
            version=edition["version"],
            department=department_ref(event, "department."),
            published_at=now,
            content=content,
        ),
        await store.current_guides(list(content.items)),
    )
    text = snapshot.to_json().decode()
    fp = event_fingerprint(snapshot)
    claimed = (
        await LifeEventEdition.update(
            {
                LifeEventEdition.status: status.value,
                LifeEventEdition.snapshot: text,
                LifeEventEdition.fingerprint: fp,
                LifeEventEdition.published_at: now,
            }
        )
        .where(
            (LifeEventEdition.id == edition_id) & (LifeEventEdition.status == EditionStatus.approved.value)
        )
        .returning(LifeEventEdition.id)
    )
    if not claimed:
        raise TransitionError(_("该版本已发布。"))
    await LifeEventEdition.update({LifeEventEdition.status: EditionStatus.superseded.value}).where(
        (LifeEventEdition.event == event["id"])
        & (LifeEventEdition.status == EditionStatus.published.value)
        & (LifeEventEdition.id != edition_id)
    )
    await LifeEvent.update({LifeEvent.current_edition: edition_id}).where(LifeEvent.id == event["id"])
    people = [i for i in (edition["editor"], edition["reviewer"]) if i is not None]
    names = {
        u["id"]: u["username"]
        for u in await User.select(User.id, User.username).where(User.id.is_in(people or [-1]))
    }
    after_commit(invalidate)
    await changelog.append(
        item_id=None,
        item_code=event["code"],
        kind=(ChangeKind.new if before is None else ChangeKind.change).value,
        version_before=before.version if before else None,
        version_after=edition["version"],
        diff=_diff(before.content if before else None, content),
        summary=_("一件事《{name}》", name=content.name)
        + (_("：首次发布") if before is None else _("：内容更新")),
        change_note=edition["change_note"],
        editor="seed" if seed else names.get(edition["editor"], ""),
        reviewer="seed" if seed else names.get(edition["reviewer"], ""),
        approved_at=edition["approved_at"] or now,
        publish_deadline=edition["publish_deadline"] or now,
        published_at=now,
        effective_at=local_today(now),
        fingerprint=fp,
    )
    return snapshot


def _diff(before: EventContent | None, after: EventContent) -> list[dict[str, str]]:
    """What changed, in the change log's shape ({field, label, text}), labels from the declaration."""
    out = []
    for spec in fields_of(EventContent):
        old = getattr(before, spec.name) if before else None
        new = getattr(after, spec.name)
        if old == new:
            continue

        def show(value: Any) -> str:
            text = "、".join(value) if isinstance(value, tuple) else str(value)
            return text or "—"

        text = show(new) if before is None else _("{old} → {new}", old=show(old), new=show(new))
        out.append({"field": spec.name, "label": spec.title, "text": text})
    return out
