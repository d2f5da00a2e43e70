"""The shared materials catalogue (seed item 32, 减证便民): editors add an entry when an item
needs a new one; /materials lists every entry with the items asking for it; the 减证 report lists
government-issued materials citizens are still asked for, as of any date; admins rename, retire
and merge duplicate entries."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from guides.i18n import _
from guides.snapshot import replace
from registry.access import Actor, PermissionDenied
from registry.db import after_commit, write_transaction
from registry.editions import store
from registry.errors import FieldError, ValidationError
from registry.reads.public import invalidate
from registry.tables import Edition, EditionMaterial, Material, Role
from registry.vocab import MATERIAL_KINDS, OPEN_STATUSES


async def add_material(actor: Actor, *, name: str, kind: str, issuer: str = "") -> str:
    """Add a catalogue entry and return its code; a name already in the catalogue is refused."""
    if actor.role not in (Role.editor, Role.admin):
        raise PermissionDenied(_("只有编辑人员可以新增材料目录条目。"))
    name, issuer = (name or "").strip(), (issuer or "").strip()
    errors = []
    if not name or len(name) > 200:
        errors.append(FieldError("new_material_name", _("请填写材料名称（最多 200 字）")))
    if kind not in MATERIAL_KINDS:
        errors.append(FieldError("new_material_kind", _("应为 {v} 之一", v="、".join(MATERIAL_KINDS))))
    if errors:
        raise ValidationError(errors)
    async with write_transaction():
        if await Material.exists().where(Material.name == name):
            raise ValidationError(
                [FieldError("new_material_name", _("材料目录中已有“{n}”，请直接选用", n=name))]
            )
        code = "m-" + hashlib.sha1(name.encode()).hexdigest()[:10]
        await Material.insert(Material(code=code, name=name, kind=kind, issuer=issuer))
    return code


# ---- the catalogue in public: /materials ---------------------------------------------------------

ITEMS_SHOWN = 30  # items listed under each entry on /materials (the count covers all)

USES_SQL = """
SELECT em.material AS material, COUNT(*) AS items
FROM service_item si JOIN edition_material em ON em.edition = si.current_edition
WHERE si.withdrawn = {}
GROUP BY em.material
"""
FIRST_ITEMS_SQL = """
SELECT material, code, name FROM (
  SELECT em.material AS material, si.code AS code, e.name AS name,
         ROW_NUMBER() OVER (PARTITION BY em.material ORDER BY si.code) AS n
  FROM service_item si
  JOIN edition e ON e.id = si.current_edition
  JOIN edition_material em ON em.edition = e.id
  WHERE si.withdrawn = {}
) ranked WHERE n <= {}
ORDER BY material, code
"""


@dataclass(frozen=True, slots=True)
class AskingItem:
    code: str
    name: str
    department: str = ""


@dataclass(slots=True)
class Entry:
    code: str
    name: str
    kind: str
    issuer: str
    issuer_department: str  # short name, when one of ours issues it
    retired: bool
    merged_into: str
    items: int = 0
    first_items: list[AskingItem] = field(default_factory=list)

    @property
    def government_issued(self) -> bool:
        return bool(self.issuer_department)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "issuer": self.issuer,
            "issuer_department": self.issuer_department or None,
            "retired": self.retired,
            "merged_into": self.merged_into or None,
            "items": self.items,
            "first_items": [{"code": i.code, "name": i.name} for i in self.first_items],
        }


async def entries() -> list[Entry]:
    """Every catalogue entry with how many current items ask for it and the first ITEMS_SHOWN."""
    rows = await Material.select(
        Material.id,
        Material.code,
        Material.name,
        Material.kind,
        Material.issuer,
        Material.retired,
        Material.merged_into,
        Material.issuer_department.short_name,
    ).order_by(Material.name)
    by_id = {
        r["id"]: Entry(
            code=r["code"],
            name=r["name"],
            kind=r["kind"],
            issuer=r["issuer"],
            issuer_department=r["issuer_department.short_name"] or "",
            retired=r["retired"],
            merged_into=r["merged_into"],
        )
        for r in rows
    }
    for r in await Material.raw(USES_SQL, False):
        if r["material"] in by_id:
            by_id[r["material"]].items = r["items"]
    for r in await Material.raw(FIRST_ITEMS_SQL, False, ITEMS_SHOWN):
        if r["material"] in by_id:
            by_id[r["material"]].first_items.append(AskingItem(r["code"], r["name"]))
    return sorted(by_id.values(), key=lambda e: (e.retired, -e.items, e.name))


# ---- 减证: government-issued materials citizens are still asked for, as of any date ---------------

# The uses of a material a government department issues (the catalogue names the issuing
# department, or the use's 来源渠道 says 政府部门核发; a catalogue `issuer` alone may be a hospital
# or an accountant),
# not waived (可免提交), by the editions in force on a date (registry.metrics.IN_FORCE_SQL).
_JOINS = (
    " JOIN edition_material em ON em.edition = e.id JOIN material m ON m.id = em.material"
    " LEFT JOIN department issuer ON issuer.id = m.issuer_department"
    " WHERE em.waivable = {} AND (m.issuer_department IS NOT NULL OR em.source = '政府部门核发')"
    " AND e.withdraw"
)


def _reduction_sql() -> str:
    from registry.metrics import IN_FORCE_SQL

    assert IN_FORCE_SQL.count("WHERE e.withdraw") == 1
    return (
        "SELECT m.code AS material, m.name AS material_name, m.kind AS kind, m.issuer AS issuer,"
        " issuer.short_name AS sharer, si.code AS code, e.name AS name, d.short_name AS department "
        + IN_FORCE_SQL.replace("WHERE e.withdraw", _JOINS)
        + " ORDER BY m.code, si.code"
    )


SORTS = ("items", "departments", "name", "issuer")


@dataclass(slots=True)
class Reduction:
    material: str
    name: str
    kind: str
    issuer: str
    sharer: str  # the department of ours that issues it and could share it, or ""
    asking: list[AskingItem] = field(default_factory=list)  # all, or the first (`summary`)
    total: int | None = None  # how many ask for it, when `asking` lists only the first
    asking_departments: list[str] | None = None  # their departments, when `asking` is cut

    @property
    def items(self) -> int:
        return len(self.asking) if self.total is None else self.total

    @property
    def departments(self) -> list[str]:
        if self.asking_departments is not None:
            return self.asking_departments
        return sorted({a.department for a in self.asking})

    def to_dict(self) -> dict[str, Any]:
        return {
            "material": self.material,
            "name": self.name,
            "kind": self.kind,
            "issuer": self.issuer,
            "could_share": self.sharer or None,
            "items": self.items,
            "departments": self.departments,
            "asking": [{"code": a.code, "name": a.name, "department": a.department} for a in self.asking],
        }


def _summary_sql(select: str, tail: str) -> str:
    from registry.metrics import IN_FORCE_SQL

    return f"SELECT {select} " + IN_FORCE_SQL.replace("WHERE e.withdraw", _JOINS) + tail


async def reduction_summary(as_of: date, shown: int = ITEMS_SHOWN) -> list[Reduction]:
    """As `reduction`, each material with its count, its departments and only the first `shown`
    items asking for it (what the page lists): three SQL aggregates, so the memory it takes does
    not grow with the registry (every (material, item) pair of 100 000 items is ~140 000 rows)."""
    from registry.metrics import end_of

    params = (end_of(as_of), as_of, False, False)
    counts = await Material.raw(
        _summary_sql(
            "m.code AS material, m.name AS material_name, m.kind AS kind, m.issuer AS issuer,"
            " issuer.short_name AS sharer, COUNT(*) AS total",
            " GROUP BY m.code, m.name, m.kind, m.issuer, issuer.short_name ORDER BY m.code",
        ),
        *params,
    )
    found = {
        r["material"]: Reduction(
            r["material"], r["material_name"], r["kind"], r["issuer"], r["sharer"] or "", [], r["total"], []
        )
        for r in counts
    }
    for r in await Material.raw(
        _summary_sql("DISTINCT m.code AS material, d.short_name AS department", " ORDER BY 1, 2"), *params
    ):
        found[r["material"]].asking_departments.append(r["department"])  # type: ignore[union-attr]
    first = (
        "SELECT material, code, name, department FROM ("
        + _summary_sql(
            "m.code AS material, si.code AS code, e.name AS name, d.short_name AS department,"
            " ROW_NUMBER() OVER (PARTITION BY m.code ORDER BY si.code) AS n",
            "",
        )
        + ") AS ranked WHERE n <= {} ORDER BY material, n"
    )
    for r in await Material.raw(first, *params, shown):
        found[r["material"]].asking.append(AskingItem(r["code"], r["name"], r["department"]))
    return list(found.values())


async def reduction(as_of: date) -> list[Reduction]:
    """减证: each government-issued material still demanded by the items in force on `as_of`."""
    from registry.metrics import end_of

    found: dict[str, Reduction] = {}
    for r in await Material.raw(_reduction_sql(), end_of(as_of), as_of, False, False):
        entry = found.get(r["material"])
        if entry is None:
            entry = found[r["material"]] = Reduction(
                r["material"], r["material_name"], r["kind"], r["issuer"], r["sharer"] or ""
            )
        entry.asking.append(AskingItem(r["code"], r["name"], r["department"]))
    return list(found.values())


def sorted_reduction(rows: list[Reduction], sort: str, descending: bool) -> list[Reduction]:
    keys = {
        "items": lambda r: (r.items, r.name),
        "departments": lambda r: (len(r.departments), r.name),
        "name": lambda r: (r.name,),
        "issuer": lambda r: (r.sharer or r.issuer, r.name),
    }
    return sorted(rows, key=keys[sort], reverse=descending)


REDUCTION_HEADERS = (
    "材料编码",
    "材料名称",
    "类型",
    "核发机关",
    "可共享的部门",
    "事项编码",
    "事项名称",
    "实施主体",
)


def reduction_rows(rows: list[Reduction]) -> list[list[Any]]:
    """One row per (material, asking item): what the spreadsheet exports."""
    return [
        [r.material, r.name, r.kind, r.issuer, r.sharer, a.code, a.name, a.department]
        for r in rows
        for a in r.asking
    ]


# ---- staff: rename, retire, merge ------------------------------------------------------------------


def _admin_only(actor: Actor) -> None:
    if actor.role != Role.admin:
        raise PermissionDenied(_("只有管理员可以修改材料目录。"))


async def _entry(code: str, field_name: str) -> dict[str, Any]:
    row = await Material.select().where(Material.code == code).first()
    if row is None:
        raise ValidationError([FieldError(field_name, _("材料目录中没有“{v}”", v=code))])
    return row


async def rename(actor: Actor, code: str, name: str) -> None:
    """A new name for future publications; published guides keep the name they were published with."""
    _admin_only(actor)
    name = (name or "").strip()
    if not name or len(name) > 200 or "\x00" in name:
        raise ValidationError([FieldError("name", _("请填写材料名称（最多 200 字）"))])
    async with write_transaction():
        await _entry(code, "code")
        if await Material.exists().where((Material.name == name) & (Material.code != code)):
            raise ValidationError([FieldError("name", _("材料目录中已有“{n}”", n=name))])
        await Material.update({Material.name: name, Material.revision: Material.revision + 1}).where(
            Material.code == code
        )
        after_commit(invalidate)


async def retire(actor: Actor, code: str) -> None:
    """No longer offered for new uses; guides that use it keep it until their next edition."""
    _admin_only(actor)
    async with write_transaction():
        await _entry(code, "code")
        await Material.update({Material.retired: True, Material.revision: Material.revision + 1}).where(
            Material.code == code
        )
        after_commit(invalidate)


async def merge(actor: Actor, old: str, into: str) -> int:
    """Merge duplicate entry `old` into `into`. Every edition still being worked on (draft, in
    review, approved) follows at once; published snapshots never change (they are what was
    published, and their fingerprints prove it): a published guide follows with its next
    edition, whose draft starts from the current content with the merged codes followed
    (`follow_merges`). `old` is retired and names `into`. Returns how many editions followed."""
    _admin_only(actor)
    if old == into:
        raise ValidationError([FieldError("into", _("不能与自身合并"))])
    async with write_transaction():
        source = await _entry(old, "code")
        target = await _entry(into, "into")
        if target["retired"]:
            raise ValidationError([FieldError("into", _("“{n}”已停用，不能作为合并目标", n=target["name"]))])
        if source["retired"]:
            raise ValidationError([FieldError("code", _("“{n}”已停用", n=source["name"]))])
        open_editions = await Edition.select(Edition.id, Edition.content).where(
            Edition.status.is_in([s.value for s in OPEN_STATUSES])
            & Edition.id.is_in(
                EditionMaterial.select(EditionMaterial.edition).where(
                    EditionMaterial.material == source["id"]
                )
            )
        )
        ids = await store.ref_ids()
        for row in open_editions:
            content = follow_merges(store.content_of(row), {old: into})
            await Edition.update(store.content_columns(content)).where(Edition.id == row["id"])
            await store.write_references(row["id"], content, ids)
        await Material.update(
            {Material.retired: True, Material.merged_into: into, Material.revision: Material.revision + 1}
        ).where(Material.id == source["id"])
        after_commit(invalidate)
    return len(open_editions)


def follow_merges(content: Any, merged: dict[str, str]) -> Any:
    """`content` with every merged material replaced by the entry it was merged into; a use that
    then duplicates an earlier one is dropped (the earlier one stays, with its terms)."""
    if not any(m.material in merged for m in content.materials):
        return content
    seen: set[str] = set()
    uses = []
    for use in content.materials:
        code = merged.get(use.material, use.material)
        if code in seen:
            continue
        seen.add(code)
        uses.append(replace(use, material=code))
    return replace(content, materials=tuple(uses))


async def merged_codes() -> dict[str, str]:
    return {
        r["code"]: r["merged_into"]
        for r in await Material.select(Material.code, Material.merged_into).where(Material.merged_into != "")
    }
