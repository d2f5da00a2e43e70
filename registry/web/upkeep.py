"""Staff pages that keep the data right: quality checks per department, the review inbox and
"reviewed, no change" (registry.checks, registry.quality, registry.freshness)."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from guides.i18n import _
from registry import checks, freshness, quality
from registry.reads.public import PublicReads
from registry.vocab import local_today
from registry.web.auth import staff_guard
from registry.web.deps import now


async def quality_report(request: Request, reads: PublicReads) -> quality.Report:
    """The registry's findings today, computed once per change-log head and day."""
    today = local_today(now(request))
    return await reads.memo(("quality", today), lambda: quality.check_registry(today))


class UpkeepController(Controller):
    path = "/staff"
    guards = [staff_guard]  # noqa: RUF012
    include_in_schema = False

    @get("/quality", name="staff_quality")
    async def overview(self, request: Request, reads: NamedDependency[PublicReads]) -> Template:
        report = await quality_report(request, reads)
        return Template(
            "staff/quality.html",
            context={
                "actor": request.state.actor,
                "report": report,
                "per_department": report.per_department(),
                "per_rule": report.per_rule(),
                "items_per_rule": report.items_per_rule(),
                "checks": checks.CHECKS,
            },
        )

    @get("/quality/{department:str}", name="staff_quality_department")
    async def department(
        self, request: Request, reads: NamedDependency[PublicReads], department: FromPath[str]
    ) -> Template:
        report = await quality_report(request, reads)
        if department not in report.departments:
            raise NotFoundException(_("没有编码为“{code}”的实施主体。", code=department))
        rows = report.of_department(department)
        return Template(
            "staff/quality_department.html",
            context={
                "actor": request.state.actor,
                "code": department,
                "name": report.departments[department],
                "rows": rows,
                "counts": report.per_department().get(department, {}),
                "titles": {c.code: c.title for c in checks.CHECKS},
            },
        )

    @get("/inbox", name="staff_inbox")
    async def inbox(self, request: Request) -> Template:
        today = local_today(now(request))
        rows = await freshness.inbox(request.state.actor, today)
        return Template(
            "staff/inbox.html",
            context={
                "actor": request.state.actor,
                "rows": rows,
                "today": today,
                "states": {r.code: r.state(today) for r in rows},
            },
        )

    @post("/items/{code:str}/reviewed", name="staff_reviewed")
    async def reviewed(self, request: Request, code: FromPath[str]) -> Redirect:
        form = await request.form()
        await freshness.review_no_change(
            request.state.actor, code, now=now(request), note=form.get("note") or ""
        )
        return Redirect(path=request.app.route_reverse("staff_inbox"), query_params={"reviewed": code})
