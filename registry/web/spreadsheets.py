"""Spreadsheets on the staff pages: the import template, a checked upload into drafts, exports.

The work is in `registry.spreadsheets`; this controller only moves bytes and renders the report.
"""

from __future__ import annotations

import io
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Template

from guides.i18n import _
from registry import spreadsheets
from registry.access import Actor
from registry.spreadsheets import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE
from registry.vocab import local_today
from registry.web.auth import staff_guard
from registry.web.deps import now
from registry.web.errors import error_response

MAX_UPLOAD = 5 * 1024 * 1024  # bytes of the .xlsx itself
BODY_LIMIT = MAX_UPLOAD + 256 * 1024  # the multipart request around it
TOO_LARGE = "文件过大：导入文件最大 5 MB，请拆分后分批导入。"


def _download(data: bytes, filename: str, media_type: str) -> Response:
    return Response(
        content=data,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _too_large(request: Request, _exc: Exception) -> Response:
    """A request body over BODY_LIMIT is refused before the handler runs; say why in Chinese."""
    return error_response(request, 413, _(TOO_LARGE), [])


def _page(actor: Actor, **extra: Any) -> dict[str, Any]:
    return {
        "actor": actor,
        "report": None,
        "error": None,
        "filename": "",
        "dry_run": True,
        "max_mb": MAX_UPLOAD // (1024 * 1024),
        **extra,
    }


class SpreadsheetController(Controller):
    path = "/staff"
    guards = [staff_guard]  # noqa: RUF012
    include_in_schema = False

    @get("/import", name="staff_import")
    async def import_form(self, request: Request) -> Template:
        return Template("staff/import.html", context=_page(request.state.actor))

    @post(
        "/import",
        name="staff_import_submit",
        request_max_body_size=BODY_LIMIT,
        exception_handlers={413: _too_large},
    )
    async def import_upload(self, request: Request) -> Template:
        actor = request.state.actor
        form = await request.form()
        upload = form.get("file")
        dry_run = form.get("action") != "apply"
        if not isinstance(upload, UploadFile) or not upload.filename:
            context = _page(actor, error=_("请选择要导入的 Excel 文件（.xlsx）。"), dry_run=dry_run)
            return Template("staff/import.html", context=context, status_code=400)
        data = await upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            context = _page(actor, error=_(TOO_LARGE), filename=upload.filename, dry_run=dry_run)
            return Template("staff/import.html", context=context, status_code=413)
        plan = await spreadsheets.read_workbook(io.BytesIO(data))
        report = await spreadsheets.apply_import(plan, actor, now(request), dry_run=dry_run)
        context = _page(actor, report=report, filename=upload.filename, dry_run=dry_run)
        return Template("staff/import.html", context=context, status_code=200 if report.ok else 400)

    @get("/import/template.xlsx", name="staff_import_template")
    async def template(self) -> Response:
        return _download(spreadsheets.template_bytes(), "onetrip-import-template.xlsx", XLSX_MEDIA_TYPE)

    @get("/export/items.xlsx", name="staff_export_items_xlsx")
    async def export_xlsx(self, request: Request) -> Response:
        buffer = io.BytesIO()
        await spreadsheets.export_items_xlsx(buffer)
        return _download(
            buffer.getvalue(), f"onetrip-items-{local_today(now(request))}.xlsx", XLSX_MEDIA_TYPE
        )

    @get("/export/items.csv", name="staff_export_items_csv")
    async def export_csv(self, request: Request) -> Response:
        tables = await spreadsheets.current_item_tables()
        data = spreadsheets.csv_bytes(spreadsheets.ITEM_HEADERS, tables.items)
        return _download(data, f"onetrip-items-{local_today(now(request))}.csv", CSV_MEDIA_TYPE)

    @get("/export/materials.csv", name="staff_export_materials_csv")
    async def export_materials_csv(self, request: Request) -> Response:
        tables = await spreadsheets.current_item_tables()
        data = spreadsheets.csv_bytes(spreadsheets.MATERIAL_HEADERS, tables.materials)
        return _download(data, f"onetrip-materials-{local_today(now(request))}.csv", CSV_MEDIA_TYPE)
