"""Life events (一件事) on the web: the public page, print, QR codes and JSON under `/e/{code}`,
and the staff pages to list, edit, submit and review bundles (forms without JavaScript, CSRF)."""

from __future__ import annotations

import re
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from markupsafe import Markup

from guides.events import EventContent, MergedEvent, event_canonical_json
from guides.i18n import _
from guides.qr import qr_png, qr_svg
from guides.urls import Urls
from registry.access import Actor, PermissionDenied
from registry.editions import workflow
from registry.errors import FieldError, ValidationError
from registry.events import commands, reads, store
from registry.inputs import Invalid, fields_of, parse_int
from registry.reads.public import PublicReads
from registry.tables import Department, LifeEvent, LifeEventEdition, ServiceItem
from registry.vocab import AUDIENCES, OPEN_STATUSES, EditionStatus
from registry.web.auth import staff_guard
from registry.web.deps import calendar, now
from registry.web.rendering import A_WHILE, FOREVER, cached_response, etag_for, render
from registry.web.security import allow_inline_styles

_LIST_SPLIT = re.compile(r"[\s,，、;；]+")


async def published(reads_: PublicReads) -> dict[str, MergedEvent]:
    return await reads.cached(reads_)


async def matching_events(reads_: PublicReads, params: Any) -> list[MergedEvent]:
    """The search page's hook: bundles whose name or keywords match the query (first page only)."""
    if not params.q or params.page != 1:
        return []
    return reads.matching(await published(reads_), params.q)


async def _event(reads_: PublicReads, code: str) -> MergedEvent:
    found = (await published(reads_)).get(code)
    if found is None:
        raise NotFoundException(_("没有找到编码为“{code}”的一件事。", code=code))
    return found


class EventController(Controller):
    include_in_schema = False
    path = "/e"

    @get("/", name="events")
    async def index(self, request: Request, reads: NamedDependency[PublicReads]) -> Response[bytes]:
        async def page() -> bytes:
            return render(request, "events/list.html", {"events": list((await published(reads)).values())})

        head = await reads.head()
        stored = await reads.compressed_page("events", page)
        return cached_response(request, stored.body, etag=etag_for("events", repr(head)), gzipped=True)

    @get("/{code:str}", name="event")
    async def page(
        self, request: Request, reads: NamedDependency[PublicReads], code: FromPath[str]
    ) -> Response:
        ev = await _event(reads, code)
        key = ("event", ev.fingerprint)
        body = reads.documents.get(key) or reads.documents.put(
            key, render(request, "events/event.html", {"ev": ev})
        )
        headers = {"X-Content-Fingerprint": ev.fingerprint, "Cache-Control": "public, max-age=60"}
        return cached_response(request, body, etag=etag_for(*key), headers=headers)

    @get("/{code:str}/print", name="event_print")
    async def print_page(
        self,
        request: Request,
        reads: NamedDependency[PublicReads],
        urls: NamedDependency[Urls],
        code: FromPath[str],
    ) -> Response:
        ev = await _event(reads, code)
        key = ("event-print", ev.fingerprint)
        body = reads.documents.get(key)
        if body is None:
            svg = qr_svg(urls.event_absolute(code)).decode("utf-8")
            qr = Markup(svg.replace("<svg ", '<svg class="qr" role="img" aria-hidden="true" ', 1))
            body = reads.documents.put(key, render(request, "events/print.html", {"ev": ev, "qr": qr}))
        allow_inline_styles(request.scope, body)
        headers = {"X-Content-Fingerprint": ev.fingerprint, "Cache-Control": A_WHILE}
        return cached_response(request, body, etag=etag_for(*key), headers=headers)

    @get("/{code:str}/event.json", name="event_json")
    async def json(
        self, request: Request, reads: NamedDependency[PublicReads], code: FromPath[str]
    ) -> Response:
        """The canonical snapshot — the exact bytes the fingerprint hashes (the bundle's content
        and its items' current fingerprints) — so anyone can recompute the fingerprint."""
        ev = await _event(reads, code)
        body = event_canonical_json(ev.event)
        headers = {"X-Content-Fingerprint": ev.fingerprint, "Cache-Control": A_WHILE}
        return cached_response(
            request, body, etag=f'"{ev.fingerprint}"', media_type="application/json", headers=headers
        )

    @get("/{code:str}/qr.svg", name="event_qr_svg")
    async def qr_svg(
        self,
        request: Request,
        reads: NamedDependency[PublicReads],
        urls: NamedDependency[Urls],
        code: FromPath[str],
    ) -> Response:
        await _event(reads, code)
        body = qr_svg(urls.event_absolute(code))
        return cached_response(
            request,
            body,
            etag=etag_for("qr", code),
            media_type="image/svg+xml",
            headers={"Cache-Control": FOREVER},
        )

    @get("/{code:str}/qr.png", name="event_qr_png")
    async def qr_png(
        self,
        request: Request,
        reads: NamedDependency[PublicReads],
        urls: NamedDependency[Urls],
        code: FromPath[str],
    ) -> Response:
        await _event(reads, code)
        body = qr_png(urls.event_absolute(code))
        return cached_response(
            request,
            body,
            etag=etag_for("qr-png", code),
            media_type="image/png",
            headers={"Cache-Control": FOREVER},
        )


# ---- staff ---------------------------------------------------------------------------------


def form_to_mapping(form: Any) -> dict[str, Any]:
    """The edit form as the mapping `commands.content_from_mapping` reads: item codes one per
    line (in order), keywords separated by 、 or spaces."""
    return {
        "name": form.get("name") or "",
        "audience": [a for a in form.getall("audience", []) if a],
        "description": form.get("description") or "",
        "keywords": [k for k in _LIST_SPLIT.split(form.get("keywords") or "") if k],
        "items": [c.strip().upper() for c in _LIST_SPLIT.split(form.get("items") or "") if c.strip()],
        "trips": form.get("trips") or "0",
        "trips_reason": form.get("trips_reason") or "",
        "promised_days": form.get("promised_days") or "0",
    }


def _values(content: Any) -> dict[str, Any]:
    return {
        "name": content.name,
        "audience": list(content.audience),
        "description": content.description,
        "keywords": "、".join(content.keywords),
        "items": "\n".join(content.items),
        "trips": content.trips,
        "trips_reason": content.trips_reason,
        "promised_days": content.promised_days,
    }


async def _item_choices() -> list[dict[str, Any]]:
    """Published items to pick from (code and name), in code order."""
    return await (
        ServiceItem.select(ServiceItem.code, ServiceItem.current_edition)
        .where((ServiceItem.withdrawn == False) & ServiceItem.current_edition.is_not_null())  # noqa: E712
        .order_by(ServiceItem.code)
    )


async def _names(codes: list[str]) -> dict[str, str]:
    from registry.tables import Edition

    rows = await Edition.select(Edition.item.code, Edition.name).where(
        Edition.item.code.is_in(codes or [""]) & (Edition.status == EditionStatus.published.value)
    )
    return {r["item.code"]: r["name"] for r in rows}


def _may_see_drafts(actor: Actor, event: dict[str, Any]) -> None:
    """Unpublished drafts are for the lead department's editors and for reviewers (as items')."""
    if not (actor.can_review or actor.can_edit(event["department.code"])):
        raise PermissionDenied(_("您无权查看“{dept}”未公开的草稿。", dept=event["department.name"]))


async def _edit_context(actor: Actor, code: str, **extra: Any) -> dict[str, Any]:
    event = await store.event_row(code)
    _may_see_drafts(actor, event)
    draft = await store.open_edition(event["id"])
    if "values" not in extra:
        source = draft or (
            await store.edition_row(event["current_edition"]) if event["current_edition"] else None
        )
        extra["values"] = _values(store.content_of(source)) if source else {}
    choices = await _item_choices()
    names = await _names([c["code"] for c in choices])
    return {
        "code": code,
        "event": event,
        "draft": draft,
        "lock_version": draft["lock_version"] if draft else 0,
        "errors": {},
        "audiences": AUDIENCES,
        "fields": fields_of(EventContent),
        "choices": [(c["code"], names.get(c["code"], "")) for c in choices],
        "actions": workflow.available(actor, store.subject(event, draft)),
        "Action": workflow.Action,
        "can_edit": actor.can_edit(event["department.code"]),
        "actor": actor,
        **extra,
    }


def _lock(form: Any) -> int | None:
    try:
        return parse_int(form.get("lock_version") or "0", lo=0, hi=2**31 - 1) or None
    except Invalid as exc:
        raise ValidationError([FieldError("lock_version", exc.message)]) from exc


async def _list_context(actor: Actor) -> dict[str, Any]:
    rows = await LifeEvent.select(
        LifeEvent.code, LifeEvent.current_edition, LifeEvent.department.code, LifeEvent.department.short_name
    ).order_by(LifeEvent.code)
    open_rows = {
        r["event.code"]: r
        for r in await LifeEventEdition.select(
            LifeEventEdition.event.code,
            LifeEventEdition.status,
            LifeEventEdition.name,
            LifeEventEdition.version,
        ).where(LifeEventEdition.status.is_in([s.value for s in OPEN_STATUSES]))
    }
    names = {
        r["event.code"]: r["name"]
        for r in await LifeEventEdition.select(LifeEventEdition.event.code, LifeEventEdition.name).where(
            LifeEventEdition.id == LifeEventEdition.event.current_edition
        )
    }
    departments = await Department.select(Department.code, Department.short_name).order_by(
        Department.position
    )
    return {
        "actor": actor,
        "rows": rows,
        "open": open_rows,
        "names": names,
        "departments": [d for d in departments if actor.can_edit(d["code"])],
        "audiences": AUDIENCES,
        "fields": fields_of(EventContent),
        "errors": {},
        "values": {},
    }


class StaffEventController(Controller):
    path = "/staff/events"
    guards = [staff_guard]  # noqa: RUF012
    include_in_schema = False

    @get("/", name="staff_events")
    async def index(self, request: Request) -> Template:
        return Template("events/staff_list.html", context=await _list_context(request.state.actor))

    @post("/", name="staff_event_create")
    async def create(self, request: Request) -> Template | Redirect:
        actor = request.state.actor
        form = await request.form()
        code = (form.get("code") or "").strip().upper()
        try:
            content = commands.content_from_mapping(form_to_mapping(form))
            await commands.create_event(
                actor,
                code=code,
                department_code=form.get("department") or "",
                content=content,
                now=now(request),
            )
        except ValidationError as exc:
            context = await _list_context(actor)
            context["values"] = {**form_to_mapping(form), "code": code, "department": form.get("department")}
            return _invalid("events/staff_list.html", context, exc)
        return Redirect(path=f"/staff/events/{code}", status_code=303)

    @get("/{code:str}", name="staff_event_edit")
    async def edit(self, request: Request, code: FromPath[str]) -> Template:
        return Template("events/staff_edit.html", context=await _edit_context(request.state.actor, code))

    @post("/{code:str}", name="staff_event_save")
    async def save(self, request: Request, code: FromPath[str]) -> Template | Redirect:
        actor = request.state.actor
        event = await store.event_row(code)
        if not actor.can_edit(event["department.code"]):
            raise PermissionDenied(_("您无权编辑该部门的一件事。"))
        form = await request.form()
        lock = _lock(form)
        try:
            content = commands.content_from_mapping(form_to_mapping(form))
            await commands.save_draft(actor, code, content, base_lock_version=lock, now=now(request))
        except ValidationError as exc:
            values = {**form_to_mapping(form)}
            values["items"] = "\n".join(values["items"])
            values["keywords"] = "、".join(values["keywords"])
            return _invalid("events/staff_edit.html", await _edit_context(actor, code, values=values), exc)
        return Redirect(path=f"/staff/events/{code}", status_code=303)

    @post("/{code:str}/submit", name="staff_event_submit")
    async def submit(self, request: Request, code: FromPath[str]) -> Redirect:
        form = await request.form()
        await commands.submit(
            request.state.actor, code, change_note=form.get("change_note") or "", now=now(request)
        )
        return Redirect(path=f"/staff/events/{code}", status_code=303)

    @get("/{code:str}/review", name="staff_event_review")
    async def review(self, request: Request, code: FromPath[str]) -> Template:
        actor = request.state.actor
        event = await store.event_row(code)
        _may_see_drafts(actor, event)
        edition = await store.open_edition(event["id"])
        before = await store.current_event(event)
        after = store.content_of(edition) if edition else None
        refusal = workflow.refusal(workflow.Action.approve, actor, store.subject(event, edition))
        return Template(
            "events/staff_review.html",
            context={
                "actor": actor,
                "code": code,
                "event": event,
                "edition": edition,
                "before": before.content if before else None,
                "after": after,
                "changes": commands._diff(before.content if before else None, after) if after else [],
                "names": await _names(list(after.items) if after else []),
                "actions": workflow.available(actor, store.subject(event, edition)),
                "Action": workflow.Action,
                "approve_refused": str(refusal) if refusal and edition else "",
                "EditionStatus": EditionStatus,
            },
        )

    @post("/{code:str}/approve", name="staff_event_approve")
    async def approve(self, request: Request, code: FromPath[str]) -> Redirect:
        await commands.approve(request.state.actor, code, now=now(request), calendar=calendar())
        return Redirect(path=f"/e/{code}", status_code=303)

    @post("/{code:str}/send-back", name="staff_event_send_back")
    async def send_back(self, request: Request, code: FromPath[str]) -> Redirect:
        form = await request.form()
        await commands.send_back(request.state.actor, code, reason=form.get("reason") or "", now=now(request))
        return Redirect(path=f"/staff/events/{code}", status_code=303)


def _invalid(template: str, context: dict[str, Any], exc: ValidationError) -> Template:
    """The form again, with every error next to its field, as a 400."""
    context["errors"] = {e.field.split("[")[0]: e.message for e in exc.errors}
    context["error_list"] = exc.errors
    return Template(template, context=context, status_code=400)
