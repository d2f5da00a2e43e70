"""A signed-in user's own account: change the password (other sessions are signed out)."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from registry import sessions, users
from registry.errors import ValidationError
from registry.web.auth import SESSION_COOKIE, staff_guard


class AccountController(Controller):
    path = "/staff/password"
    guards = [staff_guard]  # noqa: RUF012
    include_in_schema = False

    @get("/", name="staff_password")
    async def form(self, request: Request) -> Template:
        done = request.query_params.get("done") == "1"
        return Template(
            "staff/password.html", context={"actor": request.state.actor, "errors": {}, "done": done}
        )

    @post("/", name="staff_password_save")
    async def save(self, request: Request) -> Template | Redirect:
        form = await request.form()
        actor = request.state.actor
        try:
            await users.change_password(
                actor.id,
                str(form.get("current") or ""),
                str(form.get("new") or ""),
                str(form.get("confirm") or ""),
            )
        except ValidationError as exc:
            return Template(
                "staff/password.html",
                context={"actor": actor, "errors": {e.field: e.message for e in exc.errors}, "done": False},
                status_code=400,
            )
        await sessions.end_user_sessions(actor.id, keep=request.cookies.get(SESSION_COOKIE))
        return Redirect(path="/staff/password?done=1")
