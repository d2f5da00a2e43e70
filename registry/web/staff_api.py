"""The staff API for systems that sync with the provincial platform. Bearer tokens
(`onetrip token create USER`); the same rules, permissions and audit as the staff pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import Meta, Struct

from guides.i18n import _
from registry import queries
from registry.access import Actor
from registry.editions import commands
from registry.editions.schema import content_from_guide_shape
from registry.errors import FieldError, ValidationError
from registry.inputs import read
from registry.users import actor_for_token
from registry.web import params
from registry.web.deps import calendar, now


async def bearer_actor(connection: ASGIConnection) -> Actor:
    header = connection.headers.get("authorization", "")
    scheme, _sep, token = header.partition(" ")
    found = await actor_for_token(token.strip()) if scheme.lower() == "bearer" and token else None
    if found is None:
        raise NotAuthorizedException(_("需要有效的访问令牌（Authorization: Bearer …）"))
    return found


async def token_guard(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    connection.state.actor = await bearer_actor(connection)


@dataclass
class EditionState:
    code: str
    version: int
    status: str
    lock_version: int
    effective_at: date
    publish_deadline: datetime | None = None
    send_back_reason: str = ""


def _state(code: str, row: dict[str, Any]) -> EditionState:
    return EditionState(
        code=code,
        version=row["version"],
        status=row["status"],
        lock_version=row["lock_version"],
        effective_at=row["effective_at"],
        publish_deadline=row["publish_deadline"],
        send_back_reason=row["send_back_reason"],
    )


Note = Annotated[str, Meta(title="说明", max_length=2000)]


class SubmitBody(Struct, frozen=True, forbid_unknown_fields=True):
    change_note: Note = ""
    effective_at: date | None = None


class ApproveBody(Struct, frozen=True, forbid_unknown_fields=True):
    effective_at: date | None = None
    hold: bool = False


class SendBackBody(Struct, frozen=True, forbid_unknown_fields=True):
    reason: Note = ""


def _body(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError([FieldError("-", _("请求体应为 JSON 对象"))])
    return data


class StaffApiController(Controller):
    path = "/api"
    guards = [token_guard]  # noqa: RUF012
    tags = ["staff"]  # noqa: RUF012
    security = [{"BearerToken": []}]  # noqa: RUF012

    @put("/items/{code:str}/draft", summary="Create or update the item's draft")
    async def save_draft(
        self, request: Request, code: FromPath[str], data: JSONBody[dict[str, Any]]
    ) -> EditionState:
        """Body: the shape of `GET /api/items/{code}` plus `lock_version` (the draft's, when
        updating one) and, for a new item, `department` {code} and `item_type`."""
        body = _body(data)
        content = content_from_guide_shape(body)
        moment = now(request)
        actor = request.state.actor
        lock = body.get("lock_version")
        if lock is not None and (
            isinstance(lock, bool) or not isinstance(lock, int) or not 0 <= lock < 2**31
        ):
            raise ValidationError([FieldError("lock_version", _("应为整数"))])
        if not await queries.item_exists(code):
            department = body.get("department")
            dept_code = department.get("code") if isinstance(department, dict) else department
            row = await commands.create_item(
                actor,
                code=code,
                department_code=str(dept_code or ""),
                item_type=str(body.get("item_type") or ""),
                content=content,
                now=moment,
            )
        else:
            row = await commands.save_draft(actor, code, content, base_lock_version=lock, now=moment)
        return _state(code, row)

    @post("/items/{code:str}/draft/submit", summary="Submit the draft for review", status_code=200)
    async def submit(
        self, request: Request, code: FromPath[str], data: JSONBody[dict[str, Any]]
    ) -> EditionState:
        body = read(SubmitBody, data)
        row = await commands.submit(
            request.state.actor,
            code,
            change_note=body.change_note,
            effective_at=body.effective_at,
            now=now(request),
        )
        return _state(code, row)

    @post(
        "/items/{code:str}/draft/approve",
        summary="Approve (and publish) the edition in review",
        status_code=200,
    )
    async def approve(
        self, request: Request, code: FromPath[str], data: JSONBody[dict[str, Any]]
    ) -> EditionState:
        body = read(ApproveBody, data)
        row = await commands.approve(
            request.state.actor,
            code,
            effective_at=body.effective_at,
            hold=body.hold,
            now=now(request),
            calendar=calendar(),
        )
        return _state(code, row)

    @post(
        "/items/{code:str}/draft/send-back",
        summary="Send the edition back to its editor",
        status_code=200,
    )
    async def send_back(
        self, request: Request, code: FromPath[str], data: JSONBody[dict[str, Any]]
    ) -> EditionState:
        body = read(SendBackBody, data)
        row = await commands.send_back(request.state.actor, code, reason=body.reason, now=now(request))
        return _state(code, row)

    @get("/changes", summary="Published changes, newest first")
    async def list_changes(self, since: FromQuery[str | None] = None) -> list[dict[str, Any]]:
        """`since` (an integer ≥ 0): only changes with a sequence number above it (poll with the
        last one seen)."""
        entries = await queries.recent_changes(limit=500, since_seq=params.integer("since", since) or 0)
        return [
            {
                "seq": e.seq,
                "code": e.item_code,
                "kind": e.kind,
                "version_before": e.version_before,
                "version_after": e.version_after,
                "summary": e.summary,
                "changes": e.lines,
                "change_note": e.change_note,
                "approved_at": e.approved_at,
                "publish_deadline": e.publish_deadline,
                "published_at": e.published_at,
                "effective_at": e.effective_at,
                "fingerprint": e.fingerprint,
            }
            for e in entries
        ]
