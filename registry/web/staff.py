"""Staff pages: my items, edit a draft, submit, review with a field diff, the publication board."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from guides import Guide
from guides.i18n import _
from registry import changes, worklists
from registry.content import ITEM_TYPES, content_from_mapping, item_code_error
from registry.diff import diff_guides
from registry.errors import FieldError, ValidationError
from registry.seeding import load_catalogue
from registry.snapshot import build_guide
from registry.web.auth import staff_guard
from registry.web.deps import calendar
from registry.web.forms import content_to_mapping, form_to_mapping

BLANK_ROWS = 2


def _now() -> datetime:
    return datetime.now(UTC)


async def _preview(code: str, content) -> Guide:
    """The guide `content` would publish as, for diffs (never stored)."""
    item = await changes.item_row(code)
    return build_guide(
        code=code,
        item_type=item["item_type"],
        department=changes.item_department(item),
        version=0,
        content=content,
        catalogue=await load_catalogue(),
        published_at=_now(),
    )


async def _edit_context(code: str, actor: changes.Actor, **extra: Any) -> dict[str, Any]:
    item = await changes.item_row(code)
    draft = await changes.open_edition(item["id"])
    if "values" not in extra:
        source = draft["id"] if draft else item["current_edition"]
        extra["values"] = content_to_mapping(await changes.edition_content(source)) if source else {}
        if not draft:
            # A new draft takes effect from today unless the editor proposes another date.
            extra["values"]["effective_at"] = date.today().isoformat()
    return {
        "code": code,
        "item": item,
        "draft": draft,
        "lock_version": draft["lock_version"] if draft else 0,
        "errors": {},
        "conflict": None,
        "blank_rows": BLANK_ROWS,
        "options": await worklists.catalogue_options(),
        "item_types": ITEM_TYPES,
        "can_edit": actor.can_edit(item["department.code"]),
        "today": date.today().isoformat(),
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
                "in_review": [r for r in rows if r.open_status == "in_review"],
            },
        )

    @get("/items/{code:str}", name="staff_edit")
    async def edit(self, request: Request, code: FromPath[str]) -> Template:
        context = await _edit_context(
            code,
            request.state.actor,
            material_error=request.query_params.get("material_error"),
            material_added=request.query_params.get("material_added"),
        )
        return Template("staff/edit.html", context=context)

    @post("/items/{code:str}", name="staff_save")
    async def save(self, request: Request, code: FromPath[str]) -> Template | Redirect:
        actor = request.state.actor
        form = await request.form()
        values = form_to_mapping(form)
        lock = int(form.get("lock_version") or 0) or None
        try:
            content = content_from_mapping(values, complete=False)
            await changes.save_draft(actor, code, content, base_lock_version=lock, now=_now())
        except ValidationError as exc:
            errors = {e.field: e.message for e in exc.errors}
            context = await _edit_context(code, actor, values=values, errors=errors)
            return Template("staff/edit.html", context=context, status_code=400)
        except changes.ConflictError as exc:
            theirs = await changes.edition_content(exc.current["id"])
            try:
                mine = content_from_mapping(values, complete=False)
                lines = [
                    c.line() for c in diff_guides(await _preview(code, theirs), await _preview(code, mine))
                ]
            except ValidationError:
                lines = []
            context = await _edit_context(
                code,
                actor,
                values=values,
                conflict={"by": exc.current["editor"], "lines": lines, "theirs": content_to_mapping(theirs)},
            )
            return Template("staff/edit.html", context=context, status_code=409)
        return Redirect(path=f"/staff/items/{code}?saved=1")

    @post("/items/{code:str}/submit", name="staff_submit")
    async def submit(self, request: Request, code: FromPath[str]) -> Template | Redirect:
        form = await request.form()
        try:
            effective = date.fromisoformat(form.get("effective_at")) if form.get("effective_at") else None
        except ValueError:
            effective = None
            bad = ValidationError([FieldError("effective_at", _("日期格式应为 YYYY-MM-DD"))])
            context = await _edit_context(
                code, request.state.actor, errors={"effective_at": bad.errors[0].message}
            )
            return Template("staff/edit.html", context=context, status_code=400)
        try:
            await changes.submit(
                request.state.actor,
                code,
                change_note=form.get("change_note") or "",
                effective_at=effective,
                now=_now(),
            )
        except ValidationError as exc:
            context = await _edit_context(
                code, request.state.actor, errors={e.field: e.message for e in exc.errors}
            )
            return Template("staff/edit.html", context=context, status_code=400)
        return Redirect(path="/staff")

    @post("/items/{code:str}/withdraw", name="staff_withdraw")
    async def withdraw(self, request: Request, code: FromPath[str]) -> Redirect:
        await changes.request_withdrawal(request.state.actor, code, now=_now())
        return Redirect(path=f"/staff/items/{code}")

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
            "effective_at": form.get("effective_at") or date.today().isoformat(),
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
                await changes.create_item(
                    request.state.actor,
                    code=code,
                    department_code=form.get("department") or "",
                    item_type=form.get("item_type") or "",
                    content=content,
                    now=_now(),
                )
                return Redirect(path=f"/staff/items/{code}")
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
        item = await changes.item_row(code)
        edition = await changes.open_edition(item["id"])
        before = await changes.current_guide(item["id"])
        after = await _preview(code, await changes.edition_content(edition["id"])) if edition else None
        return Template(
            "staff/review.html",
            context={
                "code": code,
                "item": item,
                "edition": edition,
                "before": before,
                "after": after,
                "changes": diff_guides(before, after) if after else [],
                "actor": request.state.actor,
            },
        )

    @post("/review/{code:str}/approve", name="staff_approve")
    async def approve(self, request: Request, code: FromPath[str]) -> Redirect:
        form = await request.form()
        raw = form.get("effective_at") or ""
        try:
            effective = date.fromisoformat(raw) if raw else None
        except ValueError as exc:
            raise ValidationError([FieldError("effective_at", _("日期格式应为 YYYY-MM-DD"))]) from exc
        await changes.approve(
            request.state.actor,
            code,
            effective_at=effective,
            hold=form.get("hold") == "true",
            now=_now(),
            calendar=calendar(),
        )
        return Redirect(path=f"/g/{code}" if form.get("hold") != "true" else "/staff/board")

    @post("/review/{code:str}/send-back", name="staff_send_back")
    async def send_back(self, request: Request, code: FromPath[str]) -> Redirect:
        form = await request.form()
        await changes.send_back(request.state.actor, code, reason=form.get("reason") or "", now=_now())
        return Redirect(path="/staff")

    @post("/review/{code:str}/publish", name="staff_publish")
    async def publish(self, request: Request, code: FromPath[str]) -> Redirect:
        await changes.publish_held(request.state.actor, code, now=_now())
        return Redirect(path="/staff/board")

    @get("/board", name="staff_board")
    async def board(self, request: Request) -> Template:
        now = _now()
        rows = await worklists.board()
        return Template(
            "staff/board.html",
            context={
                "rows": rows,
                "now": now,
                "actor": request.state.actor,
                "overdue": [r for r in rows if r.status == "approved" and r.overdue(now)],
                "warning": calendar().coverage_warning(now.date().replace(year=now.year + 1, month=1, day=1)),
            },
        )
