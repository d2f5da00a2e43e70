"""最多跑一次 metrics (seed item 27), as of any date.

"In force on D" = for each item, the highest-versioned edition that had been published by the end
of D (Beijing time) and whose effective date is on or before D; an item whose edition in force is a
withdrawal does not count. So a past date gives the answer that was true then.

Targets are data (registry.tables.Target). The city level's target applies to the city-level
departments together; the district level's target to each district-level unit, where a
development zone run by a district's administration counts with that district.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from guides.clock import CHINA, local_midnight
from guides.i18n import _
from registry.tables import ChangeRecord, Department, Edition, Target

MET, MISSED, PENDING = "达标", "未达标", "未到期"


@dataclass(frozen=True, slots=True)
class InForce:
    code: str
    name: str
    department: str
    trips: int
    trips_reason: str


@dataclass(frozen=True, slots=True)
class Counts:
    items: int = 0
    trips_0: int = 0
    trips_1: int = 0
    trips_2_plus: int = 0

    @property
    def at_most_once(self) -> int:
        return self.trips_0 + self.trips_1

    @property
    def rate(self) -> float | None:
        return self.at_most_once / self.items if self.items else None

    def add(self, trips: int) -> Counts:
        return Counts(
            self.items + 1,
            self.trips_0 + (trips == 0),
            self.trips_1 + (trips == 1),
            self.trips_2_plus + (trips >= 2),
        )


@dataclass(frozen=True, slots=True)
class Goal:
    percent: int
    deadline: date
    note: str = ""

    @property
    def rate(self) -> float:
        return self.percent / 100


def status(rate: float | None, goal: Goal | None, as_of: date) -> str | None:
    if goal is None or rate is None:
        return None
    if rate >= goal.rate:
        return MET
    return PENDING if as_of <= goal.deadline else MISSED


def goal_for(goals: Iterable[Goal], as_of: date) -> Goal | None:
    """The binding goal on `as_of`: the latest one already due, else the next one coming."""
    goals = sorted(goals, key=lambda g: g.deadline)
    due = [g for g in goals if g.deadline <= as_of]
    if due:
        return due[-1]
    return goals[0] if goals else None


@dataclass(frozen=True, slots=True)
class Unit:
    code: str  # the department, or for a district with a co-administered zone, the district
    name: str
    level: str
    members: tuple[str, ...]  # department codes counted in this unit


@dataclass(frozen=True, slots=True)
class UnitResult:
    unit: Unit
    counts: Counts
    goal: Goal | None
    status: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "department": self.unit.code,
            "name": self.unit.name,
            "level": self.unit.level,
            "members": list(self.unit.members),
            **_counts_dict(self.counts),
            "target": self.goal.rate if self.goal else None,
            "deadline": self.goal.deadline if self.goal else None,
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class LevelResult:
    level: str
    counts: Counts
    goal: Goal | None
    status: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            **_counts_dict(self.counts),
            "target": self.goal.rate if self.goal else None,
            "deadline": self.goal.deadline if self.goal else None,
            "status": self.status,
        }


def _counts_dict(c: Counts) -> dict[str, Any]:
    return {
        "items": c.items,
        "trips_0": c.trips_0,
        "trips_1": c.trips_1,
        "trips_2_plus": c.trips_2_plus,
        "rate": round(c.rate, 4) if c.rate is not None else None,
    }


@dataclass(frozen=True, slots=True)
class Report:
    as_of: date
    levels: list[LevelResult]
    units: list[UnitResult]
    city_wide: Counts
    items: list[InForce] = field(default_factory=list)

    def unit(self, code: str) -> UnitResult | None:
        return next((u for u in self.units if u.unit.code == code), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "levels": [lv.to_dict() for lv in self.levels],
            "units": [u.to_dict() for u in self.units],
            "city_wide": _counts_dict(self.city_wide),
        }


def compute(
    as_of: date,
    items: list[InForce],
    units: list[Unit],
    goals: Mapping[str, list[Goal]],
    *,
    overrides: Mapping[str, int] | None = None,
) -> Report:
    """The pure calculation. `overrides` ("what if") replaces trip counts; nothing is saved."""
    if overrides:
        items = [replace(i, trips=overrides[i.code]) if i.code in overrides else i for i in items]
    by_department: dict[str, Counts] = defaultdict(Counts)
    for item in items:
        by_department[item.department] = by_department[item.department].add(item.trips)
    return replace(compute_counts(as_of, by_department, units, goals), items=items)


def compute_counts(
    as_of: date, by_department: Mapping[str, Counts], units: list[Unit], goals: Mapping[str, list[Goal]]
) -> Report:
    """The pure calculation from counts per department (what `in_force_counts` loads)."""
    unit_results = []
    for unit in units:
        counts = Counts()
        for member in unit.members:
            c = by_department.get(member, Counts())
            counts = Counts(
                counts.items + c.items,
                counts.trips_0 + c.trips_0,
                counts.trips_1 + c.trips_1,
                counts.trips_2_plus + c.trips_2_plus,
            )
        goal = goal_for(goals.get(unit.level, []), as_of)
        unit_results.append(UnitResult(unit, counts, goal, status(counts.rate, goal, as_of)))
    levels = []
    for level in ("city", "district"):
        results = [u for u in unit_results if u.unit.level == level]
        counts = Counts(*(sum(getattr(u.counts, f) for u in results) for f in Counts.__dataclass_fields__))
        goal = goal_for(goals.get(level, []), as_of)
        if level == "city":
            level_status = status(counts.rate, goal, as_of)
        else:
            # Each district-level unit must reach the target: the level is met when all are.
            statuses = [u.status for u in results if u.status is not None]
            if not statuses:
                level_status = None
            elif all(s == MET for s in statuses):
                level_status = MET
            elif MISSED in statuses:
                level_status = MISSED
            else:
                level_status = PENDING
        levels.append(LevelResult(level, counts, goal, level_status))
    city_wide = Counts(*(sum(getattr(lv.counts, f) for lv in levels) for f in Counts.__dataclass_fields__))
    return Report(as_of, levels, unit_results, city_wide)


# ---- loading ----------------------------------------------------------------------------


def end_of(day: date) -> datetime:
    return local_midnight(day + timedelta(days=1))


async def published_editions() -> list[dict[str, Any]]:
    """Every edition ever published, with what the metrics need (one query)."""
    return await Edition.select(
        Edition.item.code,
        Edition.item.department.code,
        Edition.name,
        Edition.version,
        Edition.trips,
        Edition.trips_reason,
        Edition.effective_at,
        Edition.published_at,
        Edition.withdraw,
    ).where(Edition.published_at.is_not_null())


def in_force(editions: list[dict[str, Any]], as_of: date) -> list[InForce]:
    cutoff = end_of(as_of)
    best: dict[str, dict[str, Any]] = {}
    for e in editions:
        if e["effective_at"] <= as_of and e["published_at"] < cutoff:
            code = e["item.code"]
            if code not in best or e["version"] > best[code]["version"]:
                best[code] = e
    return sorted(
        (
            InForce(code, e["name"], e["item.department.code"], e["trips"], e["trips_reason"])
            for code, e in best.items()
            if not e["withdraw"]
        ),
        key=lambda i: i.code,
    )


async def load_units() -> list[Unit]:
    departments = await Department.select().order_by(Department.position)
    names = {d["code"]: d["short_name"] for d in departments}
    zones: dict[str, list[str]] = defaultdict(list)
    for d in departments:
        if d["shares_administration_with"]:
            zones[d["shares_administration_with"]].append(d["code"])
    units = []
    for d in departments:
        if d["shares_administration_with"]:
            continue  # counted with the district that administers it
        members = (d["code"], *zones.get(d["code"], []))
        name = d["short_name"]
        if len(members) > 1:
            name = _("{d}（含{z}）", d=name, z="、".join(names[z] for z in members[1:]))
        units.append(Unit(d["code"], name, d["level"], members))
    return units


async def load_goals() -> dict[str, list[Goal]]:
    goals: dict[str, list[Goal]] = defaultdict(list)
    for t in await Target.select().order_by(Target.deadline):
        goals[t["level"]].append(Goal(t["percent"], t["deadline"], t["note"]))
    return dict(goals)


# In force on a date, in SQL: per item, the highest version published by the end of the day and
# effective on or before it; withdrawals count as nothing. The edition index
# (item, version, published_at, effective_at, withdraw, trips) answers it without the table.
IN_FORCE_SQL = """
FROM (SELECT item, MAX(version) AS version FROM edition
      WHERE published_at IS NOT NULL AND published_at < {} AND effective_at <= {}
      GROUP BY item) AS best
JOIN edition e ON e.item = best.item AND e.version = best.version
JOIN service_item si ON si.id = e.item
JOIN department d ON d.id = si.department
WHERE e.withdraw = {}
"""


async def in_force_counts(as_of: date) -> dict[str, Counts]:
    """Counts of the items in force on `as_of`, per department code: one SQL aggregate."""
    rows = await Edition.raw(
        "SELECT d.code AS department, COUNT(*) AS items,"
        " SUM(CASE WHEN e.trips = 0 THEN 1 ELSE 0 END) AS trips_0,"
        " SUM(CASE WHEN e.trips = 1 THEN 1 ELSE 0 END) AS trips_1,"
        " SUM(CASE WHEN e.trips >= 2 THEN 1 ELSE 0 END) AS trips_2_plus " + IN_FORCE_SQL + " GROUP BY d.code",
        end_of(as_of),
        as_of,
        False,
    )
    return {
        r["department"]: Counts(r["items"], r["trips_0"] or 0, r["trips_1"] or 0, r["trips_2_plus"] or 0)
        for r in rows
    }


async def in_force_items(as_of: date, departments: Iterable[str]) -> list[InForce]:
    """The items of some departments in force on `as_of` (a unit's drill-down), by code."""
    codes = list(departments)
    if not codes:
        return []
    marks = ", ".join("{}" for _c in codes)
    rows = await Edition.raw(
        "SELECT si.code AS code, e.name AS name, d.code AS department, e.trips AS trips,"
        " e.trips_reason AS trips_reason " + IN_FORCE_SQL + f" AND d.code IN ({marks}) ORDER BY si.code",
        end_of(as_of),
        as_of,
        False,
        *codes,
    )
    return [InForce(r["code"], r["name"], r["department"], r["trips"], r["trips_reason"]) for r in rows]


async def report(as_of: date, *, overrides: Mapping[str, int] | None = None) -> Report:
    units, goals = await load_units(), await load_goals()
    if overrides:
        members = [m for u in units for m in u.members]
        return compute(as_of, await in_force_items(as_of, members), units, goals, overrides=overrides)
    return compute_counts(as_of, await in_force_counts(as_of), units, goals)


def month_ends(as_of: date, months: int = 24) -> list[date]:
    """The last day of each of the `months` months up to and including as_of's month."""
    ends = []
    year, month = as_of.year, as_of.month
    for _i in range(months):
        nxt = date(year + (month == 12), month % 12 + 1, 1)
        ends.append(min(nxt - timedelta(days=1), as_of))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(ends))


KEPT_DAYS = 480  # month ends whose counts `trend` keeps (twenty years of any as_of)


async def trend(
    as_of: date,
    months: int = 24,
    *,
    kept: MutableMapping[date, Any] | None = None,
    now: datetime | None = None,
) -> list[tuple[date, Report]]:
    """One SQL aggregate per month end (cache it: registry.reads.public memoises per head).

    `kept` (with the clock's `now`): counts of earlier calls, so that a month end is not counted
    again while nothing it depends on changed — at 100 000 items each count is ≈ 0.3 s, and the
    24 of them made the first /metrics after every publication ≈ 10 s. A day that had ended when
    it was counted depends only on the editions published before its end; later publications
    stamp `published_at` with their own, later, time, so only an edition added since (its id
    above the highest then) with an earlier `published_at` — older history being loaded — can
    change it, and one query over the new editions tells. A day not over yet is always counted."""
    units, goals = await load_units(), await load_goals()
    days = month_ends(as_of, months)
    if kept is None or now is None:
        return [(d, compute_counts(d, await in_force_counts(d), units, goals)) for d in days]
    if len(kept) > KEPT_DAYS:
        kept.clear()
    (row,) = await Edition.raw("SELECT MAX(id) AS newest FROM edition")
    newest = row["newest"] or 0
    earliest_added = None  # the earliest `published_at` among editions added since the oldest count
    oldest = min((kept[d][0] for d in days if d in kept), default=None)
    if oldest is not None:
        (row,) = await Edition.raw(
            "SELECT MIN(published_at) AS earliest FROM edition WHERE id > {} AND published_at IS NOT NULL",
            oldest,
        )
        earliest_added = row["earliest"]
        if isinstance(earliest_added, str):  # SQLite: an aggregate's value is not converted
            earliest_added = datetime.fromisoformat(earliest_added)
    out = []
    for day in days:
        found = kept.get(day)
        if found is None or (earliest_added is not None and earliest_added < end_of(day)):
            found = (newest, await in_force_counts(day))
            if end_of(day) <= now:
                kept[day] = found
        out.append((day, compute_counts(day, found[1], units, goals)))
    return out


@dataclass(frozen=True, slots=True)
class Timeliness:
    month: str
    on_time: int
    late: int
    pending: int = 0


def _month_starts(as_of: date, months: int) -> list[datetime]:
    """Beijing midnight at the start of each of the `months` months up to as_of's, and of the
    month after: the bounds of each month of approval."""
    firsts = [d.replace(day=1) for d in month_ends(as_of, months)]
    last = firsts[-1]
    firsts.append(date(last.year + (last.month == 12), last.month % 12 + 1, 1))
    return [local_midnight(d) for d in firsts]


async def timeliness(as_of: date, months: int = 12) -> list[Timeliness]:
    """Share of publications made within their one-working-day deadline, by month of approval.
    Seed data is left out: it was never approved here. One SQL aggregate over the change log
    (a long log never holds the event loop, issue 14); editions still waiting are few."""
    bounds = _month_starts(as_of, months)
    now = end_of(as_of)
    columns, args = [], []
    for k in range(months):
        window = "approved_at >= {} AND approved_at < {} AND published_at < {}"
        columns.append(
            f"SUM(CASE WHEN {window} AND published_at <= publish_deadline THEN 1 ELSE 0 END) AS on_{k}"
        )
        columns.append(
            f"SUM(CASE WHEN {window} AND published_at > publish_deadline THEN 1 ELSE 0 END) AS late_{k}"
        )
        args += [bounds[k], bounds[k + 1], now] * 2
    (counts,) = await ChangeRecord.raw(
        f"SELECT {', '.join(columns)} FROM change_record WHERE editor != {{}} AND kind != {{}}",
        *args,
        "seed",
        "review",
    )
    pending_rows = await Edition.select(Edition.approved_at, Edition.publish_deadline).where(
        (Edition.status == "approved")
        & (Edition.approved_at >= bounds[0])
        & (Edition.approved_at < bounds[-1])
    )
    wanted = [f"{d.year:04d}-{d.month:02d}" for d in month_ends(as_of, months)]
    buckets = {m: [counts[f"on_{k}"] or 0, counts[f"late_{k}"] or 0, 0] for k, m in enumerate(wanted)}
    for r in pending_rows:
        month = r["approved_at"].astimezone(CHINA).strftime("%Y-%m")
        if month in buckets:
            late = r["publish_deadline"] is not None and now > r["publish_deadline"]
            buckets[month][1 if late else 2] += 1
    return [Timeliness(m, *buckets[m]) for m in wanted]


def narrowed(report: Report, *, level: str | None, department: str | None) -> dict[str, Any]:
    """The report as JSON, narrowed to a level and/or one unit (by its code or a member's)."""
    from registry.errors import FieldError, ValidationError

    if level not in (None, "city", "district"):
        raise ValidationError([FieldError("level", _("层级应为 city（市级）或 district（区县级）"))])
    data = report.to_dict()
    if level:
        data["units"] = [u for u in data["units"] if u["level"] == level]
        data["levels"] = [lv for lv in data["levels"] if lv["level"] == level]
    if department:
        data["units"] = [u for u in data["units"] if department in (u["department"], *u["members"])]
        if not data["units"]:
            raise ValidationError([FieldError("department", _("没有编码为“{v}”的单位", v=department))])
    return data


def level_result(report: Report, level: str) -> LevelResult:
    return next(lv for lv in report.levels if lv.level == level)


async def save_target(
    actor: Any, *, target_id: int | None, level: str, percent: str, deadline: str, note: str
) -> None:
    """Add (target_id None) or change a target. Admins only."""
    from registry.access import PermissionDenied
    from registry.errors import FieldError, ValidationError
    from registry.tables import Role

    if actor.role != Role.admin:
        raise PermissionDenied(_("只有管理员可以设置目标。"))
    errors = []
    if level not in ("city", "district"):
        errors.append(FieldError("level", _("层级应为 city（市级）或 district（区县级）")))
    if not percent.strip().isdigit() or not 1 <= int(percent) <= 100:
        errors.append(FieldError("percent", _("应为 1 到 100 之间的整数")))
    try:
        day = date.fromisoformat(deadline.strip())
    except ValueError:
        errors.append(FieldError("deadline", _("日期格式应为 YYYY-MM-DD")))
    if errors:
        raise ValidationError(errors)
    values = {
        Target.level: level,
        Target.percent: int(percent),
        Target.deadline: day,
        Target.note: note.strip(),
    }
    if target_id is None:
        await Target.insert(Target(level=level, percent=int(percent), deadline=day, note=note.strip()))
    else:
        await Target.update(values).where(Target.id == target_id)


async def list_targets() -> list[dict[str, Any]]:
    return await Target.select().order_by(Target.level).order_by(Target.deadline)


# ---- tables for spreadsheets ---------------------------------------------------------------

TABLE_HEADERS = (
    "层级",
    "单位编码",
    "单位",
    "事项数",
    "零跑动",
    "跑一次",
    "跑多次",
    "最多跑一次比例",
    "目标",
    "期限",
    "状态",
)


def table_rows(report: Report) -> list[list[Any]]:
    """The metric tables as rows (levels, then units, then city-wide), for XLSX and CSV."""
    from guides.labels import level_label

    def row(level: str, code: str, name: str, c: Counts, goal: Goal | None, state: str | None) -> list[Any]:
        return [
            level,
            code,
            name,
            c.items,
            c.trips_0,
            c.trips_1,
            c.trips_2_plus,
            c.rate if c.rate is not None else "",
            goal.rate if goal else "",
            goal.deadline.isoformat() if goal else "",
            state or "",
        ]

    rows = [
        row(level_label(lv.level), lv.level, _("合计"), lv.counts, lv.goal, lv.status) for lv in report.levels
    ]
    rows += [
        row(level_label(u.unit.level), u.unit.code, u.unit.name, u.counts, u.goal, u.status)
        for u in report.units
    ]
    rows.append(row(_("全市"), "ALL", _("全市"), report.city_wide, None, None))
    return rows


# ---- 承诺时限压缩比 (seed item 31): a promise kept, item by item ------------------------------


@dataclass(frozen=True, slots=True)
class Compression:
    """Statutory against promised days of a department's items in force (those with a statutory
    time limit): the compression is 1 − promised / statutory, over the sums."""

    department: str
    name: str
    level: str
    items: int
    statutory_days: int
    promised_days: int

    @property
    def ratio(self) -> float | None:
        if not self.statutory_days:
            return None
        return 1 - self.promised_days / self.statutory_days

    def to_dict(self) -> dict[str, Any]:
        return {
            "department": self.department,
            "name": self.name,
            "level": self.level,
            "items": self.items,
            "statutory_days": self.statutory_days,
            "promised_days": self.promised_days,
            "compression": round(self.ratio, 4) if self.ratio is not None else None,
        }


async def compression(as_of: date) -> list[Compression]:
    """Per department, in department order, then the whole registry (department "")."""
    rows = await Edition.raw(
        "SELECT d.code AS department, COUNT(*) AS items, SUM(e.statutory_days) AS statutory,"
        " SUM(e.promised_days) AS promised " + IN_FORCE_SQL + " AND e.statutory_days > 0 GROUP BY d.code",
        end_of(as_of),
        as_of,
        False,
    )
    found = {r["department"]: r for r in rows}
    result = []
    for d in await Department.select().order_by(Department.position):
        r = found.get(d["code"])
        if r is not None:
            result.append(
                Compression(
                    d["code"],
                    d["short_name"],
                    d["level"],
                    r["items"],
                    int(r["statutory"]),
                    int(r["promised"]),
                )
            )
    total = Compression(
        "",
        _("全市"),
        "",
        sum(c.items for c in result),
        sum(c.statutory_days for c in result),
        sum(c.promised_days for c in result),
    )
    return [*result, total]
