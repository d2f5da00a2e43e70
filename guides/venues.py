"""Opening hours as data: what a venue's hours mean today ("今天 10:00–19:30", "今天休息（国庆节）").

The registry knows the working-day calendar (statutory holidays and 调休); it hands the day's facts
in as a `DayFacts`, so this stays a pure function of a venue and a day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from guides.i18n import _
from guides.snapshot import Venue

WEEKDAYS = ("一", "二", "三", "四", "五", "六", "日")
DEFAULT_DAYS = WEEKDAYS[:5]
_EXCEPTION = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})\s*=\s*(休息|[0-9]{2}:[0-9]{2}-[0-9]{2}:[0-9]{2})")
_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]", re.ASCII)
_SPAN = re.compile(r"(([01][0-9]|2[0-3]):[0-5][0-9])-(([01][0-9]|2[0-3]):[0-5][0-9])", re.ASCII)


@dataclass(frozen=True, slots=True)
class DayFacts:
    """One day as the working-day calendar sees it."""

    day: date
    workday: bool  # a working day, including a make-up working day (调休上班)
    holiday: str = ""  # the statutory holiday's name ("国庆节") when it is one


def exceptions_of(text: str) -> dict[date, str]:
    """“2026-12-31=休息；2027-01-04=10:00-14:00” → {date: "休息" | "10:00-14:00"}; raises
    ValueError on anything else."""
    found: dict[date, str] = {}
    for part in re.split(r"[;；,，\n]+", text.strip()):
        if not part.strip():
            continue
        m = _EXCEPTION.fullmatch(part.strip())
        if not m:
            raise ValueError(part)
        found[date.fromisoformat(m.group(1))] = m.group(2)
    return found


def hours_errors(v: Venue) -> list[tuple[str, str]]:
    """(field, message) for opening hours that do not read."""
    errors = []
    for name in ("opens", "closes"):
        value = getattr(v, name)
        if value and not _TIME.fullmatch(value):
            errors.append((name, _("时间应写作 HH:MM，如 10:00")))
    if bool(v.opens) != bool(v.closes):
        errors.append(("closes", _("上班时间和下班时间应同时填写")))
    if (
        v.opens
        and v.closes
        and _TIME.fullmatch(v.opens)
        and _TIME.fullmatch(v.closes)
        and v.opens >= v.closes
    ):
        errors.append(("closes", _("下班时间应晚于上班时间")))
    if v.lunch and not _SPAN.fullmatch(v.lunch):
        errors.append(("lunch", _("午休应写作 HH:MM-HH:MM，如 14:00-15:30")))
    if v.exceptions:
        try:
            exceptions_of(v.exceptions)
        except ValueError:
            errors.append(("exceptions", _("特殊安排应写作“YYYY-MM-DD=休息”或“YYYY-MM-DD=HH:MM-HH:MM”")))
    if v.coordinates and not re.fullmatch(
        r"-?[0-9]{1,2}(\.[0-9]+)?,\s*-?[0-9]{1,3}(\.[0-9]+)?", v.coordinates
    ):
        errors.append(("coordinates", _("坐标应写作“纬度,经度”，如 43.8256,87.6168")))
    return errors


def _span(text: str) -> str:
    return text.replace("-", "–")


def weekly_hours(v: Venue) -> str:
    """The regular hours in words: “周一至周五 10:00–19:30（14:00–15:30 午休）”, or the free text."""
    if not v.opens:
        return v.hours
    days = v.open_days or DEFAULT_DAYS
    if "".join(days) in "".join(WEEKDAYS) and len(days) > 2:
        which = _("周{a}至周{b}", a=days[0], b=days[-1])
    else:
        which = "、".join(_("周{d}", d=d) for d in days)
    text = f"{which} {v.opens}–{v.closes}"
    if v.lunch:
        text += _("（{span} 午休）", span=_span(v.lunch))
    return text


def hours_today(v: Venue, facts: DayFacts | None) -> str:
    """ "今天 10:00–19:30（14:00–15:30 午休）" or "今天休息（国庆节）"; "" when the venue has no
    hours as data or the calendar does not know the day."""
    if facts is None or not v.opens:
        return ""
    try:
        special = exceptions_of(v.exceptions).get(facts.day)
    except ValueError:
        special = None
    if special == "休息":
        return _("今天休息（特殊安排）")
    if special:
        return _("今天 {span}（特殊安排）", span=_span(special))
    if facts.holiday:
        return _("今天休息（{name}）", name=facts.holiday)
    weekday = facts.day.weekday()
    if facts.workday and weekday >= 5:
        open_today = True  # a make-up working day (调休上班): the hall follows the calendar
    else:
        open_today = WEEKDAYS[weekday] in (v.open_days or DEFAULT_DAYS)
    if not open_today:
        return _("今天休息（周末）") if facts.day.weekday() >= 5 else _("今天休息")
    text = _("今天 {a}–{b}", a=v.opens, b=v.closes)
    if v.lunch:
        text += _("（{span} 午休）", span=_span(v.lunch))
    return text
