"""Staff pages: my items, edit a draft, submit, review with a field diff, the publication board."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from guides import Guide
from guides.i18n import _
from guides.urls import Urls
from registry import attachments, catalogue, checks, quality, worklists
from registry.access import Actor, PermissionDenied
from registry.db import write_transaction
from registry.diff import diff_guides
from registry.editions import commands, store, workflow
from registry.editions.schema import CONTENT_FIELDS, content_from_mapping, item_code_error
from registry.errors import FieldError, ValidationError
from registry.inputs import Invalid, parse_date, parse_int
from registry.snapshot import build_guide
from registry.vocab import ITEM_TYPES, EditionStatus, local_today
from registry.web.auth import staff_guard
from registry.web.deps import calendar, now
from registry.web.forms import content_to_mapping, form_to_mapping, read_uploads
from registry.web.upkeep import quality_summary

BLANK_ROWS = 2


def _form_date(form: Any, name: str) -> Any:
    """An optional date field of a form: None when empty, a 400 naming the field when bad."""
    raw = form.get(name) or ""
    if not raw:
        return None
    try:
        return parse_date(raw)
    except Invalid as exc:
        raise ValidationError([FieldError(name, exc.message)]) from exc


async def _preview(code: str, content: Any, moment: datetime) -> Guide:
    """The guide `content` would publish as, for diffs (never stored)."""
    item = await store.item_row(code)
    return build_guide(
        code=code,
        item_type=item["item_type"],
        department=store.item_department(item),
        version=0,
        content=content,
        catalogue=await store.load_catalogue(),
        published_at=moment,
    )


def _may_see_drafts(actor: Actor, item: dict[str, Any]) -> None:
    """Unpublished drafts are for their department's editors and for reviewers."""
    if not (actor.can_review or actor.can_edit(item["department.code"])):
        raise PermissionDenied(_("您无权查看“{dept}”未公开的草稿。", dept=item["department.name"]))


async def _edit_context(request: Request, code: str, actor: Actor, **extra: Any) -> dict[str, Any]:
    item = await store.item_row(code)
    _may_see_drafts(actor, item)
    draft = await store.open_edition(item["id"])
    today = local_today(now(request)).isoformat()
    if "values" not in extra:
        source = draft["id"] if draft else item["current_edition"]
        content = await store.edition_content(source) if source else None
        if content is not None:
            # Catalogue entries merged since: the next edition uses the entry they were merged into.
            content = catalogue.follow_merges(content, await catalogue.merged_codes())
        extra["values"] = content_to_mapping(content) if content is not None else {}
        if not draft:
            # A new draft takes effect from today (Beijing) unless the editor proposes another date.
            extra["values"]["effective_at"] = today
    stored = draft["id"] if draft else item["current_edition"]
    findings = []
    if stored:
        # The named checks on what is stored: errors refuse submission, warnings are advice.
        context = checks.Context(item_type=item["item_type"], gov_issued=await quality.gov_issued_codes())
        findings = checks.run(await store.edition_content(stored), context)
    return {
        "code": code,
        "item": item,
        "draft": draft,
        "findings": findings,
        "lock_version": draft["lock_version"] if draft else 0,
        "errors": {},
        "conflict": None,
        "blank_rows": BLANK_ROWS,
        "options": await worklists.catalogue_options(),
        "item_types": ITEM_TYPES,
        "fields": CONTENT_FIELDS,
        "actions": workflow.available(actor, store.subject(item, draft)),
        "Action": workflow.Action,
        "can_edit": actor.can_edit(item["department.code"]),
        "today": today,
        "actor": actor,
        "material_error": None,
        "material_added": None,
        **extra,
    }


class StaffController(Controller):
    path = "/staff"
    guards = [staff_guard]  # noqa: RUF012
    include_in_schema = False

    @get("/", name="staff_home")
    async def home(self, request: Request) -> Template:
        actor = request.state.actor
        rows = await worklists.staff_items(actor)
        return Template(
            "staff/home.html",
            context={
                "actor": actor,
                "rows": rows,
                "in_review": [r for r in rows if r.open_status == EditionStatus.in_review],
            },
        )

    @get("/items/{code:str}", name="staff_edit")
    async def edit(self, request: Request, code: FromPath[str]) -> Template:
        context = await _edit_context(
            request,
            code,
            request.state.actor,
            material_error=request.query_params.get("material_error"),
            material_added=request.query_params.get("material_added"),
        )
        return Template("staff/edit.html", context=context)

    @post("/items/{code:str}", name="staff_save")
    async def save(self, request: Request, code: FromPath[str]) -> Template | Redirect:
        actor = request.state.actor
        item = await store.item_row(code)
        if not actor.can_edit(item["department.code"]):  # refused before the content is looked at
            raise PermissionDenied(_("您无权编辑“{dept}”的事项。", dept=item["department.name"]))
        form = await request.form()
        uploads, upload_errors = await read_uploads(form)
        values = form_to_mapping(form, {k: msgspec.to_builtins(a) for k, (a, _data) in uploads.items()})
        moment = now(request)
        try:
            lock = parse_int(form.get("lock_version") or "0", lo=0, hi=2**31 - 1) or None
        except Invalid as exc:
            raise ValidationError([FieldError("lock_version", exc.message)]) from exc
        try:
            content = content_from_mapping(values, complete=False)
            if upload_errors:
                raise ValidationError([FieldError(p, m) for p, m in upload_errors.items()])
            # The files are kept in the draft's own transaction: a refused draft stores no bytes.
            async with write_transaction():
                for _record, data in uploads.values():
                    await attachments.store(data, now=moment)
                await commands.save_draft(actor, code, content, base_lock_version=lock, now=moment)
        except ValidationError as exc:
            errors = {**{e.field: e.message for e in exc.errors}, **upload_errors}
            # The form shows the files it had: a file chosen now was not kept.
            context = await _edit_context(
                request, code, actor, values=form_to_mapping(form), errors=errors, files_lost=bool(uploads)
            )
            return Template("staff/edit.html", context=context, status_code=400)
        except commands.ConflictError as exc:
            theirs = await store.edition_content(exc.current["id"])
            try:
                mine = content_from_mapping(values, complete=False)
                lines = [
                    c.line()
                    for c in diff_guides(
                        await _preview(code, theirs, moment), await _preview(code, mine, moment)
                    )
                ]
            except ValidationError:
                lines = []
            context = await _edit_context(
                request,
                code,
                actor,
                values=form_to_mapping(form),  # a file chosen now was not kept
                conflict={"by": exc.current["editor"], "lines": lines, "theirs": content_to_mapping(theirs)},
            )
            return Template("staff/edit.html", context=context, status_code=409)
        return Redirect(path=request.app.route_reverse("staff_edit", code=code), query_params={"saved": "1"})

    @post("/items/{code:str}/submit", name="staff_submit")
    async def submit(self, request: Request, code: FromPath[str]) -> Template | Redirect:
        form = await request.form()
        try:
            await commands.submit(
                request.state.actor,
                code,
                change_note=form.get("change_note") or "",
                effective_at=_form_date(form, "effective_at"),
                now=now(request),
            )
        except ValidationError as exc:
            context = await _edit_context(
                request, code, request.state.actor, errors={e.field: e.message for e in exc.errors}
            )
            return Template("staff/edit.html", context=context, status_code=400)
        return Redirect(path=request.app.route_reverse("staff_home"))

    @post("/items/{code:str}/withdraw", name="staff_withdraw")
    async def withdraw(self, request: Request, code: FromPath[str]) -> Redirect:
        await commands.request_withdrawal(request.state.actor, code, now=now(request))
        return Redirect(path=request.app.route_reverse("staff_edit", code=code))

    @get("/new", name="staff_new")
    async def new_form(self, request: Request) -> Template:
        return Template(
            "staff/new.html",
            context={
                "options": await worklists.catalogue_options(),
                "item_types": ITEM_TYPES,
                "errors": {},
                "values": {},
                "actor": request.state.actor,
            },
        )

    @post("/new", name="staff_create")
    async def create(self, request: Request) -> Template | Redirect:
        form = await request.form()
        code = (form.get("code") or "").strip()
        values = {
            "name": (form.get("name") or "").strip(),
            "effective_at": form.get("effective_at") or local_today(now(request)).isoformat(),
            "trips": "1",
            "statutory_days": "0",
            "promised_days": "0",
        }
        errors: dict[str, str] = {}
        if (message := item_code_error(code)) is not None:
            errors["code"] = message
        try:
            content = content_from_mapping(values, complete=False)
        except ValidationError as exc:
            errors.update({e.field: e.message for e in exc.errors})
            content = None
        if not errors and content is not None:
            try:
                # A new item starts as an incomplete draft; submission requires the rest.
                await commands.create_item(
                    request.state.actor,
                    code=code,
                    department_code=form.get("department") or "",
                    item_type=form.get("item_type") or "",
                    content=content,
                    now=now(request),
                )
                return Redirect(path=request.app.route_reverse("staff_edit", code=code))
            except ValidationError as exc:
                errors.update({e.field: e.message for e in exc.errors})
        return Template(
            "staff/new.html",
            context={
                "options": await worklists.catalogue_options(),
                "item_types": ITEM_TYPES,
                "actor": request.state.actor,
                "errors": errors,
                "values": {
                    **values,
                    "code": code,
                    "department": form.get("department"),
                    "item_type": form.get("item_type"),
                },
            },
            status_code=400,
        )

    @get("/review/{code:str}", name="staff_review")
    async def review(self, request: Request, code: FromPath[str]) -> Template:
        item = await store.item_row(code)
        _may_see_drafts(request.state.actor, item)
        edition = await store.open_edition(item["id"])
        before = await store.current_guide(item["id"])
        after = await _preview(code, store.content_of(edition), now(request)) if edition else None
        actor = request.state.actor
        return Template(
            "staff/review.html",
            context={
                "code": code,
                "item": item,
                "edition": edition,
                "before": before,
                "after": after,
                "changes": diff_guides(before, after) if after else [],
                "actor": actor,
                "actions": workflow.available(actor, store.subject(item, edition)),
                "approve_refused": workflow.refusal(
                    workflow.Action.approve, actor, store.subject(item, edition)
                ),
                "Action": workflow.Action,
            },
        )

    @post("/review/{code:str}/approve", name="staff_approve")
    async def approve(self, request: Request, code: FromPath[str], urls: NamedDependency[Urls]) -> Redirect:
        form = await request.form()
        hold = form.get("hold") == "true"
        await commands.approve(
            request.state.actor,
            code,
            effective_at=_form_date(form, "effective_at"),
            hold=hold,
            now=now(request),
            calendar=calendar(),
        )
        return Redirect(path=request.app.route_reverse("staff_board") if hold else urls.guide(code))

    @post("/review/{code:str}/send-back", name="staff_send_back")
    async def send_back(self, request: Request, code: FromPath[str]) -> Redirect:
        form = await request.form()
        await commands.send_back(request.state.actor, code, reason=form.get("reason") or "", now=now(request))
        return Redirect(path=request.app.route_reverse("staff_home"))

    @post("/review/{code:str}/publish", name="staff_publish")
    async def publish(self, request: Request, code: FromPath[str]) -> Redirect:
        await commands.publish_held(request.state.actor, code, now=now(request))
        return Redirect(path=request.app.route_reverse("staff_board"))

    @get("/board", name="staff_board")
    async def board(self, request: Request) -> Template:
        moment = now(request)
        next_year = local_today(moment).year + 1
        rows = await worklists.board()
        report = await quality_summary(request)
        return Template(
            "staff/board.html",
            context={
                "rows": rows,
                "now": moment,
                "actor": request.state.actor,
                "overdue": [r for r in rows if r.status == EditionStatus.approved and r.overdue(moment)],
                "warning": calendar().coverage_warning(date(next_year, 1, 1)),
                "report": report,
                "per_department": report.per_department,
            },
        )
