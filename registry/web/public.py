"""Public pages: the home page, the item list and the online-hall guide."""

from __future__ import annotations

from datetime import timedelta, timezone

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from guides.i18n import _
from guides.urls import Urls
from registry import queries
from registry.diff import diff_guides
from registry.settings import Settings
from registry.web.feed import atom_feed
from registry.web.params import item_filter, parse_int

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


class GoneException(HTTPException):
    status_code = 410


async def _outdated_paper(code: str, printed: str | None, current: int) -> dict | None:
    """When a printout older than the current edition is scanned: what has changed since."""
    version = parse_int(printed, 1)
    if version is None or version >= current:
        return None
    since = [e for e in await queries.item_history(code) if e.version_after > version]
    return {
        "printed": version,
        "current": current,
        "changes": [(e.version_after, e.effective_at, line) for e in reversed(since) for line in e.lines],
    }


class PublicController(Controller):
    include_in_schema = False

    @get("/", name="home")
    async def home(self) -> Template:
        departments = await queries.department_summaries()
        return Template(
            "index.html",
            context={
                "departments": departments,
                "shares_name": {d.code: d.short_name for d in departments},
                "total_items": sum(d.items for d in departments),
                "total_once": sum(d.at_most_once for d in departments),
                "total_zero": await queries.count_items(queries.ItemFilter(trips="0")),
            },
        )

    @get("/items", name="items")
    async def items(
        self,
        request: Request,
        settings: NamedDependency[Settings],
        department: FromQuery[str | None] = None,
        level: FromQuery[str | None] = None,
        trips: FromQuery[str | None] = None,
        page: FromQuery[str | None] = None,
    ) -> Template:
        flt, number, errors = await item_filter(department, level, trips, page)
        rows, total = await queries.list_items(flt, page=number, page_size=settings.page_size)
        context = {
            "departments": await queries.department_summaries(),
            "filters": flt,
            "errors": errors,
            "rows": rows,
            "total": total,
            "page": number,
            "pages": max(1, -(-total // settings.page_size)),
        }
        headers = {"Vary": "HX-Request"}
        if request.headers.get("HX-Request") == "true":
            return HTMXBlockTemplate(
                template_name="items.html", block_name="results", context=context, headers=headers
            )
        # A bad filter is shown in the page; htmx swaps only 2xx, a plain request gets a 400.
        return Template("items.html", context=context, headers=headers, status_code=400 if errors else 200)

    @get("/g/{code:str}", name="guide")
    async def guide(self, code: FromPath[str], v: FromQuery[str | None] = None) -> Template | Redirect:
        """`v`: the version printed on a paper guide (its QR code carries it)."""
        found = await queries.published_guide(code)
        canonical = code.strip().upper()
        # Codes are upper case; a hand-typed "650100-sgsj-001" still finds its guide.
        if (
            found.status == "missing"
            and code != canonical
            and (await queries.published_guide(canonical)).status != "missing"
        ):
            return Redirect(path=f"/g/{canonical}", status_code=301)
        if found.status == "missing":
            raise NotFoundException(_("没有找到编码为“{code}”的服务事项。", code=code))
        if found.status == "withdrawn":
            raise GoneException(
                _("服务事项“{name}”（{code}）已取消，不再办理。", name=found.guide.name, code=code)
            )
        guide = found.guide
        coming = await queries.scheduled_guide(code)
        announcement = None
        if coming is not None:
            announcement = {
                "effective_at": coming.effective_at,
                "lines": [c.line() for c in diff_guides(guide, coming)],
            }
        return Template(
            "guides/hall.html",
            context={
                "guide": guide,
                "fingerprint": found.fingerprint,
                "published_local": guide.published_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
                "announcement": announcement,
                "outdated": await _outdated_paper(code, v, guide.version),
            },
        )

    @get("/g/{code:str}/history", name="history")
    async def history(self, code: FromPath[str]) -> Template:
        found = await queries.published_guide(code)
        if found.status == "missing":
            raise NotFoundException(_("没有找到编码为“{code}”的服务事项。", code=code))
        return Template(
            "history.html",
            context={
                "code": code,
                "name": found.guide.name,
                "entries": await queries.item_history(code),
            },
        )

    @get("/changes.atom", name="feed", media_type="application/atom+xml; charset=utf-8")
    async def feed(self, urls: NamedDependency[Urls]) -> Response[bytes]:
        return Response(atom_feed(await queries.recent_changes(limit=50), urls))
