"""最多跑一次 metrics: the public dashboard with drill-down and "what if", and its JSON."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery

from guides import charts
from guides.i18n import _
from guides.labels import level_label
from registry import metrics, spreadsheets
from registry.errors import FieldError
from registry.inputs import Invalid, parse_date
from registry.reads.public import PublicReads
from registry.vocab import local_today
from registry.web.deps import now
from registry.web.errors import BadRequest
from registry.web.params import parse_int
from registry.web.rendering import cached_response, render

UNIT_PAGE_SIZE = 200  # items per page of a unit's list


def as_of_date(request: Request, value: str | None) -> date:
    """The `as_of` date asked for, or Beijing's today."""
    if not value:
        return local_today(now(request))
    try:
        day = parse_date(value)
    except Invalid as exc:
        raise BadRequest(_("日期格式有误"), [FieldError("as_of", exc.message)]) from None
    if not date(2000, 1, 1) <= day <= date(2100, 12, 31):
        raise BadRequest(_("日期超出范围"), [FieldError("as_of", _("请选择 2000 年到 2100 年之间的日期"))])
    return day


def _download(data: bytes, media_type: str, report: metrics.Report, ext: str) -> Response[bytes]:
    name = f"onetrip-metrics-{report.as_of.isoformat()}.{ext}"
    return Response(
        data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _bars(report: metrics.Report, level: str) -> Any:
    rows = [
        charts.BarRow(
            label=u.unit.name,
            rate=u.counts.rate,
            target=u.goal.rate if u.goal else None,
            items=u.counts.items,
            href=f"/metrics/unit/{u.unit.code}?as_of={report.as_of.isoformat()}",
        )
        for u in report.units
        if u.unit.level == level and u.counts.items
    ]
    return charts.rate_bars(rows, title=_("{level}：最多跑一次比例与目标", level=level_label(level)))


async def cached_report(reads: PublicReads, day: date) -> metrics.Report:
    """The report as of `day`, computed once per change-log head (one SQL aggregate)."""
    return await reads.memo(("metrics_report", day), lambda: metrics.report(day))


class MetricsController(Controller):
    include_in_schema = False

    @get("/metrics", name="metrics")
    async def dashboard(
        self, request: Request, reads: NamedDependency[PublicReads], as_of: FromQuery[str | None] = None
    ) -> Response[bytes]:
        day = as_of_date(request, as_of)
        stored = await reads.compressed_page(("metrics", day), lambda: self._dashboard(request, reads, day))
        return cached_response(request, stored.body, gzipped=True)

    async def _dashboard(self, request: Request, reads: PublicReads, day: date) -> bytes:
        report = await cached_report(reads, day)
        past = reads.lasting.setdefault("metrics_in_force", {})
        history = await reads.memo(
            ("metrics_trend", day), lambda: metrics.trend(day, kept=past, now=now(request))
        )
        timely = await metrics.timeliness(day)
        compression = await reads.memo(("compression", day), lambda: metrics.compression(day))
        # Charts and template in a worker thread: the event loop keeps answering (issue 14).
        return await asyncio.to_thread(self._draw_dashboard, request, report, history, timely, compression)

    @staticmethod
    def _draw_dashboard(
        request: Request,
        report: metrics.Report,
        history: list[tuple[date, metrics.Report]],
        timely: list[metrics.Timeliness],
        compression: list[metrics.Compression],
    ) -> bytes:
        trends = {}
        for level in ("city", "district"):
            points = [
                charts.TrendPoint(
                    d.strftime("%Y-%m"), next(lv for lv in r.levels if lv.level == level).counts.rate
                )
                for d, r in history
            ]
            goal = next(lv for lv in report.levels if lv.level == level).goal
            trends[level] = charts.trend_line(
                points,
                target=goal.rate if goal else None,
                title=_("{level}：近 24 个月最多跑一次比例", level=level_label(level)),
            )
        share = charts.share_bars(
            [charts.ShareRow(t.month, t.on_time, t.late, t.pending) for t in timely],
            title=_("审批后 1 个工作日内公开的比例（按批准月份）"),
        )
        return render(
            request,
            "metrics/dashboard.html",
            {
                "report": report,
                "bars": {level: _bars(report, level) for level in ("city", "district")},
                "trends": trends,
                "share": share,
                "timely": timely,
                "compression": compression,
            },
        )

    @get("/metrics/export.xlsx", name="metrics_xlsx")
    async def export_xlsx(
        self, request: Request, reads: NamedDependency[PublicReads], as_of: FromQuery[str | None] = None
    ) -> Response[bytes]:
        report = await cached_report(reads, as_of_date(request, as_of))
        sheet = spreadsheets.SheetSpec(
            title=_("统计"),
            headers=metrics.TABLE_HEADERS,
            rows=metrics.table_rows(report),
            text_columns=("单位编码", "期限"),
            number_formats={"最多跑一次比例": "0.0%", "目标": "0%"},
            widths={"单位": 24, "状态": 8},
        )
        return _download(spreadsheets.xlsx_bytes([sheet]), spreadsheets.XLSX_MEDIA_TYPE, report, "xlsx")

    @get("/metrics/export.csv", name="metrics_csv")
    async def export_csv(
        self, request: Request, reads: NamedDependency[PublicReads], as_of: FromQuery[str | None] = None
    ) -> Response[bytes]:
        report = await cached_report(reads, as_of_date(request, as_of))
        data = spreadsheets.csv_bytes(metrics.TABLE_HEADERS, metrics.table_rows(report))
        return _download(data, spreadsheets.CSV_MEDIA_TYPE, report, "csv")

    @get("/metrics/unit/{code:str}", name="metrics_unit")
    async def unit(
        self,
        request: Request,
        reads: NamedDependency[PublicReads],
        code: FromPath[str],
        as_of: FromQuery[str | None] = None,
        page: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        day = as_of_date(request, as_of)
        number = parse_int(page, 1, 100_000) if page else 1
        if number is None:
            raise BadRequest(_("页码有误"), [FieldError("page", _("页码应为正整数"))])
        report = await cached_report(reads, day)
        result = report.unit(code)
        if result is None:
            raise NotFoundException(_("没有编码为“{code}”的单位。", code=code))
        members = result.unit.members
        items = await reads.memo(
            ("metrics_items", members, day), lambda: metrics.in_force_items(day, members)
        )
        overrides = {}
        asked = {k for k in request.query_params if k.startswith("t_")}  # "what if", rare
        for item in items if asked else ():
            trips = parse_int(request.query_params.get(f"t_{item.code}"), 0, 10)
            if trips is not None and trips != item.trips:
                overrides[item.code] = trips

        async def render_page() -> bytes:
            what_if = None
            if overrides:
                changed = metrics.compute(
                    day, items, [result.unit], await metrics.load_goals(), overrides=overrides
                )
                what_if = {"result": changed.units[0], "overrides": overrides}
            # Items that need more than one trip first; a district unit of a large registry has
            # thousands, so the list is paged (the what-if answers of other pages are carried).
            ordered = sorted(items, key=lambda i: (-i.trips, i.code))
            shown = ordered[(number - 1) * UNIT_PAGE_SIZE : number * UNIT_PAGE_SIZE]
            on_page = {i.code for i in shown}
            context = {
                "report": report,
                "result": result,
                "items": shown,
                "page": number,
                "pages": max(1, -(-len(ordered) // UNIT_PAGE_SIZE)),
                "carried": {c: n for c, n in overrides.items() if c not in on_page},
                "what_if": what_if,
            }
            return await asyncio.to_thread(render, request, "metrics/unit.html", context)

        if overrides:
            return cached_response(request, await render_page())  # "what if": computed, never kept
        stored = await reads.compressed_page(("metrics_unit", code, day, number), render_page)
        return cached_response(request, stored.body, gzipped=True)
