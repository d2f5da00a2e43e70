"""The named checks (registry.checks) over the whole registry: `onetrip check`, the staff
board's counts per department, and the per-department quality page.

Every current, not withdrawn item's edition is read in batches of BATCH rows (its content JSON),
so memory stays flat at 100 000 items; the staff pages cache the result by the change log's head
(PublicReads.memo), so it is computed once per publication, not once per page view.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import msgspec

from registry import checks
from registry.editions.schema import EditionContent
from registry.tables import Department, Edition, Material, ServiceItem

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
