"""The named checks (registry.checks) over the whole registry.

`onetrip check` (`check_registry`) reads every current, not withdrawn item's content in batches
of BATCH rows, so memory stays flat at 100 000 items (about 10 s per 10 000 items).

The staff pages must not do that per view: each item's findings on its current guide are stored
(`QualityFinding`), recomputed for that item whenever its current guide changes
(registry.editions.publication.make_current) and in bulk when seeds are loaded, so the board's
counts per department are one indexed aggregate. Staleness (Q015, Q016) depends on the day asked
and is read from `ServiceItem.reviewed_on` instead.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import msgspec

from registry import checks
from registry.db import bulk_insert, row_values
from registry.editions import store
from registry.editions.schema import EditionContent
from registry.tables import Department, Edition, Material, QualityFinding, ServiceItem

BATCH = 2000


@dataclass(frozen=True, slots=True)
class ItemFindings:
    code: str
    name: str
    department: str  # code
    findings: tuple[checks.Finding, ...]


@dataclass(slots=True)
class Report:
    today: date
    items: int = 0
    rows: list[ItemFindings] = field(default_factory=list)  # only items with findings
    departments: dict[str, str] = field(default_factory=dict)  # code -> short name, in order

    def per_rule(self) -> Counter[str]:
        return Counter(f.code for r in self.rows for f in r.findings)

    def items_per_rule(self) -> Counter[str]:
        return Counter(code for r in self.rows for code in {f.code for f in r.findings})

    def per_department(self) -> dict[str, Counter[str]]:
        """department code -> {"error": n, "warning": n} (findings)."""
        out: dict[str, Counter[str]] = {}
        for r in self.rows:
            for f in r.findings:
                out.setdefault(r.department, Counter())[f.severity.value] += 1
        return out

    def errors(self) -> int:
        return sum(1 for r in self.rows for f in r.findings if f.severity == checks.Severity.error)

    def of_department(self, code: str) -> list[ItemFindings]:
        return [r for r in self.rows if r.department == code]


async def gov_issued_codes() -> frozenset[str]:
    """Catalogue materials a department of ours issues (减证 candidates)."""
    rows = await Material.select(Material.code).where(Material.issuer_department.is_not_null())
    return frozenset(r["code"] for r in rows)


async def check_registry(today: date, *, department: str | None = None) -> Report:
    report = Report(today=today)
    for d in await Department.select(Department.code, Department.short_name).order_by(Department.position):
        report.departments[d["code"]] = d["short_name"]
    gov = await gov_issued_codes()
    decoder = msgspec.json.Decoder(EditionContent)
    last = 0
    while True:
        query = (
            ServiceItem.select(
                ServiceItem.id,
                ServiceItem.code,
                ServiceItem.item_type,
                ServiceItem.current_edition,
                ServiceItem.reviewed_on,
                ServiceItem.department.code,
            )
            .where(
                (ServiceItem.id > last)
                & (ServiceItem.withdrawn == False)  # noqa: E712
                & ServiceItem.current_edition.is_not_null()
            )
            .order_by(ServiceItem.id)
            .limit(BATCH)
        )
        if department:
            query = query.where(ServiceItem.department.code == department)
        items = await query
        if not items:
            break
        last = items[-1]["id"]
        contents = {
            e["id"]: e["content"]
            for e in await Edition.select(Edition.id, Edition.content).where(
                Edition.id.is_in([i["current_edition"] for i in items])
            )
        }
        for i in items:
            raw = contents[i["current_edition"]]
            content = decoder.decode(raw if isinstance(raw, str | bytes) else msgspec.json.encode(raw))
            context = checks.Context(
                item_type=i["item_type"], gov_issued=gov, reviewed_on=i["reviewed_on"], today=today
            )
            report.items += 1
            found = checks.run(content, context)
            if found:
                report.rows.append(ItemFindings(i["code"], content.name, i["department.code"], tuple(found)))
    return report


# ---- kept in step with publication: the staff pages' counts are one indexed aggregate ---------

STALE_CODES = ("Q015", "Q016")


def stored_rows(item_id: int, department_id: int, findings: list[checks.Finding]) -> list[dict]:
    return [
        row_values(
            QualityFinding,
            item=item_id,
            department=department_id,
            code=f.code,
            severity=f.severity.value,
            field=f.field[:100],
            message=f.message,
        )
        for f in findings
    ]


async def refresh_item(item_id: int) -> None:
    """Recompute the stored findings of one item's current guide (inside the publishing
    transaction). Staleness is not stored: it depends on the day asked."""
    await QualityFinding.delete().where(QualityFinding.item == item_id)
    row = (
        await ServiceItem.select(
            ServiceItem.item_type, ServiceItem.department, ServiceItem.withdrawn, ServiceItem.current_edition
        )
        .where(ServiceItem.id == item_id)
        .first()
    )
    if row is None or row["withdrawn"] or row["current_edition"] is None:
        return
    content = await store.edition_content(row["current_edition"])
    context = checks.Context(item_type=row["item_type"], gov_issued=await gov_issued_codes())
    await bulk_insert(QualityFinding, stored_rows(item_id, row["department"], checks.run(content, context)))


async def store_new(entries: list[tuple[int, int, str, EditionContent]], gov: frozenset[str]) -> None:
    """Findings of newly published items (item id, department id, item type, content): seeding."""
    rows = []
    for item_id, department_id, item_type, content in entries:
        found = checks.run(content, checks.Context(item_type=item_type, gov_issued=gov))
        rows.extend(stored_rows(item_id, department_id, found))
    await bulk_insert(QualityFinding, rows)


async def rebuild() -> int:
    """Recompute every stored finding (the migration that adds them; after catalogue changes)."""
    await QualityFinding.delete(force=True)
    report = await check_registry(date.min)  # date.min: no staleness (it is never stored)
    ids = {
        r["code"]: (r["id"], r["department"])
        for r in await ServiceItem.select(ServiceItem.id, ServiceItem.code, ServiceItem.department)
    }
    rows = []
    for found in report.rows:
        item_id, department_id = ids[found.code]
        rows.extend(
            stored_rows(item_id, department_id, [f for f in found.findings if f.code not in STALE_CODES])
        )
    await bulk_insert(QualityFinding, rows)
    return len(rows)


COUNTS_SQL = """
SELECT d.code AS department, q.code AS code, q.severity AS severity, COUNT(*) AS findings,
       COUNT(DISTINCT q.item) AS items
FROM quality_finding q JOIN department d ON d.id = q.department
GROUP BY d.code, q.code, q.severity
"""
STALE_SQL = """
SELECT d.code AS department,
       SUM(CASE WHEN si.reviewed_on <= {} THEN 1 ELSE 0 END) AS stale,
       SUM(CASE WHEN si.reviewed_on > {} AND si.reviewed_on <= {} THEN 1 ELSE 0 END) AS due
FROM service_item si JOIN department d ON d.id = si.department
WHERE si.withdrawn = {} AND si.current_edition IS NOT NULL AND si.reviewed_on <= {}
GROUP BY d.code
"""


def _stale_bounds(today: date) -> tuple[date, date]:
    from registry.freshness import add_months

    return add_months(today, -checks.STALE_MONTHS), add_months(today, -checks.STALE_WARNING_MONTHS)


@dataclass(slots=True)
class Summary:
    """Counts of the stored findings and of stale guides, per department and per rule."""

    items: int
    departments: dict[str, str]
    per_department: dict[str, Counter[str]]
    per_rule: Counter[str]
    items_per_rule: Counter[str]


async def summary(today: date) -> Summary:
    departments = {
        d["code"]: d["short_name"]
        for d in await Department.select(Department.code, Department.short_name).order_by(Department.position)
    }
    per_department: dict[str, Counter[str]] = {}
    per_rule: Counter[str] = Counter()
    items_per_rule: Counter[str] = Counter()
    for r in await QualityFinding.raw(COUNTS_SQL):
        per_department.setdefault(r["department"], Counter())[r["severity"]] += r["findings"]
        per_rule[r["code"]] += r["findings"]
        items_per_rule[r["code"]] += r["items"]
    stale, due = _stale_bounds(today)
    for r in await ServiceItem.raw(STALE_SQL, stale, stale, due, False, due):
        counts = per_department.setdefault(r["department"], Counter())
        counts[checks.Severity.error.value] += r["stale"] or 0
        counts[checks.Severity.warning.value] += r["due"] or 0
        for code, n in (("Q015", r["stale"] or 0), ("Q016", r["due"] or 0)):
            per_rule[code] += n
            items_per_rule[code] += n
    items = await ServiceItem.count().where(
        (ServiceItem.withdrawn == False) & ServiceItem.current_edition.is_not_null()  # noqa: E712
    )
    return Summary(
        items, departments, {k: v for k, v in per_department.items() if +v}, per_rule, items_per_rule
    )


async def department_findings(code: str, today: date) -> list[ItemFindings]:
    """The stored findings of one department's current guides, with the stale ones of today."""
    _stale, due = _stale_bounds(today)
    items = await ServiceItem.select(
        ServiceItem.id, ServiceItem.code, ServiceItem.current_edition, ServiceItem.reviewed_on
    ).where(
        (ServiceItem.department.code == code)
        & (ServiceItem.withdrawn == False)  # noqa: E712
        & ServiceItem.current_edition.is_not_null()
    )
    by_item: dict[int, list[checks.Finding]] = {}
    for r in await QualityFinding.select().where(QualityFinding.item.is_in([i["id"] for i in items] or [-1])):
        finding = checks.Finding(r["code"], checks.Severity(r["severity"]), r["field"], r["message"])
        by_item.setdefault(r["item"], []).append(finding)
    for i in items:
        reviewed = i["reviewed_on"]
        if reviewed is not None and reviewed <= due:
            context = checks.Context(reviewed_on=reviewed, today=today)
            for check in (checks.BY_CODE[c] for c in STALE_CODES):
                by_item.setdefault(i["id"], []).extend(check.run(None, context))
    names = {
        e["id"]: e["name"]
        for e in await Edition.select(Edition.id, Edition.name).where(
            Edition.id.is_in([i["current_edition"] for i in items if i["id"] in by_item] or [-1])
        )
    }
    return [
        ItemFindings(i["code"], names.get(i["current_edition"], i["code"]), code, tuple(by_item[i["id"]]))
        for i in sorted(items, key=lambda i: i["code"])
        if by_item.get(i["id"])
    ]
