"""Counter screens: a full-screen page per window that keeps itself current, and the staff list."""

from __future__ import annotations

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_204_NO_CONTENT

from registry import screens
from registry.errors import ValidationError
from registry.web import params
from registry.web.auth import staff_guard
from registry.web.deps import now

POLL_SECONDS = 5


def _context(content: screens.ScreenContent) -> dict:
    return {
        "window": content.window,
        "slides": content.slides,
        "state": content.state,
        "poll_seconds": POLL_SECONDS,
    }


class ScreenController(Controller):
    path = "/screen"
    include_in_schema = False

    @get("/{window:str}", name="screen")
    async def page(self, window: FromPath[str]) -> Template:
        return Template("guides/screen.html", context=_context(await screens.screen_content(window)))

    @get("/{window:str}/slides", name="screen_slides", cache=False)
    async def slides(
        self, request: Request, window: FromPath[str], shown: FromQuery[str | None] = None
    ) -> Response | HTMXBlockTemplate:
        """Polled every few seconds: 204 when nothing changed (htmx keeps what it shows), else
        the new slides. Every poll is a check-in, so staff can see which screens are alive."""
        shown = params.text("shown", shown, 64)  # the content tag the screen shows: 32 hex digits
        content = await screens.screen_content(window)
        client = request.headers.get("user-agent", "")
        await screens.check_in(content.window["id"], state=shown or "", client=client, now=now(request))
        etag = f'"{content.state}"'
        if shown == content.state or request.headers.get("if-none-match") == etag:
            return Response(content=b"", status_code=HTTP_204_NO_CONTENT, headers={"ETag": etag})
        return HTMXBlockTemplate(
            template_name="guides/screen.html",
            block_name="slides",
            context=_context(content),
            headers={"ETag": etag, "Cache-Control": "no-cache"},
        )


class ScreenAdminController(Controller):
    path = "/staff/screens"
    guards = [staff_guard]  # noqa: RUF012
    include_in_schema = False

    async def _page(self, request: Request, errors: dict, values: dict, status: int = 200) -> Template:
        return Template(
            "staff/screens.html",
            context={
                "actor": request.state.actor,
                "screens": await screens.screen_statuses(),
                "now": now(request),
                "errors": errors,
                "values": values,
            },
            status_code=status,
        )

    @get("/", name="staff_screens")
    async def list_screens(self, request: Request) -> Template:
        return await self._page(request, {}, {})

    @post("/", name="staff_screens_save")
    async def save(self, request: Request) -> Template | Redirect:
        form = await request.form()
        values = {
            k: (form.get(k) or "").strip() for k in ("code", "name", "hall", "interval_seconds", "items")
        }
        interval = params.parse_int(values["interval_seconds"] or "20", -1) or -1
        try:
            await screens.save_window(
                request.state.actor,
                code=values["code"],
                name=values["name"],
                hall=values["hall"],
                interval_seconds=interval,
                item_codes=values["items"].split(),
                now=now(request),
            )
        except ValidationError as exc:
            return await self._page(request, {e.field: e.message for e in exc.errors}, values, 400)
        return Redirect(path="/staff/screens")
