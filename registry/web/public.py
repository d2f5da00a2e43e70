"""Public pages: the home page, the item list and the online-hall guide."""

from __future__ import annotations

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from guides.clock import local_today
from guides.i18n import _
from guides.urls import Urls
from registry import queries, rendered
from registry.diff import diff_guides
from registry.events import reads as event_reads
from registry.inputs import Invalid, parse_int
from registry.reads.public import Overview, PublicReads
from registry.search import vocabulary
from registry.settings import Settings
from registry.vocab import ITEM_TYPES
from registry.web.deps import calendar, now
from registry.web.feed import atom_feed
from registry.web.params import item_filter
from registry.web.rendering import cached_response, etag_for, query_param, reads_of, render, urls_of
from registry.web.search import topic_counts
from registry.web.security import allow_style_hashes
from registry.workdays import day_facts


class GoneException(HTTPException):
    status_code = 410


def printed_version(v: str | None) -> int:
    """The version a scanned printout carries (`?v=`); anything unreadable counts as current."""
    try:
        return parse_int(v, lo=1, hi=2**31 - 1) if v else 2**31
    except Invalid:
        return 2**31


async def _outdated_paper(code: str, printed: str | None, current: int) -> dict | None:
    """When a printout older than the current edition is scanned: what has changed since."""
    version = printed_version(printed)
    if version >= current:
        return None
    since = [e for e in await queries.item_history(code) if e.version_after > version]
    return {
        "printed": version,
        "current": current,
        "changes": [(e.version_after, e.effective_at, line) for e in reversed(since) for line in e.lines],
    }


def _home_context(overview: Overview) -> dict:
    departments = overview.summaries()
    return {
        "departments": departments,
        "shares_name": {d.code: d.short_name for d in departments},
        "total_items": sum(d.items for d in departments),
        "total_once": sum(d.at_most_once for d in departments),
        "total_zero": overview.total(queries.ItemFilter(trips="0")),
    }


class PublicController(Controller):
    include_in_schema = False

    @get("/", name="home")
    async def home(self, request: Request, reads: NamedDependency[PublicReads]) -> Response[bytes]:
        async def page() -> bytes:
            topics = (await reads.memo("search-vocabulary", vocabulary.load)).topics
            context = {
                **_home_context(await reads.overview()),
                "topics": topics,
                "topic_counts": await topic_counts(reads),
                "item_types": ITEM_TYPES,
                "life_events": list((await event_reads.cached(reads)).values()),
            }
            return render(request, "index.html", context)

        head = await reads.head()
        stored = await reads.compressed_page("home", page)
        return cached_response(request, stored.body, etag=etag_for("home", repr(head)), gzipped=True)

    @get("/items", name="items")
    async def items(
        self,
        request: Request,
        settings: NamedDependency[Settings],
        reads: NamedDependency[PublicReads],
        department: FromQuery[str | None] = None,
        level: FromQuery[str | None] = None,
        trips: FromQuery[str | None] = None,
        page: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        flt, number, errors = await item_filter(
            department, level, trips, page, exists=reads.department_exists
        )
        htmx = request.headers.get("HX-Request") == "true"

        async def body() -> bytes:
            rows, total = await reads.list_items(flt, page=number, page_size=settings.page_size)
            context = {
                "departments": await reads.department_summaries(),
                "filters": flt,
                "errors": errors,
                "rows": rows,
                "total": total,
                "page": number,
                "pages": max(1, -(-total // settings.page_size)),
            }
            return render(request, "items.html", context, block="results" if htmx else None)

        headers = {"Vary": "HX-Request"}
        if errors:
            # A bad filter is shown in the page; htmx swaps only 2xx, a plain request gets a 400.
            return cached_response(request, await body(), headers=headers, status_code=200 if htmx else 400)
        stored = await reads.compressed_page(("items", flt, number, htmx, settings.page_size), body)
        return cached_response(request, stored.body, headers=headers, gzipped=True)

    @get("/g/{code:str}", name="guide")
    async def guide(self, request: Request) -> Response[bytes] | Redirect:
        """`?v=`: the version printed on a paper guide (its QR code carries it). The hottest
        route: no per-request DI, and its parameters are read from the request rather than
        parsed into arguments (Litestar's parameter model is a tenth of a page from memory)."""
        code, v = request.path_params["code"], query_param(request, "v")
        reads, urls = reads_of(request), urls_of(request)
        today = local_today(now(request))
        found, fetched = await reads.current_and_stored(code, "hall", today)
        canonical = code.strip().upper()
        # Codes are upper case; a hand-typed "650100-sgsj-001" still finds its guide.
        if (
            found.status == "missing"
            and code != canonical
            and (await reads.current(canonical)).status != "missing"
        ):
            return Redirect(path=f"/g/{canonical}", status_code=301)
        if found.status == "missing":
            raise NotFoundException(_("没有找到编码为“{code}”的服务事项。", code=code))
        if found.status == "withdrawn":
            guide = await reads.snapshot(found.edition_id, found.fingerprint)
            raise GoneException(_("服务事项“{name}”（{code}）已取消，不再办理。", name=guide.name, code=code))
        env = request.app.template_engine.engine

        async def page(outdated: dict | None = None) -> bytes:
            # Only when the page is rendered: a stored page needs neither snapshot nor calendar.
            guide = await reads.snapshot(found.edition_id, found.fingerprint)
            coming = await reads.scheduled_guide(code)
            announcement = None
            if coming is not None:
                announcement = {
                    "effective_at": coming.effective_at,
                    "lines": [c.line() for c in diff_guides(guide, coming)],
                }
            return rendered.hall_page(
                guide,
                found.fingerprint,
                urls,
                env,
                announcement=announcement,
                outdated=outdated,
                today_facts=day_facts(calendar(), today),  # "今天 10:00–19:30" / "今天休息（国庆节）"
                reviewed_on=found.reviewed_on,
                review_flag=found.review_flag,
            )

        headers = {"X-Content-Fingerprint": found.fingerprint, "Cache-Control": "public, max-age=60"}
        if v is not None and printed_version(v) < found.version:
            # An old printout: what changed since it was printed (rare, not cached).
            body = await page(await _outdated_paper(code, v, found.version))
            return cached_response(request, body, headers=headers)
        key = (
            "hall",
            found.fingerprint,
            found.scheduled_fingerprint or "",
            today.isoformat(),
            found.reviewed_on,
            found.review_flag,
        )
        cached = reads.documents.get(key)
        if cached is None:
            # Stored at publication (registry.rendered) unless the page changes with more than
            # its snapshot: an announcement, a law-change notice, today's opening hours.
            storable = rendered.hall_storable(
                scheduled=found.scheduled_fingerprint is not None, review_flag=found.review_flag
            )
            stored_key = rendered.hall_key(found.fingerprint, found.reviewed_on, today)
            stamp = rendered.stamp(urls)
            stored = await rendered.read(stored_key, stamp, fetched) if storable else None
            keep = reads.documents.offer  # one read away: kept once asked for twice
            if stored is None:
                stored, keep = rendered.Stored.of(await page()), reads.documents.put
                if storable:
                    rendered.remember(stored_key, stored, stamp)
            cached = keep(key, (stored, etag_for(*key)))
        stored, etag = cached
        allow_style_hashes(request.scope, stored.styles)
        return cached_response(request, stored.body, etag=etag, headers=headers, gzipped=True)

    @get("/g/{code:str}/history", name="history")
    async def history(self, reads: NamedDependency[PublicReads], code: FromPath[str]) -> Template:
        found = await reads.published_guide(code)
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
