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
from guides.snapshot import Attachment, GuideContent, MaterialTerms
from registry.inputs import FieldSpec, fields_of


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


def _file_words(a: Attachment | None) -> str:
    return f"《{a.name}》" if a is not None else _("（无）")


def _material_words(m: GuideMaterial) -> str:
    need = _("必需") if m.required else _("需要时：{c}", c=m.condition)
    return f"{m.form}{m.copies}份，{m.medium}，{need}"


def _material_files(old: GuideMaterial, new: GuideMaterial) -> list[str]:
    """What changed in a material's attachments (空白表格, 示例样表), in words."""
    parts = []
    for spec in fields_of(MaterialTerms):
        if spec.kind == "file" and getattr(old, spec.name) != getattr(new, spec.name):
            change = _field_change(spec, getattr(old, spec.name), getattr(new, spec.name))
            if change is not None:
                parts.append(change.line())
    return parts


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
            files = _material_files(before[m.code], m)
            detail = f"{was} → {now}" if was != now else "；".join(files) or _("说明已修改")
            parts.append(f"《{m.name}》{detail}")
    kept_old = [m.code for m in old if m.code in after]
    kept_new = [m.code for m in new if m.code in before]
    if not parts and kept_old != kept_new:
        parts.append(_("调整了顺序"))
    return parts


def _field_change(spec: FieldSpec, a: Any, b: Any) -> FieldChange | None:
    """One field's change, worded by the kind of field (declared in the content schema)."""
    label = _(spec.title)
    how = spec.extra.get("diff") or {"records": "whole", "choices": "list", "file": "file"}.get(
        spec.kind, "text"
    )
    if how == "skip":
        return None
    if how == "days":
        return FieldChange(spec.name, label, f"{days_label(a)} → {days_label(b)}", a, b)
    if how == "trips":
        return FieldChange(spec.name, label, _("{a} → {b} 次", a=a, b=b), a, b)
    if how == "stars":
        return FieldChange(spec.name, label, _("{a} → {b} 星", a=a, b=b), a, b)
    if how == "list":
        return FieldChange(spec.name, label, f"{'、'.join(a)} → {'、'.join(b)}", list(a), list(b))
    if how == "count":
        text = _("{a} 条 → {b} 条，内容已更新", a=len(a), b=len(b))
        return FieldChange(spec.name, label, text, len(a), len(b))
    if how == "file":  # an attachment: its file name, and "new file" when only the bytes changed
        text = f"{_file_words(a)} → {_file_words(b)}"
        if a is not None and b is not None and a.name == b.name:
            text = _("《{n}》更换了文件", n=b.name)
        return FieldChange(spec.name, label, text, _file_words(a), _file_words(b))
    if how == "whole":
        return FieldChange(spec.name, label, _("已修改"))
    return FieldChange(spec.name, label, f"{a or _('（空）')} → {b or _('（空）')}", a, b)


def diff_guides(old: Guide | None, new: Guide) -> list[FieldChange]:
    """What changed from `old` to `new` (everything, when `old` is None: a new item)."""
    if old is None:
        return [FieldChange("item", _("事项"), _("新增事项《{name}》", name=new.name), None, new.name)]
    changes: list[FieldChange] = []
    for spec in fields_of(GuideContent):
        a, b = getattr(old, spec.name), getattr(new, spec.name)
        if a != b and (change := _field_change(spec, a, b)) is not None:
            changes.append(change)
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
    old_cites = {(c.title, c.articles) for c in old.legal_basis}
    new_cites = {(c.title, c.articles) for c in new.legal_basis}
    if old_cites != new_cites:
        parts = [_("删除") + f"《{t}》{a}" for t, a in sorted(old_cites - new_cites)]
        parts += [_("增加") + f"《{t}》{a}" for t, a in sorted(new_cites - old_cites)]
        changes.append(FieldChange("legal_basis", _("设定依据"), "；".join(parts)))
    if old.department != new.department:
        text = f"{old.department.name} → {new.department.name}"
        changes.append(FieldChange("department", _("实施主体"), text))
    return changes


def summarize(changes: list[FieldChange]) -> str:
    return "；".join(c.line() for c in changes) if changes else _("无内容变化")
