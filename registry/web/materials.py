"""/materials (the catalogue with the items asking for each entry), the 减证 report with its
XLSX/CSV export, and the staff catalogue page (rename, retire, merge)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from guides.i18n import _
from registry import catalogue, spreadsheets
from registry.errors import FieldError, ValidationError
from registry.reads.public import PublicReads
from registry.tables import Role
from registry.web.auth import staff_guard
from registry.web.errors import BadRequest
from registry.web.metrics import as_of_date
from registry.web.rendering import cached_response, render


async def cached_entries(reads: PublicReads) -> list[catalogue.Entry]:
    return await reads.memo("materials", catalogue.entries)


async def cached_reduction(reads: PublicReads, day: date) -> list[catalogue.Reduction]:
    return await reads.memo(("reduction", day), lambda: catalogue.reduction_summary(day))


def _sort(sort: str | None, order: str | None) -> tuple[str, bool]:
    sort = sort or "items"
    if sort not in catalogue.SORTS:
        raise BadRequest(
            _("排序方式有误"), [FieldError("sort", _("应为 {v} 之一", v="、".join(catalogue.SORTS)))]
        )
    if order not in (None, "", "asc", "desc"):
        raise BadRequest(_("排序方向有误"), [FieldError("order", _("应为 asc 或 desc"))])
    return sort, (order or ("asc" if sort in ("name", "issuer") else "desc")) == "desc"


def _download(data: bytes, media_type: str, day: date, ext: str) -> Response[bytes]:
    name = f"onetrip-reduction-{day.isoformat()}.{ext}"
    return Response(
        data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


class MaterialsController(Controller):
    include_in_schema = False

    @get("/materials", name="materials")
    async def page(self, request: Request, reads: NamedDependency[PublicReads]) -> Response[bytes]:
        async def body() -> bytes:
            found = await cached_entries(reads)
            context = {
                "entries": found,
                "shown": catalogue.ITEMS_SHOWN,
                "names": {e.code: e.name for e in found},
            }
            # The whole catalogue: a large page on a large registry, rendered off the event loop.
            return await asyncio.to_thread(render, request, "materials.html", context)

        return cached_response(request, (await reads.compressed_page("materials", body)).body, gzipped=True)

    @get("/materials/reduction", name="reduction")
    async def reduction(
        self,
        request: Request,
        reads: NamedDependency[PublicReads],
        as_of: FromQuery[str | None] = None,
        sort: FromQuery[str | None] = None,
        order: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        day = as_of_date(request, as_of)
        key, descending = _sort(sort, order)

        async def body() -> bytes:
            rows = catalogue.sorted_reduction(await cached_reduction(reads, day), key, descending)
            return await asyncio.to_thread(
                render,
                request,
                "reduction.html",
                {
                    "rows": rows,
                    "as_of": day,
                    "sort": key,
                    "descending": descending,
                    "uses": sum(r.items for r in rows),
                    "shown": catalogue.ITEMS_SHOWN,
                },
            )

        stored = await reads.compressed_page(("reduction", day, key, descending), body)
        return cached_response(request, stored.body, gzipped=True)

    @get("/materials/reduction.xlsx", name="reduction_xlsx")
    async def reduction_xlsx(
        self, request: Request, reads: NamedDependency[PublicReads], as_of: FromQuery[str | None] = None
    ) -> Response[bytes]:
        day = as_of_date(request, as_of)
        rows = catalogue.sorted_reduction(await catalogue.reduction(day), "items", True)  # every row
        sheet = spreadsheets.SheetSpec(
            title=_("减证"),
            headers=catalogue.REDUCTION_HEADERS,
            rows=catalogue.reduction_rows(rows),
            text_columns=("材料编码", "事项编码"),
            widths={"材料名称": 24, "核发机关": 20, "事项名称": 28},
        )
        return _download(spreadsheets.xlsx_bytes([sheet]), spreadsheets.XLSX_MEDIA_TYPE, day, "xlsx")

    @get("/materials/reduction.csv", name="reduction_csv")
    async def reduction_csv(
        self, request: Request, reads: NamedDependency[PublicReads], as_of: FromQuery[str | None] = None
    ) -> Response[bytes]:
        day = as_of_date(request, as_of)
        rows = catalogue.sorted_reduction(await catalogue.reduction(day), "items", True)  # every row
        data = spreadsheets.csv_bytes(catalogue.REDUCTION_HEADERS, catalogue.reduction_rows(rows))
        return _download(data, spreadsheets.CSV_MEDIA_TYPE, day, "csv")


class MaterialsApiController(Controller):
    path = "/api"

    @get("/materials", name="api_materials", summary="申请材料目录：每个条目及要求它的事项数")
    async def api_materials(self, reads: NamedDependency[PublicReads]) -> dict[str, Any]:
        """Every catalogue entry with how many current items ask for it (and the first of them)."""
        found = await cached_entries(reads)
        return {"materials": [e.to_dict() for e in found], "total": len(found)}


class StaffMaterialsController(Controller):
    path = "/staff/catalogue"
    guards = [staff_guard]  # noqa: RUF012
    include_in_schema = False

    @get("/", name="staff_materials")
    async def list_entries(self, request: Request) -> Template:
        return await self._page(request)

    async def _page(self, request: Request, **extra: Any) -> Template:
        return Template(
            "staff/materials.html",
            context={
                "actor": request.state.actor,
                "entries": await catalogue.entries(),
                "is_admin": request.state.actor.role == Role.admin,
                "errors": {},
                "done": request.query_params.get("done"),
                **extra,
            },
            status_code=400 if extra.get("errors") else 200,
        )

    @post("/", name="staff_materials_change")
    async def change(self, request: Request) -> Template | Redirect:
        form = await request.form()
        action, code = form.get("action") or "", form.get("code") or ""
        actor = request.state.actor
        try:
            if action == "rename":
                await catalogue.rename(actor, code, form.get("name") or "")
                done = _("已改名")
            elif action == "retire":
                await catalogue.retire(actor, code)
                done = _("已停用")
            elif action == "merge":
                n = await catalogue.merge(actor, code, form.get("into") or "")
                done = _("已合并，{n} 个在办版本随之更新", n=n)
            else:
                raise ValidationError([FieldError("action", _("应为 rename、retire 或 merge"))])
        except ValidationError as exc:
            return await self._page(request, errors={e.field: e.message for e in exc.errors})
        return Redirect(path=request.app.route_reverse("staff_materials"), query_params={"done": done})
