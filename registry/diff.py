"""Field-level differences between two guide snapshots, in plain language.

Used by the reviewer's page, the change log and the public history:
"申请材料：删除《居民户口簿》；承诺办结时限 10 → 5 个工作日".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from guides import Guide, GuideMaterial
from guides.i18n import _
from guides.labels import days_label


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    label: str
    text: str  # one plain-language line, without the label
    old: Any = None
    new: Any = None

    def line(self) -> str:
        return f"{self.label}：{self.text}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


SCALARS: tuple[tuple[str, str], ...] = (
    ("name", "事项名称"),
    ("summary", "事项概述"),
    ("result", "办理结果"),
    ("consult_phone", "咨询电话"),
    ("complaint_phone", "投诉电话"),
    ("trips_reason", "跑动原因"),
)
WHOLE: tuple[tuple[str, str], ...] = (
    ("conditions", "受理条件"),
    ("steps", "办理流程"),
    ("fees", "收费"),
    ("venues", "办理地点"),
)


def _material_words(m: GuideMaterial) -> str:
    need = _("必需") if m.required else _("需要时：{c}", c=m.condition)
    return f"{m.form}{m.copies}份，{m.medium}，{need}"


def _materials(old: tuple[GuideMaterial, ...], new: tuple[GuideMaterial, ...]) -> list[str]:
    before = {m.code: m for m in old}
    after = {m.code: m for m in new}
    parts = []
    removed = [m.name for m in old if m.code not in after]
    added = [m.name for m in new if m.code not in before]
    if removed:
        parts.append(_("删除") + "".join(f"《{n}》" for n in removed))
    if added:
        parts.append(_("增加") + "".join(f"《{n}》" for n in added))
    for m in new:
        if m.code in before and before[m.code] != m:
            was, now = _material_words(before[m.code]), _material_words(m)
            detail = f"{was} → {now}" if was != now else _("说明已修改")
            parts.append(f"《{m.name}》{detail}")
    kept_old = [m.code for m in old if m.code in after]
    kept_new = [m.code for m in new if m.code in before]
    if not parts and kept_old != kept_new:
        parts.append(_("调整了顺序"))
    return parts


def diff_guides(old: Guide | None, new: Guide) -> list[FieldChange]:
    """What changed from `old` to `new` (everything, when `old` is None: a new item)."""
    if old is None:
        return [FieldChange("item", _("事项"), _("新增事项《{name}》", name=new.name), None, new.name)]
    changes: list[FieldChange] = []
    for field, label in SCALARS:
        a, b = getattr(old, field), getattr(new, field)
        if a != b:
            text = f"{a or _('（空）')} → {b or _('（空）')}"
            changes.append(FieldChange(field, _(label), text, a, b))
    material_parts = _materials(old.materials, new.materials)
    if material_parts:
        changes.append(
            FieldChange(
                "materials",
                _("申请材料"),
                "；".join(material_parts),
                [m.name for m in old.materials],
                [m.name for m in new.materials],
            )
        )
    for field, label in (("statutory_days", "法定办结时限"), ("promised_days", "承诺办结时限")):
        a, b = getattr(old, field), getattr(new, field)
        if a != b:
            changes.append(FieldChange(field, _(label), f"{days_label(a)} → {days_label(b)}", a, b))
    if old.trips != new.trips:
        text = _("{a} → {b} 次", a=old.trips, b=new.trips)
        changes.append(FieldChange("trips", _("到办事现场次数"), text, old.trips, new.trips))
    if old.online_depth != new.online_depth:
        text = _("{a} → {b} 星", a=old.online_depth, b=new.online_depth)
        changes.append(FieldChange("online_depth", _("网办深度"), text, old.online_depth, new.online_depth))
    if old.audience != new.audience:
        changes.append(
            FieldChange(
                "audience",
                _("服务对象"),
                f"{'、'.join(old.audience)} → {'、'.join(new.audience)}",
                list(old.audience),
                list(new.audience),
            )
        )
    old_cites = {(c.title, c.articles) for c in old.legal_basis}
    new_cites = {(c.title, c.articles) for c in new.legal_basis}
    if old_cites != new_cites:
        parts = [_("删除") + f"《{t}》{a}" for t, a in sorted(old_cites - new_cites)]
        parts += [_("增加") + f"《{t}》{a}" for t, a in sorted(new_cites - old_cites)]
        changes.append(FieldChange("legal_basis", _("设定依据"), "；".join(parts)))
    for field, label in WHOLE:
        if getattr(old, field) != getattr(new, field):
            changes.append(FieldChange(field, _(label), _("已修改")))
    if old.faq != new.faq:
        text = _("{a} 条 → {b} 条，内容已更新", a=len(old.faq), b=len(new.faq))
        changes.append(FieldChange("faq", _("常见问题"), text, len(old.faq), len(new.faq)))
    if old.department != new.department:
        text = f"{old.department.name} → {new.department.name}"
        changes.append(FieldChange("department", _("实施主体"), text))
    return changes


def summarize(changes: list[FieldChange]) -> str:
    return "；".join(c.line() for c in changes) if changes else _("无内容变化")
