"""Loading `seeds/`: read and check everything first, then write it all in one transaction.

`read_seeds` turns the TOML files into plain records and collects every problem with its file,
entry and field; if there is any, nothing is written. `apply_seeds` is idempotent: reference data
is upserted, items that already exist are left alone (and reported if their seed differs, or
republished as a new edition with `update=True`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from guides import DepartmentRef, Guide
from guides.i18n import _
from registry.db import write_transaction
from registry.editions import store
from registry.editions.publication import publish_seed
from registry.editions.schema import EditionContent, content_from_mapping, item_code_error
from registry.errors import DomainError, ValidationError
from registry.snapshot import Catalogue, build_guide, department_ref
from registry.tables import Department, Edition, LegalDocument, Material, ServiceItem, Target
from registry.vocab import (
    DEPARTMENT_KINDS,
    DOCUMENT_KINDS,
    ITEM_TYPES,
    MATERIAL_KINDS,
    Level,
    local_midnight,
    system_now,
)


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.entry}: {self.field}: {self.message}"


class SeedError(DomainError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True, slots=True)
class SeedDepartment:
    code: str
    name: str
    short_name: str
    level: str
    kind: str
    region: str
    shares_administration_with: str | None
    position: int


@dataclass(frozen=True, slots=True)
class SeedMaterial:
    code: str
    name: str
    kind: str
    issuer: str
    issuer_department: str | None


@dataclass(frozen=True, slots=True)
class SeedDocument:
    code: str
    title: str
    kind: str
    issuer: str
    number: str
    promulgated_on: date | None
    effective_on: date | None


@dataclass(frozen=True, slots=True)
class SeedItem:
    code: str
    department: str
    item_type: str
    content: EditionContent
    file: str


@dataclass(frozen=True, slots=True)
class SeedTarget:
    level: str
    percent: int
    deadline: date
    note: str


@dataclass
class SeedBundle:
    departments: list[SeedDepartment] = field(default_factory=list)
    materials: list[SeedMaterial] = field(default_factory=list)
    documents: list[SeedDocument] = field(default_factory=list)
    items: list[SeedItem] = field(default_factory=list)
    targets: list[SeedTarget] = field(default_factory=list)


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    differs: list[str] = field(default_factory=list)  # item codes whose seed differs

    def count(self, bucket: str, kind: str) -> None:
        counts = getattr(self, bucket)
        counts[kind] = counts.get(kind, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def lines(self) -> list[str]:
        out = []
        for kind in ("departments", "documents", "materials", "items", "targets"):
            out.append(
                _(
                    "{kind}：新增 {c}，更新 {u}，未变 {n}",
                    kind=_(KIND_LABELS[kind]),
                    c=self.created.get(kind, 0),
                    u=self.updated.get(kind, 0),
                    n=self.unchanged.get(kind, 0),
                )
            )
        if self.differs:
            out.append(
                _(
                    "以下事项的种子数据与已发布版本不同（未覆盖；用 --update 发布新版本）：{codes}",
                    codes="、".join(self.differs),
                )
            )
        return out


KIND_LABELS = {
    "departments": "实施主体",
    "documents": "法律依据",
    "materials": "材料目录",
    "items": "服务事项",
    "targets": "目标",
}


# ---- reading ----------------------------------------------------------------------------


def _kind_files(root: Path, kind: str) -> list[Path]:
    files = []
    single = root / f"{kind}.toml"
    if single.is_file():
        files.append(single)
    folder = root / kind
    if folder.is_dir():
        files.extend(sorted(folder.glob("*.toml")))
    return files


def _entries(
    root: Path, kind: str, key: str, problems: list[Problem]
) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(file label, entry label, mapping) for every `[[key]]` entry of a kind."""
    for path in _kind_files(root, kind):
        label = str(path.relative_to(root.parent)) if root.parent in path.parents else str(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            problems.append(Problem(label, "-", "-", _("不是有效的 TOML：{e}", e=exc)))
            continue
        for other in data:
            if other != key:
                problems.append(Problem(label, "-", other, _("未知的表，应为 [[{key}]]", key=key)))
        entries = data.get(key, [])
        if not isinstance(entries, list):
            problems.append(Problem(label, "-", key, _("应为 [[{key}]] 数组", key=key)))
            continue
        for i, entry in enumerate(entries, start=1):
            code = entry.get("code") if isinstance(entry, dict) else None
            name = f"{key} {code}" if isinstance(code, str) and code else f"{key} #{i}"
            yield label, name, entry


def _text(
    entry: Mapping[str, Any],
    name: str,
    where: tuple[str, str],
    problems: list[Problem],
    *,
    required: bool = True,
    choices: tuple[str, ...] = (),
) -> str:
    value = entry.get(name, "")
    if not isinstance(value, str):
        problems.append(Problem(*where, name, _("应为文本")))
        return ""
    value = value.strip()
    if required and not value:
        problems.append(Problem(*where, name, _("必填")))
    elif choices and value and value not in choices:
        problems.append(Problem(*where, name, _("应为 {v} 之一", v="、".join(choices))))
    return value


def _optional_date(
    entry: Mapping[str, Any], name: str, where: tuple[str, str], problems: list[Problem]
) -> date | None:
    value = entry.get(name)
    if value is None or isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(Problem(*where, name, _("日期格式应为 YYYY-MM-DD")))
    return None


def _check_unknown(
    entry: Mapping[str, Any], known: set[str], where: tuple[str, str], problems: list[Problem]
) -> None:
    for key in entry:
        if key not in known:
            problems.append(Problem(*where, key, _("未知字段")))


def _unique(
    seen: dict[str, str], value: str, where: tuple[str, str], name: str, problems: list[Problem]
) -> None:
    if value in seen:
        problems.append(Problem(*where, name, _("“{v}”重复（已在 {f} 定义）", v=value, f=seen[value])))
    else:
        seen[value] = where[0]


def read_seeds(root: Path) -> SeedBundle:
    """Read and check every seed file; raise SeedError listing every problem."""
    root = Path(root)
    problems: list[Problem] = []
    bundle = SeedBundle()
    if not root.is_dir():
        raise SeedError([Problem(str(root), "-", "-", _("找不到种子数据目录"))])

    codes: dict[str, str] = {}
    for position, (file, entry, data) in enumerate(_entries(root, "departments", "department", problems)):
        where = (file, entry)
        _check_unknown(
            data,
            {"code", "name", "short_name", "level", "kind", "region", "shares_administration_with"},
            where,
            problems,
        )
        code = _text(data, "code", where, problems)
        _unique(codes, code, where, "code", problems)
        shares = data.get("shares_administration_with")
        bundle.departments.append(
            SeedDepartment(
                code=code,
                name=_text(data, "name", where, problems),
                short_name=_text(data, "short_name", where, problems),
                level=_text(data, "level", where, problems, choices=tuple(lv.value for lv in Level)),
                kind=_text(data, "kind", where, problems, choices=DEPARTMENT_KINDS),
                region=_text(data, "region", where, problems),
                shares_administration_with=shares if isinstance(shares, str) else None,
                position=position,
            )
        )
    by_code = {d.code: d for d in bundle.departments}
    for d in bundle.departments:
        if d.kind in ("区", "县", "开发区") and d.level != Level.district.value:
            problems.append(
                Problem("departments", f"department {d.code}", "level", _("区、县和开发区应为 district"))
            )
        if d.shares_administration_with is not None:
            other = by_code.get(d.shares_administration_with)
            if other is None or other.kind not in ("区", "县"):
                problems.append(
                    Problem(
                        "departments",
                        f"department {d.code}",
                        "shares_administration_with",
                        _("应为一个区或县的编码"),
                    )
                )

    mat_codes: dict[str, str] = {}
    mat_names: dict[str, str] = {}
    for file, entry, data in _entries(root, "materials", "material", problems):
        where = (file, entry)
        _check_unknown(data, {"code", "name", "kind", "issuer", "issuer_department"}, where, problems)
        code = _text(data, "code", where, problems)
        name = _text(data, "name", where, problems)
        _unique(mat_codes, code, where, "code", problems)
        _unique(mat_names, name, where, "name", problems)
        issuer_department = data.get("issuer_department")
        if issuer_department is not None and issuer_department not in by_code:
            problems.append(Problem(*where, "issuer_department", _("未知的实施主体编码")))
        bundle.materials.append(
            SeedMaterial(
                code=code,
                name=name,
                kind=_text(data, "kind", where, problems, choices=MATERIAL_KINDS),
                issuer=_text(data, "issuer", where, problems, required=False),
                issuer_department=issuer_department,
            )
        )

    doc_codes: dict[str, str] = {}
    for file, entry, data in _entries(root, "legal_documents", "document", problems):
        where = (file, entry)
        _check_unknown(
            data,
            {"code", "title", "kind", "issuer", "number", "promulgated_on", "effective_on"},
            where,
            problems,
        )
        code = _text(data, "code", where, problems)
        _unique(doc_codes, code, where, "code", problems)
        bundle.documents.append(
            SeedDocument(
                code=code,
                title=_text(data, "title", where, problems),
                kind=_text(data, "kind", where, problems, choices=DOCUMENT_KINDS),
                issuer=_text(data, "issuer", where, problems),
                number=_text(data, "number", where, problems, required=False),
                promulgated_on=_optional_date(data, "promulgated_on", where, problems),
                effective_on=_optional_date(data, "effective_on", where, problems),
            )
        )

    item_codes: dict[str, str] = {}
    for file, entry, data in _entries(root, "items", "item", problems):
        where = (file, entry)
        code = data.get("code")
        if (message := item_code_error(code)) is not None:
            problems.append(Problem(*where, "code", message))
            code = ""
        else:
            _unique(item_codes, code, where, "code", problems)
        department = _text(data, "department", where, problems)
        if department and department not in by_code:
            problems.append(Problem(*where, "department", _("未知的实施主体编码“{v}”", v=department)))
        item_type = _text(data, "item_type", where, problems, choices=ITEM_TYPES)
        try:
            content = content_from_mapping(data, ignore=("code", "department", "item_type"))
        except ValidationError as exc:
            problems.extend(Problem(*where, e.field, e.message) for e in exc.errors)
            continue
        for i, use in enumerate(content.materials):
            if use.material not in mat_codes:
                problems.append(
                    Problem(
                        *where,
                        f"materials[{i}].material",
                        _("材料目录中没有“{v}”", v=use.material),
                    )
                )
        for i, ref in enumerate(content.legal_basis):
            if ref.document not in doc_codes:
                problems.append(
                    Problem(
                        *where,
                        f"legal_basis[{i}].document",
                        _("法律依据中没有“{v}”", v=ref.document),
                    )
                )
        bundle.items.append(SeedItem(code, department, item_type, content, file))

    seen_targets: dict[str, str] = {}
    for file, entry, data in _entries(root, "targets", "target", problems):
        where = (file, entry)
        _check_unknown(data, {"level", "percent", "deadline", "note"}, where, problems)
        level = _text(data, "level", where, problems, choices=tuple(lv.value for lv in Level))
        percent = data.get("percent")
        if isinstance(percent, bool) or not isinstance(percent, int) or not 1 <= percent <= 100:
            problems.append(Problem(*where, "percent", _("应为 1 到 100 之间的整数")))
            percent = 0
        deadline = _optional_date(data, "deadline", where, problems)
        if deadline is None and "deadline" not in data:
            problems.append(Problem(*where, "deadline", _("必填")))
        _unique(seen_targets, f"{level} {deadline}", where, "deadline", problems)
        bundle.targets.append(
            SeedTarget(
                level,
                percent,
                deadline or date(1970, 1, 1),
                _text(data, "note", where, problems, required=False),
            )
        )

    if problems:
        raise SeedError(problems)
    return bundle


# ---- writing ----------------------------------------------------------------------------


async def _upsert(table: type, rows: list[dict[str, Any]], report: SeedReport, kind: str) -> dict[str, int]:
    """Insert or update rows keyed by `code`; return code -> id."""
    existing = {r["code"]: r for r in await table.select()}
    new = []
    for row in rows:
        old = existing.get(row["code"])
        if old is None:
            new.append(table(**row))
            report.count("created", kind)
        elif any(old[k] != v for k, v in row.items()):
            await table.update(row).where(table.code == row["code"])
            report.count("updated", kind)
        else:
            report.count("unchanged", kind)
    if new:
        await table.insert(*new)
    return {r["code"]: r["id"] for r in await table.select(table.id, table.code)}


async def _upsert_targets(targets: list[SeedTarget], report: SeedReport) -> None:
    """Targets are keyed by (level, deadline); admins may add more, which seeding leaves alone."""
    existing = {(r["level"], r["deadline"]): r for r in await Target.select()}
    for t in targets:
        old = existing.get((t.level, t.deadline))
        if old is None:
            await Target.insert(Target(level=t.level, percent=t.percent, deadline=t.deadline, note=t.note))
            report.count("created", "targets")
        elif (old["percent"], old["note"]) != (t.percent, t.note):
            await Target.update({Target.percent: t.percent, Target.note: t.note}).where(
                Target.id == old["id"]
            )
            report.count("updated", "targets")
        else:
            report.count("unchanged", "targets")


async def apply_seeds(bundle: SeedBundle, *, now: datetime | None = None, update: bool = False) -> SeedReport:
    now = now or system_now()
    report = SeedReport()
    async with write_transaction():
        dept_ids = await _upsert(
            Department,
            [
                {
                    "code": d.code,
                    "name": d.name,
                    "short_name": d.short_name,
                    "level": d.level,
                    "kind": d.kind,
                    "region": d.region,
                    "shares_administration_with": d.shares_administration_with,
                    "position": d.position,
                }
                for d in bundle.departments
            ],
            report,
            "departments",
        )
        doc_ids = await _upsert(
            LegalDocument,
            [
                {
                    "code": d.code,
                    "title": d.title,
                    "kind": d.kind,
                    "issuer": d.issuer,
                    "number": d.number,
                    "promulgated_on": d.promulgated_on,
                    "effective_on": d.effective_on,
                }
                for d in bundle.documents
            ],
            report,
            "documents",
        )
        mat_ids = await _upsert(
            Material,
            [
                {
                    "code": m.code,
                    "name": m.name,
                    "kind": m.kind,
                    "issuer": m.issuer,
                    "issuer_department": dept_ids.get(m.issuer_department) if m.issuer_department else None,
                }
                for m in bundle.materials
            ],
            report,
            "materials",
        )
        await _upsert_targets(bundle.targets, report)
        ids = store.RefIds(materials=mat_ids, documents=doc_ids)
        catalogue = await store.load_catalogue()
        departments = {r["code"]: r for r in await Department.select()}
        items = {
            r["code"]: r
            for r in await ServiceItem.select(
                ServiceItem.id,
                ServiceItem.code,
                ServiceItem.item_type,
                ServiceItem.current_edition,
            )
        }
        for seed in bundle.items:
            dept = departments[seed.department]
            ref = department_ref(dept)
            existing = items.get(seed.code)
            if existing is None:
                published_at = historical(now, seed.content.effective_at)
                await ServiceItem.insert(
                    ServiceItem(
                        code=seed.code, department=dept["id"], item_type=seed.item_type, created_at=now
                    )
                )
                await publish_seed(
                    item=await store.item_row(seed.code),
                    version=1,
                    content=seed.content,
                    catalogue=catalogue,
                    ids=ids,
                    now=published_at,
                )
                report.count("created", "items")
                continue
            current = await _current(existing["current_edition"])
            if current is not None and _same(current, seed, ref, catalogue):
                report.count("unchanged", "items")
            elif update:
                await publish_seed(
                    item=await store.item_row(seed.code, lock=True),
                    version=await store.next_version(existing["id"]),
                    content=seed.content,
                    catalogue=catalogue,
                    ids=ids,
                    now=now,
                    change_note=_("依据种子数据更新"),
                )
                report.count("updated", "items")
            else:
                report.count("unchanged", "items")
                report.differs.append(seed.code)
    return report


def historical(now: datetime, effective_at: date) -> datetime:
    """Seed data describes guides already in force: treat one as published when it took effect
    (so metrics "as of" a past date see it), never later than now."""
    return min(now, local_midnight(effective_at))


async def _current(edition_id: int | None) -> Guide | None:
    if edition_id is None:
        return None
    row = await Edition.select(Edition.snapshot).where(Edition.id == edition_id).first()
    return Guide.from_json(row["snapshot"]) if row and row["snapshot"] else None


def _same(current: Guide, seed: SeedItem, ref: DepartmentRef, catalogue: Catalogue) -> bool:
    """Would publishing the seed change what the public sees?"""
    candidate = build_guide(
        code=seed.code,
        item_type=seed.item_type,
        department=ref,
        version=current.version,
        content=seed.content,
        catalogue=catalogue,
        published_at=current.published_at,
    )
    return candidate == current


async def load_seeds(root: Path, *, now: datetime | None = None, update: bool = False) -> SeedReport:
    return await apply_seeds(read_seeds(root), now=now, update=update)
