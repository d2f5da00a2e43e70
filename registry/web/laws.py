"""/laws and /api/laws: every legal document by kind with the items citing it; admins record an
amendment or a repeal at /staff/laws (registry.laws)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.serialization import encode_json

from guides.i18n import _
from registry import laws
from registry.errors import ValidationError
from registry.reads.public import PublicReads
from registry.tables import Role
from registry.web.auth import staff_guard
from registry.web.rendering import cached_response, render


async def cached_laws(reads: PublicReads) -> list[laws.Law]:
    return await reads.memo("laws", laws.laws)


class LawsController(Controller):
    include_in_schema = False

    @get("/laws", name="laws")
    async def page(self, request: Request, reads: NamedDependency[PublicReads]) -> Response[bytes]:
        async def body() -> bytes:
            all_laws = await cached_laws(reads)
            context = {"groups": laws.by_kind(all_laws), "total": len(all_laws)}
            # Every document with its citing items: a large page on a large registry, rendered
            # off the event loop (no request holds the others up).
            return await asyncio.to_thread(render, request, "laws.html", context)

        return cached_response(request, (await reads.compressed_page("laws", body)).body, gzipped=True)


class LawsApiController(Controller):
    path = "/api"

    @get(
        "/laws",
        name="api_laws",
        summary="设定依据：每份法律文件及引用它的事项",
        response_model=dict[str, Any],
    )
    async def api_laws(self, request: Request, reads: NamedDependency[PublicReads]) -> Response[bytes]:
        """Every legal document by kind, with the current items citing it and the articles cited."""

        async def body() -> bytes:
            all_laws = await cached_laws(reads)

            def encoded() -> bytes:
                documents = [law.to_dict() for law in all_laws]
                return encode_json(
                    {"documents": documents, "total": len(all_laws), "items_listed": laws.ITEMS_SHOWN}
                )

            return await asyncio.to_thread(encoded)  # off the event loop, as the page

        # Encoded once per change-log head (a few hundred documents with their citing items).
        content = (await reads.compressed_page("api_laws", body)).body
        return cached_response(request, content, media_type=MediaType.JSON, gzipped=True)

    @get("/laws/{code:str}", name="api_law", summary="一份法律文件及引用它的全部事项")
    async def api_law(self, reads: NamedDependency[PublicReads], code: FromPath[str]) -> dict[str, Any]:
        """One legal document with every current item citing it and the articles cited."""
        found = await reads.memo(("law", code), lambda: laws.laws(code=code, limit=10**9))
        if not found:
            raise NotFoundException(_("没有编码为“{code}”的法律文件。", code=code))
        return found[0].to_dict()


class StaffLawsController(Controller):
    path = "/staff/laws"
    guards = [staff_guard]  # noqa: RUF012
    include_in_schema = False

    @get("/", name="staff_laws")
    async def list_laws(self, request: Request, reads: NamedDependency[PublicReads]) -> Template:
        return await self._page(request, reads)

    async def _page(self, request: Request, reads: PublicReads, **extra: Any) -> Template:
        return Template(
            "staff/laws.html",
            context={
                "actor": request.state.actor,
                "laws": await laws.laws(),
                "kinds": laws.CHANGE_KINDS,
                "errors": {},
                "flagged": request.query_params.get("flagged"),
                "is_admin": request.state.actor.role == Role.admin,
                **extra,
            },
            status_code=400 if extra.get("errors") else 200,
        )

    @post("/{code:str}", name="staff_law_change")
    async def change(
        self, request: Request, reads: NamedDependency[PublicReads], code: FromPath[str]
    ) -> Template | Redirect:
        form = await request.form()
        try:
            flagged = await laws.record_change(
                request.state.actor, code, kind=form.get("kind") or "", on=form.get("on") or ""
            )
        except ValidationError as exc:
            errors = {e.field: e.message for e in exc.errors}
            return await self._page(request, reads, errors=errors, failed=code)
        return Redirect(path=request.app.route_reverse("staff_laws"), query_params={"flagged": str(flagged)})
