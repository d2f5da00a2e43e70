"""The public JSON API (open data). Pagination: {"items": [...], "total": N, "next": url|null}."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from litestar import Controller, MediaType, Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery
from litestar.serialization import encode_json

from guides.channels import api_item
from guides.i18n import _
from guides.urls import Urls
from registry import queries, rendered
from registry.reads.public import PublicReads
from registry.settings import Settings
from registry.web.errors import BadRequest
from registry.web.params import item_filter
from registry.web.rendering import cached_response, etag_for, reads_of, urls_of


@dataclass
class DepartmentBrief:
    code: str
    name: str
    level: str


@dataclass
class ItemSummary:
    code: str
    name: str
    item_type: str
    department: DepartmentBrief
    trips: int
    online_depth: int
    promised_days: int
    version: int
    fingerprint: str
    url: str


@dataclass
class ItemPage:
    items: list[ItemSummary]
    total: int
    next: str | None


def _item_page(
    rows: list[queries.ItemRow], total: int, flt: queries.ItemFilter, number: int, page_size: int, urls: Urls
) -> ItemPage:
    more = number * page_size < total
    return ItemPage(
        items=[
            ItemSummary(
                code=r.code,
                name=r.name,
                item_type=r.item_type,
                department=DepartmentBrief(r.department_code, r.department_name, r.level),
                trips=r.trips,
                online_depth=r.online_depth,
                promised_days=r.promised_days,
                version=r.version,
                fingerprint=r.fingerprint,
                url=urls.guide_absolute(r.code),
            )
            for r in rows
        ],
        total=total,
        next=urls.api_items(department=flt.department, level=flt.level, trips=flt.trips, page=number + 1)
        if more
        else None,
    )


class ApiController(Controller):
    path = "/api"
    tags: ClassVar[list[str]] = ["open data"]

    @get(
        "/items",
        summary="List published service items",
        responses={200: ResponseSpec(data_container=ItemPage, description="One page of items")},
    )
    async def items(
        self,
        request: Request,
        settings: NamedDependency[Settings],
        urls: NamedDependency[Urls],
        reads: NamedDependency[PublicReads],
        department: FromQuery[str | None] = None,
        level: FromQuery[str | None] = None,
        trips: FromQuery[str | None] = None,
        page: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        """Filter by `department` code, `level` (city|district) and `trips` (0|1|2+)."""
        flt, number, errors = await item_filter(
            department, level, trips, page, exists=reads.department_exists
        )
        if errors:
            raise BadRequest(_("查询参数有误"), errors)

        async def body() -> bytes:
            rows, total = await reads.list_items(flt, page=number, page_size=settings.page_size)
            return encode_json(_item_page(rows, total, flt, number, settings.page_size, urls))

        stored = await reads.compressed_page(("api_items", flt, number, settings.page_size), body)
        return cached_response(request, stored.body, media_type=MediaType.JSON, gzipped=True)

    @get(
        "/items/{code:str}", summary="One published guide: the whole snapshot", response_model=dict[str, Any]
    )
    async def item(self, request: Request) -> Response[bytes]:
        # A hot route: no per-request DI, its code read without the parameter model.
        code = request.path_params["code"]
        reads, urls = reads_of(request), urls_of(request)
        found, fetched = await reads.current_and_stored(code, "api")
        if found.status != "ok":
            raise NotFoundException(_("没有找到编码为“{code}”的服务事项。", code=code))
        key = ("api_item", found.fingerprint)
        cached = reads.documents.get(key)
        if cached is None:
            # Stored at publication (registry.rendered), else made from the snapshot and stored.
            stamp = rendered.stamp(urls)
            stored_key = rendered.api_key(found.fingerprint)
            stored = await rendered.read(stored_key, stamp, fetched)
            keep = reads.documents.offer  # one read away: kept once asked for twice
            if stored is None:
                guide = await reads.snapshot(found.edition_id, found.fingerprint)
                stored, keep = rendered.Stored.of(api_item(guide, found.fingerprint)), reads.documents.put
                rendered.remember(stored_key, stored, stamp)
            cached = keep(key, (stored, etag_for(*key)))
        stored, etag = cached
        headers = {"X-Content-Fingerprint": found.fingerprint}
        return cached_response(
            request, stored.body, etag=etag, media_type=MediaType.JSON, headers=headers, gzipped=True
        )

    @get(
        "/metrics",
        summary="最多跑一次 rates against the targets, as of a date",
        response_model=dict[str, Any],
    )
    async def metrics_json(
        self,
        request: Request,
        reads: NamedDependency[PublicReads],
        as_of: FromQuery[str | None] = None,
        level: FromQuery[str | None] = None,
        department: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        """`as_of` YYYY-MM-DD (default today, Asia/Shanghai); `level` city|district and
        `department` (a unit code) narrow the `units` list. A district-level unit's target applies
        to each unit; the city level's to the city-level departments together."""
        from registry import metrics
        from registry.web.metrics import as_of_date, cached_report

        day = as_of_date(request, as_of)

        async def body() -> bytes:
            report = await cached_report(reads, day)
            data = metrics.narrowed(report, level=level or None, department=department or None)  # or a 400
            rows = await reads.memo(("compression", day), lambda: metrics.compression(day))
            # 承诺时限压缩比 per department (the last row, department "", is the whole registry).
            data["compression"] = [
                c.to_dict()
                for c in rows
                if c.department == ""
                or ((not level or c.level == level) and department in (None, "", c.department))
            ]
            return encode_json(data)

        # Encoded once per change-log head and question (a refused question is not kept).
        stored = await reads.compressed_page(("api_metrics", day, level or None, department or None), body)
        return cached_response(request, stored.body, media_type=MediaType.JSON, gzipped=True)

    @get("/departments", summary="Departments and district-level units with item counts")
    async def departments(self, reads: NamedDependency[PublicReads]) -> list[queries.DepartmentSummary]:
        return await reads.department_summaries()
