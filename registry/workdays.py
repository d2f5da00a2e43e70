"""Working days on China's official calendar, and the publication deadline built on them.

Policy (seed item 33): a change to a service item must be public within 1 working day after its
approval. The deadline is the END of the first working day strictly after the approval's local date
(Asia/Shanghai), on the State Council's holiday arrangement with its 调休 make-up workdays.

Conventions:

- "End of day" is 23:59:59 Asia/Shanghai of the deadline day. `publish_deadline` returns that
  instant as an aware datetime; a publication at or before it (compared as instants, at whole
  seconds) is on time, one at 24:00:00 (= 00:00:00 next day) is late.
- Only the approval's local DATE counts: an approval at 00:00:00 or at 23:59:59 of the same day
  gets the same deadline. A naive approval time means Asia/Shanghai; an offset is honoured.
- Where a day comes from, first match wins:
  1. a `[[day]]` entry of the override file (an admin's correction or the year's arrangement);
  2. the `chinese_calendar` package (1.11.0 knows 2004–2026);
  3. a year marked `complete = true` in the override file: Monday–Friday are workdays, Saturday and
     Sunday are not (the listed days were already taken in step 1).
  A date whose year none of these covers raises `CalendarGapError`; we never guess. Listed days in
  a year that is neither known to the package nor marked complete do not make it covered.

Pure: no database, no web framework.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import chinese_calendar

from guides.clock import CHINA
from guides.i18n import _
from guides.venues import DayFacts
from registry.errors import DomainError, FieldError, ValidationError
from registry.settings import PROJECT_ROOT

END_OF_DAY = time(23, 59, 59)
DEFAULT_OVERRIDES = PROJECT_ROOT / "seeds" / "calendar_overrides.toml"

DayKind = Literal["holiday", "workday"]
DAY_KINDS: tuple[str, ...] = ("holiday", "workday")

WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")

# chinese_calendar names its holidays in English; its own Chinese names are short ("清明", "中秋").
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


class CalendarGapError(DomainError):
    """A date whose year neither chinese_calendar nor the override file covers."""

    def __init__(self, day: date, overrides: Path | None = None) -> None:
        self.day = day
        self.year = day.year
        super().__init__(
            _(
                "工作日历未覆盖 {year} 年（{day}）：请在 {path} 中录入国务院公布的当年放假安排，"
                "并以 [[year]] year = {year}、complete = true 标明已录入完整",
                year=day.year,
                day=day.isoformat(),
                path=_display_path(overrides or DEFAULT_OVERRIDES),
            )
        )


class ApprovalTimeError(DomainError, ValueError):
    """Text that is not an ISO 8601 approval time (a ValueError, and a DomainError for the CLI)."""


@dataclass(frozen=True, slots=True)
class OverrideDay:
    day: date
    kind: DayKind
    note: str


@dataclass(frozen=True)
class Calendar:
    """China's working-day calendar: chinese_calendar plus the admin's override file.

    `Calendar()` is the package alone; `Calendar.load(path)` adds an override file.
    """

    days: Mapping[date, OverrideDay] = field(default_factory=lambda: MappingProxyType({}))
    complete_years: frozenset[int] = frozenset()
    source: Path | None = None

    # ---- loading ---------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path | str | None = None) -> Calendar:
        """Read an override file; raise ValidationError naming every bad entry."""
        path = Path(path) if path is not None else DEFAULT_OVERRIDES
        where = _display_path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ValidationError([FieldError("-", _("找不到工作日历覆盖文件"))], where=where) from None
        except UnicodeDecodeError as exc:
            raise ValidationError([FieldError("-", _("不是 UTF-8 文本：{e}", e=exc))], where=where) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValidationError([FieldError("-", _("不是有效的 TOML：{e}", e=exc))], where=where) from None
        days, years = _read_overrides(data, where)
        return cls(days=MappingProxyType(days), complete_years=frozenset(years), source=path)

    # ---- coverage --------------------------------------------------------------------------

    def is_covered(self, year: int) -> bool:
        """True when every day of `year` can be classified without guessing."""
        return year in self.complete_years or _package_covers(year)

    def coverage_warning(self, day: date) -> str | None:
        """Chinese text for the UI when `day`'s year is not covered; None when it is."""
        if self.is_covered(day.year):
            return None
        return _(
            "注意：{year} 年的法定节假日和调休安排尚未录入工作日历，涉及该年的工作日期限无法计算。"
            "请管理员在 {path} 中录入国务院公布的放假安排。",
            year=day.year,
            path=_display_path(self.source or DEFAULT_OVERRIDES),
        )

    def _require(self, day: date) -> None:
        if isinstance(day, datetime):
            raise TypeError("expected a date; convert a datetime to Asia/Shanghai and take .date()")
        if not self.is_covered(day.year):
            raise CalendarGapError(day, self.source)

    # ---- days ------------------------------------------------------------------------------

    def is_workday(self, day: date) -> bool:
        self._require(day)
        listed = self.days.get(day)
        if listed is not None:
            return listed.kind == "workday"
        if _package_covers(day.year):
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5  # a complete override year; its holidays are listed

    def describe(self, day: date) -> str:
        """Why `day` is or is not a working day, in Chinese: 工作日, 周末, 法定节假日（国庆节）…"""
        self._require(day)
        weekend = day.weekday() >= 5
        listed = self.days.get(day)
        if listed is not None:
            if listed.kind == "holiday":
                return _("放假（{note}）", note=listed.note)
            if weekend:
                return _("调休上班日（{note}）", note=listed.note)
            return _("工作日（{note}）", note=listed.note)
        if _package_covers(day.year):
            is_holiday, name = chinese_calendar.get_holiday_detail(day)
            label = HOLIDAY_NAMES.get(name, name) if name else None
            if is_holiday:
                return _("法定节假日（{name}）", name=label) if label else _("周末")
            if weekend:
                return _("调休上班日（{name}）", name=label) if label else _("调休上班日")
            return _("工作日")
        return _("周末") if weekend else _("工作日")

    def holiday_name(self, day: date) -> str:
        """The statutory holiday `day` falls in (“国庆节”), or "" (a working day or a weekend)."""
        self._require(day)
        listed = self.days.get(day)
        if listed is not None:
            return listed.note or _("节假日") if listed.kind == "holiday" else ""
        if _package_covers(day.year):
            is_holiday, name = chinese_calendar.get_holiday_detail(day)
            if is_holiday and name:
                return HOLIDAY_NAMES.get(name, name)
        return ""

    def add_workdays(self, day: date, n: int) -> date:
        """The `n`th working day after `day` (`day` itself when n is 0)."""
        for _i in range(n):
            day = self.next_workday_after(day)
        return day

    def next_workday_after(self, day: date) -> date:
        """The first working day strictly after `day`; CalendarGapError on reaching an uncovered year."""
        self._require(day)
        candidate = day + timedelta(days=1)
        while not self.is_workday(candidate):
            candidate += timedelta(days=1)
        return candidate

    def skipped_days(self, day: date) -> list[date]:
        """The non-working days between `day` (exclusive) and its next working day."""
        end = self.next_workday_after(day)
        return [day + timedelta(days=n) for n in range(1, (end - day).days)]

    # ---- the publication rule --------------------------------------------------------------

    def publish_deadline(self, approved_at: datetime) -> datetime:
        """23:59:59 Asia/Shanghai of the first working day after the approval's local date."""
        if approved_at.tzinfo is None or approved_at.utcoffset() is None:
            raise ValueError("approved_at must be timezone-aware (use parse_approval_time for text)")
        local_day = approved_at.astimezone(CHINA).date()
        return datetime.combine(self.next_workday_after(local_day), END_OF_DAY, tzinfo=CHINA)


# ---- approval time -------------------------------------------------------------------------


def parse_approval_time(text: str) -> datetime:
    """ISO 8601 text -> aware datetime. Naive input means Asia/Shanghai; an offset is honoured."""
    raw = text.strip() if isinstance(text, str) else ""
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ApprovalTimeError(
            _(
                "无法识别的批准时间“{text}”：请使用 ISO 8601 格式，例如 2026-09-30T18:00:00"
                "（不带时区按北京时间）或 2026-09-30T10:00:00Z",
                text=text,
            )
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=CHINA)
    return value


def deadline_report(text: str, calendar: Calendar | None = None) -> list[str]:
    """Lines for `onetrip deadline APPROVED_AT`: the deadline alone first, then why, in Chinese."""
    calendar = calendar if calendar is not None else Calendar.load()
    approved_at = parse_approval_time(text)
    deadline = calendar.publish_deadline(approved_at)
    local = approved_at.astimezone(CHINA)
    day = local.date()
    due = deadline.date()

    lines = [deadline.isoformat()]
    if approved_at.utcoffset() == local.utcoffset():
        lines.append(_("批准时间：{t}（北京时间，{w}）", t=_stamp(local), w=WEEKDAYS[day.weekday()]))
    else:
        lines.append(
            _(
                "批准时间：{given}，即北京时间 {t}（{w}）",
                given=approved_at.isoformat(),
                t=_stamp(local),
                w=WEEKDAYS[day.weekday()],
            )
        )
    if not calendar.is_workday(day):
        lines.append(_("批准当天为{why}；期限仍从次日起算", why=calendar.describe(day)))
    lines.append(
        _(
            "公开期限：批准日之后的第一个工作日 {d}（{w}）当天结束，即北京时间 {end} 前（含）公开为按时",
            d=due.isoformat(),
            w=WEEKDAYS[due.weekday()],
            end=_stamp(deadline),
        )
    )
    why = calendar.describe(due)
    if why != _("工作日"):
        lines.append(_("注：{d}（{w}）为{why}", d=due.isoformat(), w=WEEKDAYS[due.weekday()], why=why))
    skipped = calendar.skipped_days(day)
    if skipped:
        lines.append(_("跳过的非工作日（{n} 天）：", n=len(skipped)))
        lines.extend(
            _("  {d}（{w}）{why}", d=s.isoformat(), w=WEEKDAYS[s.weekday()], why=calendar.describe(s))
            for s in skipped
        )
    else:
        lines.append(_("未跳过非工作日：批准次日即为工作日"))
    return lines


# ---- helpers -------------------------------------------------------------------------------


@functools.cache
def _package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:  # "no available data for year 2027"
        return False
    return True


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _display_path(path: Path) -> str:
    path = Path(path)
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _read_overrides(data: Mapping[str, Any], where: str) -> tuple[dict[date, OverrideDay], set[int]]:
    errors: list[FieldError] = []
    days: dict[date, OverrideDay] = {}
    first_seen: dict[date, str] = {}
    years: set[int] = set()
    seen_years: dict[int, str] = {}

    for key in data:
        if key not in ("day", "year"):
            errors.append(FieldError(key, _("未知的表或字段，应为 [[day]] 或 [[year]]")))

    for i, entry in enumerate(_array(data, "day", errors)):
        path = f"day[{i}]"
        if not isinstance(entry, dict):
            errors.append(FieldError(path, _("应为 [[day]] 表")))
            continue
        for key in entry:
            if key not in ("date", "kind", "note"):
                errors.append(FieldError(f"{path}.{key}", _("未知字段（可用 date、kind、note）")))
        day = _entry_date(entry.get("date"), f"{path}.date", errors)
        label = f"{path}（{day.isoformat()}）" if day else path
        kind = entry.get("kind")
        if kind not in DAY_KINDS:
            errors.append(FieldError(f"{label}.kind", _("应为 holiday（放假）或 workday（上班）")))
        note = entry.get("note")
        if not isinstance(note, str) or not note.strip():
            errors.append(FieldError(f"{label}.note", _("必填：写明节日名称或调休依据")))
        if day is None:
            continue
        if day in first_seen:
            errors.append(
                FieldError(f"{label}.date", _("日期重复（已在 {other} 录入）", other=first_seen[day]))
            )
            continue
        first_seen[day] = path
        if kind in DAY_KINDS and isinstance(note, str) and note.strip():
            days[day] = OverrideDay(day=day, kind=kind, note=note.strip())

    for i, entry in enumerate(_array(data, "year", errors)):
        path = f"year[{i}]"
        if not isinstance(entry, dict):
            errors.append(FieldError(path, _("应为 [[year]] 表")))
            continue
        for key in entry:
            if key not in ("year", "complete", "note"):
                errors.append(FieldError(f"{path}.{key}", _("未知字段（可用 year、complete、note）")))
        year = entry.get("year")
        if isinstance(year, bool) or not isinstance(year, int) or not 1949 <= year <= 9999:
            errors.append(FieldError(f"{path}.year", _("应为年份，例如 2027")))
            year = None
        complete = entry.get("complete")
        if not isinstance(complete, bool):
            errors.append(FieldError(f"{path}.complete", _("应为 true 或 false")))
        if "note" in entry and not isinstance(entry["note"], str):
            errors.append(FieldError(f"{path}.note", _("应为文本")))
        if year is None:
            continue
        if year in seen_years:
            errors.append(
                FieldError(f"{path}.year", _("年份重复（已在 {other} 录入）", other=seen_years[year]))
            )
            continue
        seen_years[year] = path
        if complete is True:
            years.add(year)

    if errors:
        raise ValidationError(errors, where=where)
    return days, years


def _array(data: Mapping[str, Any], key: str, errors: list[FieldError]) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        errors.append(FieldError(key, _("应为 [[{key}]] 数组", key=key)))
        return []
    return value


def _entry_date(value: object, path: str, errors: list[FieldError]) -> date | None:
    if isinstance(value, datetime):
        errors.append(FieldError(path, _("应为日期 YYYY-MM-DD，不带时间")))
        return None
    if isinstance(value, date):  # a TOML date literal: date = 2027-01-01
        return value
    if isinstance(value, str):
        try:
            if len(value.strip()) == 10:
                return date.fromisoformat(value.strip())
        except ValueError:
            pass
        errors.append(FieldError(path, _("“{v}”不是有效日期，应为 YYYY-MM-DD", v=value)))
        return None
    errors.append(FieldError(path, _("必填：日期 YYYY-MM-DD")))
    return None


@lru_cache(maxsize=1)
def default_calendar() -> Calendar:
    """The working-day calendar (seeds/calendar_overrides.toml), loaded once per process."""
    return Calendar.load()


def day_facts(calendar: Calendar, day: date) -> DayFacts | None:
    """What a venue's opening hours need to know about `day`; None when the calendar does not
    cover its year (the page then shows the weekly hours alone, never a guess)."""
    try:
        return DayFacts(day, calendar.is_workday(day), calendar.holiday_name(day))
    except CalendarGapError:
        return None
