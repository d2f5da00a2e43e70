"""Staff pages that keep the data right: quality checks per department, the review inbox and
"reviewed, no change" (registry.checks, registry.quality, registry.freshness)."""

from __future__ import annotations

from collections import Counter

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from guides.i18n import _
from registry import checks, freshness, quality
from registry.tables import Department
from registry.vocab import local_today
from registry.web.auth import staff_guard
from registry.web.deps import now


async def quality_summary(request: Request) -> quality.Summary:
    """Today's counts of the stored findings and of stale guides (indexed aggregates)."""
    return await quality.summary(local_today(now(request)))


class UpkeepController(Controller):
    path = "/staff"
    guards = [staff_guard]  # noqa: RUF012
    include_in_schema = False

    @get("/quality", name="staff_quality")
    async def overview(self, request: Request) -> Template:
        report = await quality_summary(request)
        return Template(
            "staff/quality.html",
            context={
                "actor": request.state.actor,
                "report": report,
                "per_department": report.per_department,
                "per_rule": report.per_rule,
                "items_per_rule": report.items_per_rule,
                "checks": checks.CHECKS,
            },
        )

    @get("/quality/{department:str}", name="staff_quality_department")
    async def department(self, request: Request, department: FromPath[str]) -> Template:
        found = await Department.select(Department.short_name).where(Department.code == department).first()
        if found is None:
            raise NotFoundException(_("没有编码为“{code}”的实施主体。", code=department))
        rows = await quality.department_findings(department, local_today(now(request)))
        counts = Counter(f.severity.value for r in rows for f in r.findings)
        return Template(
            "staff/quality_department.html",
            context={
                "actor": request.state.actor,
                "code": department,
                "name": found["short_name"],
                "rows": rows,
                "counts": counts,
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
