"""Write use-cases: draft, submit, send back, approve, publish, withdraw, activate.

Each public coroutine is one transaction (IMMEDIATE on SQLite) and takes `now`, so tests inject
the clock. Permissions are checked here, not in the web layer, so pages, the API and the CLI
enforce the same rules.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Protocol

from guides import DepartmentRef, Guide, canonical_json, fingerprint
from guides.i18n import _
from registry import changelog
from registry.content import EditionContent, content_rule_errors, item_code_error
from registry.db import write_transaction
from registry.diff import diff_guides, summarize
from registry.errors import DomainError, FieldError, NotFound, ValidationError
from registry.snapshot import Catalogue, build_guide, department_ref
from registry.tables import (
    ChangeKind,
    Citation,
    Department,
    Edition,
    EditionMaterial,
    EditionStatus,
    LegalDocument,
    Material,
    Role,
    ServiceItem,
)

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
OPEN = (EditionStatus.draft, EditionStatus.in_review, EditionStatus.approved)


def local_today(now: datetime) -> date:
    return now.astimezone(CHINA).date()


class PermissionDenied(DomainError):
    pass


class TransitionError(DomainError):
    pass


class ConflictError(DomainError):
    """The draft was saved by someone else since this editor loaded it."""

    def __init__(self, current_lock_version: int, current: dict[str, Any]) -> None:
        self.current_lock_version = current_lock_version
        self.current = current
        super().__init__(_("草稿已被他人修改（当前版本号 {v}），请核对后再保存。", v=current_lock_version))


class DeadlineCalendar(Protocol):
    def publish_deadline(self, approved_at: datetime) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Actor:
    id: int | None
    username: str
    role: str
    departments: frozenset[str] = frozenset()

    def can_edit(self, department_code: str) -> bool:
        return self.role == Role.admin or (self.role == Role.editor and department_code in self.departments)

    @property
    def can_review(self) -> bool:
        return self.role in (Role.reviewer, Role.admin)


SYSTEM = Actor(None, "system", Role.admin)


@dataclasses.dataclass(frozen=True, slots=True)
class RefIds:
    """Database ids of catalogue entries, by code."""

    materials: dict[str, int]
    documents: dict[str, int]


# ---- loading ----------------------------------------------------------------------------


async def ref_ids() -> RefIds:
    return RefIds(
        materials={r["code"]: r["id"] for r in await Material.select(Material.id, Material.code)},
        documents={
            r["code"]: r["id"] for r in await LegalDocument.select(LegalDocument.id, LegalDocument.code)
        },
    )


async def item_row(code: str) -> dict[str, Any]:
    row = (
        await ServiceItem.select(
            ServiceItem.id,
            ServiceItem.code,
            ServiceItem.item_type,
            ServiceItem.current_edition,
            ServiceItem.withdrawn,
            ServiceItem.department.id,
            ServiceItem.department.code,
            ServiceItem.department.name,
            ServiceItem.department.short_name,
            ServiceItem.department.level,
            ServiceItem.department.region,
        )
        .where(ServiceItem.code == code)
        .first()
    )
    if row is None:
        raise NotFound(_("没有找到编码为“{code}”的服务事项。", code=code))
    return row


def item_department(item: dict[str, Any]) -> DepartmentRef:
    return department_ref(item, "department.")


async def open_edition(item_id: int) -> dict[str, Any] | None:
    """The item's edition in the works (draft, in review or approved-and-held), if any."""
    return (
        await Edition.select()
        .where((Edition.item == item_id) & Edition.status.is_in([s.value for s in OPEN]))
        .first()
    )


async def edition_content(edition_id: int) -> EditionContent:
    """An edition's content as the domain type (from its rows)."""
    from guides import Faq, Fee, Step, Venue
    from registry.content import CitationRef, MaterialUse

    e = await Edition.select().where(Edition.id == edition_id).output(load_json=True).first()
    mats = (
        await EditionMaterial.select(
            EditionMaterial.material.code,
            EditionMaterial.form,
            EditionMaterial.copies,
            EditionMaterial.medium,
            EditionMaterial.required,
            EditionMaterial.condition,
            EditionMaterial.waivable,
            EditionMaterial.notes,
        )
        .where(EditionMaterial.edition == edition_id)
        .order_by(EditionMaterial.position)
    )
    cites = (
        await Citation.select(Citation.document.code, Citation.articles)
        .where(Citation.edition == edition_id)
        .order_by(Citation.position)
    )
    return EditionContent(
        name=e["name"],
        effective_at=e["effective_at"],
        summary=e["summary"],
        audience=tuple(e["audience"]),
        result=e["result"],
        conditions=e["conditions"],
        legal_basis=tuple(CitationRef(c["document.code"], c["articles"]) for c in cites),
        materials=tuple(
            MaterialUse(
                material=m["material.code"],
                form=m["form"],
                copies=m["copies"],
                medium=m["medium"],
                required=m["required"],
                condition=m["condition"],
                waivable=m["waivable"],
                notes=m["notes"],
            )
            for m in mats
        ),
        steps=tuple(Step(**s) for s in e["steps"]),
        statutory_days=e["statutory_days"],
        promised_days=e["promised_days"],
        fees=tuple(Fee(**f) for f in e["fees"]),
        venues=tuple(Venue(**v) for v in e["venues"]),
        consult_phone=e["consult_phone"],
        complaint_phone=e["complaint_phone"],
        trips=e["trips"],
        trips_reason=e["trips_reason"],
        online_depth=e["online_depth"],
        faq=tuple(Faq(**q) for q in e["faq"]),
    )


async def current_guide(item_id: int) -> Guide | None:
    item = await ServiceItem.select(ServiceItem.current_edition).where(ServiceItem.id == item_id).first()
    if not item or item["current_edition"] is None:
        return None
    row = await Edition.select(Edition.snapshot).where(Edition.id == item["current_edition"]).first()
    return Guide.from_json(row["snapshot"]) if row and row["snapshot"] else None


async def check_references(content: EditionContent) -> None:
    """Every material and legal document the content cites exists in the catalogue."""
    ids = await ref_ids()
    errors = [
        FieldError(f"materials[{i}].material", _("材料目录中没有“{v}”", v=m.material))
        for i, m in enumerate(content.materials)
        if m.material not in ids.materials
    ] + [
        FieldError(f"legal_basis[{i}].document", _("法律依据中没有“{v}”", v=c.document))
        for i, c in enumerate(content.legal_basis)
        if c.document not in ids.documents
    ]
    if errors:
        raise ValidationError(errors)


# ---- rows -------------------------------------------------------------------------------


def _content_columns(content: EditionContent) -> dict[Any, Any]:
    return {
        Edition.name: content.name,
        Edition.summary: content.summary,
        Edition.audience: list(content.audience),
        Edition.result: content.result,
        Edition.conditions: content.conditions,
        Edition.steps: [dataclasses.asdict(s) for s in content.steps],
        Edition.fees: [dataclasses.asdict(f) for f in content.fees],
        Edition.venues: [dataclasses.asdict(v) for v in content.venues],
        Edition.faq: [dataclasses.asdict(q) for q in content.faq],
        Edition.statutory_days: content.statutory_days,
        Edition.promised_days: content.promised_days,
        Edition.consult_phone: content.consult_phone,
        Edition.complaint_phone: content.complaint_phone,
        Edition.trips: content.trips,
        Edition.trips_reason: content.trips_reason,
        Edition.online_depth: content.online_depth,
        Edition.effective_at: content.effective_at,
    }


async def _write_references(edition_id: int, content: EditionContent, ids: RefIds) -> None:
    await EditionMaterial.delete().where(EditionMaterial.edition == edition_id)
    await Citation.delete().where(Citation.edition == edition_id)
    if content.materials:
        await EditionMaterial.insert(
            *(
                EditionMaterial(
                    edition=edition_id,
                    material=ids.materials[use.material],
                    position=i,
                    form=use.form,
                    copies=use.copies,
                    medium=use.medium,
                    required=use.required,
                    condition=use.condition,
                    waivable=use.waivable,
                    notes=use.notes,
                )
                for i, use in enumerate(content.materials)
            )
        )
    if content.legal_basis:
        await Citation.insert(
            *(
                Citation(
                    edition=edition_id,
                    document=ids.documents[ref.document],
                    position=i,
                    articles=ref.articles,
                )
                for i, ref in enumerate(content.legal_basis)
            )
        )


async def _insert_edition(
    *,
    item_id: int,
    version: int,
    status: EditionStatus,
    content: EditionContent,
    ids: RefIds,
    now: datetime,
    editor: int | None = None,
    change_note: str = "",
    withdraw: bool = False,
) -> int:
    row = Edition(
        item=item_id,
        version=version,
        status=status.value,
        change_note=change_note,
        created_at=now,
        updated_at=now,
        editor=editor,
        withdraw=withdraw,
    )
    for column, value in _content_columns(content).items():
        setattr(row, column._meta.name, value)
    (inserted,) = await Edition.insert(row).returning(Edition.id)
    await _write_references(inserted["id"], content, ids)
    return inserted["id"]


async def _next_version(item_id: int) -> int:
    rows = await Edition.select(Edition.version).where(Edition.item == item_id)
    return max((r["version"] for r in rows), default=0) + 1


# ---- publication (shared by seeding and the workflow) -------------------------------------


async def _publish(
    *,
    item: dict[str, Any],
    edition_id: int,
    version: int,
    content: EditionContent,
    catalogue: Catalogue,
    now: datetime,
    approved_at: datetime,
    deadline: datetime,
    editor: str,
    reviewer: str,
    change_note: str,
    withdraw: bool = False,
) -> Guide:
    """Snapshot the edition, log the change, and make it current (or schedule it)."""
    guide = build_guide(
        code=item["code"],
        item_type=item["item_type"],
        department=item_department(item),
        version=version,
        content=content,
        catalogue=catalogue,
        published_at=now,
    )
    fp = fingerprint(guide)
    before = await current_guide(item["id"])
    due_now = content.effective_at <= local_today(now)
    status = (
        (EditionStatus.withdrawn if withdraw else EditionStatus.published)
        if due_now
        else EditionStatus.scheduled
    )
    await Edition.update(
        {
            Edition.status: status.value,
            Edition.snapshot: canonical_json(guide).decode(),
            Edition.fingerprint: fp,
            Edition.published_at: now,
        }
    ).where(Edition.id == edition_id)
    if due_now:
        await _make_current(item["id"], edition_id, withdraw=withdraw)
    changes = diff_guides(before, guide)
    if withdraw:
        kind = ChangeKind.withdrawal
        summary = _("取消事项《{name}》", name=guide.name)
    else:
        kind = ChangeKind.new if before is None else ChangeKind.change
        summary = summarize(changes)
    await changelog.append(
        item_id=item["id"],
        item_code=item["code"],
        kind=kind.value,
        version_before=before.version if before else None,
        version_after=version,
        diff=[c.to_dict() for c in changes],
        summary=summary,
        change_note=change_note,
        editor=editor,
        reviewer=reviewer,
        approved_at=approved_at,
        publish_deadline=deadline,
        published_at=now,
        effective_at=content.effective_at,
        fingerprint=fp,
    )
    return guide


async def _make_current(item_id: int, edition_id: int, *, withdraw: bool = False) -> None:
    await Edition.update({Edition.status: EditionStatus.superseded.value}).where(
        (Edition.item == item_id)
        & (Edition.status == EditionStatus.published.value)
        & (Edition.id != edition_id)
    )
    values: dict[Any, Any] = {ServiceItem.current_edition: edition_id}
    if withdraw:
        values[ServiceItem.withdrawn] = True
    await ServiceItem.update(values).where(ServiceItem.id == item_id)


async def publish_new_item(
    *,
    code: str,
    item_type: str,
    department_id: int,
    department: DepartmentRef,
    content: EditionContent,
    catalogue: Catalogue,
    ids: RefIds,
    now: datetime,
) -> Guide:
    """Create an item whose first edition is published at once (seeding)."""
    (item,) = await ServiceItem.insert(
        ServiceItem(code=code, department=department_id, item_type=item_type, created_at=now)
    ).returning(ServiceItem.id)
    return await publish_edition(
        item_id=item["id"],
        code=code,
        item_type=item_type,
        department=department,
        version=1,
        content=content,
        catalogue=catalogue,
        ids=ids,
        now=now,
    )


async def publish_edition(
    *,
    item_id: int,
    code: str,
    item_type: str,
    department: DepartmentRef,
    version: int,
    content: EditionContent,
    catalogue: Catalogue,
    ids: RefIds,
    now: datetime,
    change_note: str = "",
) -> Guide:
    """Publish `content` as edition `version` at once, bypassing review (seed data only)."""
    edition_id = await _insert_edition(
        item_id=item_id,
        version=version,
        status=EditionStatus.approved,
        content=content,
        ids=ids,
        now=now,
        change_note=change_note,
    )
    item = {
        "id": item_id,
        "code": code,
        "item_type": item_type,
        "department.code": department.code,
        "department.name": department.name,
        "department.short_name": department.short_name,
        "department.level": department.level,
        "department.region": department.region,
    }
    await Edition.update({Edition.approved_at: now, Edition.publish_deadline: now}).where(
        Edition.id == edition_id
    )
    return await _publish(
        item=item,
        edition_id=edition_id,
        version=version,
        content=content,
        catalogue=catalogue,
        now=now,
        approved_at=now,
        deadline=now,
        editor="seed",
        reviewer="seed",
        change_note=change_note or _("初始数据导入"),
    )


# ---- the workflow -----------------------------------------------------------------------


def _require_edit(actor: Actor, item: dict[str, Any]) -> None:
    if not actor.can_edit(item["department.code"]):
        raise PermissionDenied(_("您无权编辑“{dept}”的事项。", dept=item["department.name"]))


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
    await check_references(content)
    async with write_transaction():
        item = await item_row(code)
        _require_edit(actor, item)
        if item["withdrawn"]:
            raise TransitionError(_("事项已取消，不能再修改。"))
        ids = await ref_ids()
        draft = await open_edition(item["id"])
        if draft is None:
            if base_lock_version not in (None, 0):
                raise ConflictError(0, {})
            edition_id = await _insert_edition(
                item_id=item["id"],
                version=await _next_version(item["id"]),
                status=EditionStatus.draft,
                content=content,
                ids=ids,
                now=now,
                editor=actor.id,
            )
        else:
            if draft["status"] != EditionStatus.draft.value:
                raise TransitionError(_("该版本已提交审核，审核退回后才能修改。"))
            if draft["lock_version"] != base_lock_version:
                raise ConflictError(draft["lock_version"], draft)
            updated = (
                await Edition.update(
                    {
                        **_content_columns(content),
                        Edition.lock_version: Edition.lock_version + 1,
                        Edition.updated_at: now,
                        Edition.editor: actor.id,
                    }
                )
                .where((Edition.id == draft["id"]) & (Edition.lock_version == base_lock_version))
                .returning(Edition.id)
            )
            if not updated:
                raise ConflictError(draft["lock_version"], draft)
            edition_id = draft["id"]
            await _write_references(edition_id, content, ids)
        return await Edition.select().where(Edition.id == edition_id).first()


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
    from registry.content import ITEM_TYPES

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
        if await ServiceItem.exists().where(ServiceItem.code == code):
            raise ValidationError([FieldError("code", _("事项编码“{c}”已被使用，编码不可重复使用", c=code))])
        await ServiceItem.insert(
            ServiceItem(code=code, department=department["id"], item_type=item_type, created_at=now)
        )
        return await save_draft(actor, code, content, base_lock_version=None, now=now)


async def request_withdrawal(actor: Actor, code: str, *, now: datetime) -> dict[str, Any]:
    """Start a withdrawal: a draft that, once approved and published, withdraws the item."""
    async with write_transaction():
        item = await item_row(code)
        _require_edit(actor, item)
        if item["withdrawn"] or item["current_edition"] is None:
            raise TransitionError(_("只有正在办理的事项才能申请取消。"))
        if await open_edition(item["id"]) is not None:
            raise TransitionError(_("该事项已有未完成的版本，请先处理。"))
        content = await edition_content(item["current_edition"])
        edition_id = await _insert_edition(
            item_id=item["id"],
            version=await _next_version(item["id"]),
            status=EditionStatus.draft,
            content=dataclasses.replace(content, effective_at=local_today(now)),
            ids=await ref_ids(),
            now=now,
            editor=actor.id,
            withdraw=True,
        )
        return await Edition.select().where(Edition.id == edition_id).first()


async def submit(
    actor: Actor, code: str, *, change_note: str, effective_at: date | None, now: datetime
) -> dict[str, Any]:
    note = (change_note or "").strip()
    if not note:
        raise ValidationError([FieldError("change_note", _("请填写变更说明"))])
    if len(note) > 2000:
        raise ValidationError([FieldError("change_note", _("过长（最多 {n} 字）", n=2000))])
    async with write_transaction():
        item = await item_row(code)
        _require_edit(actor, item)
        draft = await open_edition(item["id"])
        if draft is None or draft["status"] != EditionStatus.draft.value:
            raise TransitionError(_("没有可提交的草稿。"))
        errors = content_rule_errors(await edition_content(draft["id"]), complete=True)
        if errors:
            raise ValidationError(errors)
        values: dict[Any, Any] = {
            Edition.status: EditionStatus.in_review.value,
            Edition.change_note: note,
            Edition.submitted_at: now,
            Edition.send_back_reason: "",
        }
        if effective_at is not None:
            values[Edition.effective_at] = effective_at
        await Edition.update(values).where(Edition.id == draft["id"])
        return await Edition.select().where(Edition.id == draft["id"]).first()


async def send_back(actor: Actor, code: str, *, reason: str, now: datetime) -> dict[str, Any]:
    if not actor.can_review:
        raise PermissionDenied(_("只有审核人员可以退回。"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError([FieldError("reason", _("请填写退回原因"))])
    async with write_transaction():
        item = await item_row(code)
        edition = await open_edition(item["id"])
        if edition is None or edition["status"] != EditionStatus.in_review.value:
            raise TransitionError(_("没有待审核的版本。"))
        await Edition.update(
            {
                Edition.status: EditionStatus.draft.value,
                Edition.send_back_reason: reason,
                Edition.reviewer: actor.id,
                Edition.updated_at: now,
            }
        ).where(Edition.id == edition["id"])
        return await Edition.select().where(Edition.id == edition["id"]).first()


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
    if not actor.can_review:
        raise PermissionDenied(_("只有审核人员可以批准。"))
    async with write_transaction():
        item = await item_row(code)
        edition = await open_edition(item["id"])
        if edition is None or edition["status"] != EditionStatus.in_review.value:
            raise TransitionError(_("没有待审核的版本。"))
        if edition["editor"] is not None and edition["editor"] == actor.id:
            raise PermissionDenied(_("不能审核自己编辑的版本（双人复核）。"))
        deadline = calendar.publish_deadline(now)
        values: dict[Any, Any] = {
            Edition.status: EditionStatus.approved.value,
            Edition.reviewer: actor.id,
            Edition.approved_at: now,
            Edition.publish_deadline: deadline,
            Edition.held: hold,
        }
        if effective_at is not None:
            values[Edition.effective_at] = effective_at
        await Edition.update(values).where(Edition.id == edition["id"])
        if not hold:
            await _publish_approved(edition["id"], now=now)
        return await Edition.select().where(Edition.id == edition["id"]).first()


async def _publish_approved(edition_id: int, *, now: datetime) -> Guide:
    from registry.seeding import load_catalogue
    from registry.tables import User

    e = await Edition.select().where(Edition.id == edition_id).first()
    item = await item_row(
        (await ServiceItem.select(ServiceItem.code).where(ServiceItem.id == e["item"]).first())["code"]
    )
    names = {
        u["id"]: u["username"]
        for u in await User.select(User.id, User.username).where(
            User.id.is_in([i for i in (e["editor"], e["reviewer"]) if i is not None] or [-1])
        )
    }
    return await _publish(
        item=item,
        edition_id=edition_id,
        version=e["version"],
        content=await edition_content(edition_id),
        catalogue=await load_catalogue(),
        now=now,
        approved_at=e["approved_at"],
        deadline=e["publish_deadline"],
        editor=names.get(e["editor"], ""),
        reviewer=names.get(e["reviewer"], ""),
        change_note=e["change_note"],
        withdraw=e["withdraw"],
    )


async def publish_held(actor: Actor, code: str, *, now: datetime) -> Guide:
    """Release a held (or failed) publication."""
    if not actor.can_review:
        raise PermissionDenied(_("只有审核人员可以发布。"))
    async with write_transaction():
        item = await item_row(code)
        edition = await open_edition(item["id"])
        if edition is None or edition["status"] != EditionStatus.approved.value:
            raise TransitionError(_("没有待发布的版本。"))
        await Edition.update({Edition.held: False}).where(Edition.id == edition["id"])
        return await _publish_approved(edition["id"], now=now)


@dataclass(frozen=True, slots=True)
class DueReport:
    published: list[str]
    activated: list[str]


async def publish_due(*, now: datetime) -> DueReport:
    """What cron runs every minute: publish approved editions not held, and make scheduled
    editions current once their effective date has come. Safe to run concurrently and often."""
    published, activated = [], []
    async with write_transaction():
        for e in await Edition.select(Edition.id, Edition.item.code).where(
            (Edition.status == EditionStatus.approved.value) & (Edition.held == False)  # noqa: E712
        ):
            await _publish_approved(e["id"], now=now)
            published.append(e["item.code"])
        today = local_today(now)
        for e in (
            await Edition.select(Edition.id, Edition.item, Edition.item.code, Edition.withdraw)
            .where((Edition.status == EditionStatus.scheduled.value) & (Edition.effective_at <= today))
            .order_by(Edition.version)
        ):
            status = EditionStatus.withdrawn if e["withdraw"] else EditionStatus.published
            await Edition.update({Edition.status: status.value}).where(Edition.id == e["id"])
            await _make_current(e["item"], e["id"], withdraw=e["withdraw"])
            activated.append(e["item.code"])
    return DueReport(published, activated)
