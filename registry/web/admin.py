"""Admins manage staff accounts; editors add catalogue materials from the edit page."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from guides.i18n import _
from registry import catalogue, users, worklists
from registry.access import PermissionDenied
from registry.errors import ValidationError
from registry.tables import Role
from registry.web.auth import staff_guard
from registry.web.deps import now
from registry.web.params import parse_int


def _admin(request: Request) -> None:
    if request.state.actor.role != Role.admin:
        raise PermissionDenied(_("只有管理员可以管理用户。"))


class AdminController(Controller):
    path = "/staff"
    guards = [staff_guard]  # noqa: RUF012
    include_in_schema = False

    @get("/users", name="staff_users")
    async def list_users(self, request: Request) -> Template:
        _admin(request)
        return await self._page(request, errors={}, values={})

    async def _page(self, request: Request, *, errors, values, status: int = 200) -> Template:
        return Template(
            "staff/users.html",
            context={
                "actor": request.state.actor,
                "users": await users.list_users(),
                "departments": (await worklists.catalogue_options())["departments"],
                "errors": errors,
                "values": values,
            },
            status_code=status,
        )

    @post("/users", name="staff_users_add")
    async def add_user(self, request: Request) -> Template | Redirect:
        _admin(request)
        form = await request.form()
        values = {k: (form.get(k) or "").strip() for k in ("username", "display_name", "role")}
        try:
            await users.create_user(
                values["username"],
                role=values["role"],
                password=form.get("password") or "",
                departments=[d for d in form.getall("department", []) if d],
                display_name=values["display_name"],
                now=now(request),
            )
        except ValidationError as exc:
            errors = {e.field: e.message for e in exc.errors}
            return await self._page(request, errors=errors, values=values, status=400)
        return Redirect(path="/staff/users")

    @post("/users/{username:str}/active", name="staff_users_active")
    async def set_active(self, request: Request, username: FromPath[str]) -> Redirect:
        form = await request.form()
        await users.set_active(request.state.actor, username, form.get("active") == "true")
        return Redirect(path="/staff/users")

    @get("/targets", name="staff_targets")
    async def targets(self, request: Request) -> Template:
        _admin(request)
        return await self._targets_page(request, {}, {})

    async def _targets_page(
        self, request: Request, errors: dict, values: dict, status: int = 200
    ) -> Template:
        from registry import metrics

        return Template(
            "staff/targets.html",
            context={
                "actor": request.state.actor,
                "targets": await metrics.list_targets(),
                "errors": errors,
                "values": values,
            },
            status_code=status,
        )

    @post("/targets", name="staff_targets_save")
    async def save_target(self, request: Request) -> Template | Redirect:
        from registry import metrics

        form = await request.form()
        values = {k: (form.get(k) or "") for k in ("id", "level", "percent", "deadline", "note")}
        try:
            await metrics.save_target(
                request.state.actor,
                target_id=parse_int(values["id"], 1),
                level=values["level"],
                percent=values["percent"],
                deadline=values["deadline"],
                note=values["note"],
            )
        except ValidationError as exc:
            return await self._targets_page(request, {e.field: e.message for e in exc.errors}, values, 400)
        return Redirect(path="/staff/targets")

    @post("/materials", name="staff_material_add")
    async def add_material(self, request: Request) -> Redirect:
        form = await request.form()
        back = form.get("return_to") or "/staff"
        back = back if back.startswith("/staff/") else "/staff"
        try:
            code = await catalogue.add_material(
                request.state.actor,
                name=form.get("new_material_name") or "",
                kind=form.get("new_material_kind") or "",
                issuer=form.get("new_material_issuer") or "",
            )
        except ValidationError as exc:
            return Redirect(path=f"{back}?material_error={quote(exc.errors[0].message)}")
        return Redirect(path=f"{back}?material_added={quote(code)}")
