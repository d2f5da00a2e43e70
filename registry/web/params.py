"""Checking query parameters shared by pages and the API (messages in Chinese)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from guides.i18n import _
from registry import queries
from registry.errors import FieldError
from registry.tables import Level


async def item_filter(
    department: str | None,
    level: str | None,
    trips: str | None,
    page: str | None,
    *,
    exists: Callable[[str], Awaitable[bool]] = queries.department_exists,
) -> tuple[queries.ItemFilter, int, list[FieldError]]:
    errors: list[FieldError] = []
    department = (department or "").strip() or None
    level = (level or "").strip() or None
    trips = (trips or "").strip() or None
    if department and not await exists(department):
        errors.append(FieldError("department", _("没有编码为“{v}”的实施主体", v=department)))
        department = None
    if level and level not in {lv.value for lv in Level}:
        errors.append(FieldError("level", _("层级应为 city（市级）或 district（区县级）")))
        level = None
    if trips and trips not in queries.TRIP_FILTERS:
        errors.append(FieldError("trips", _("到现场次数应为 0、1 或 2+")))
        trips = None
    number = 1
    if page not in (None, ""):
        if page.isdigit() and 1 <= int(page) <= 100_000:
            number = int(page)
        else:
            errors.append(FieldError("page", _("页码应为正整数")))
    return queries.ItemFilter(department, level, trips), number, errors
