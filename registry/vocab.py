"""The registry's words, in one place: statuses, roles, levels and the controlled vocabularies
of a guide, with the labels people read. Templates get `vocab` as a Jinja global and never spell
a label themselves. The city's clock lives in guides.clock (guides cannot import registry)."""

from __future__ import annotations

from enum import StrEnum

from guides.clock import CHINA as CHINA
from guides.clock import local_midnight as local_midnight
from guides.clock import local_today as local_today
from guides.clock import system_now as system_now
from guides.i18n import _
from guides.labels import LEVELS


class Level(StrEnum):
    city = "city"
    district = "district"


class EditionStatus(StrEnum):
    draft = "draft"
    in_review = "in_review"
    approved = "approved"  # approved, publication held by the reviewer (or failed)
    scheduled = "scheduled"  # published as an announcement; becomes current on effective_at
    published = "published"  # the current guide
    superseded = "superseded"
    withdrawn = "withdrawn"


# An item has at most one edition in the works (a unique index holds the database to it).
OPEN_STATUSES = (EditionStatus.draft, EditionStatus.in_review, EditionStatus.approved)


class Role(StrEnum):
    editor = "editor"
    reviewer = "reviewer"
    admin = "admin"


class ChangeKind(StrEnum):
    new = "new"
    change = "change"
    withdrawal = "withdrawal"
    review = "review"  # reviewed, no change: no new edition (registry.freshness)


STATUS_LABELS: dict[str, str] = {
    EditionStatus.draft: "草稿",
    EditionStatus.in_review: "待审核",
    EditionStatus.approved: "已批准待发布",
    EditionStatus.scheduled: "已公告待生效",
    EditionStatus.published: "现行",
    EditionStatus.superseded: "已被替代",
    EditionStatus.withdrawn: "已取消",
}
ROLE_LABELS: dict[str, str] = {Role.editor: "编辑", Role.reviewer: "审核", Role.admin: "管理员"}
CHANGE_KIND_LABELS: dict[str, str] = {
    ChangeKind.new: "新增",
    ChangeKind.change: "变更",
    ChangeKind.withdrawal: "取消",
    ChangeKind.review: "复核",
}

ITEM_TYPES = (
    "行政许可",
    "行政给付",
    "行政确认",
    "行政征收",
    "行政奖励",
    "行政裁决",
    "其他行政权力",
    "公共服务",
)
AUDIENCES = ("自然人", "法人", "其他组织")
MATERIAL_FORMS = ("原件", "复印件", "原件和复印件")
MATERIAL_MEDIUMS = ("纸质", "电子", "纸质或电子")
DEPARTMENT_KINDS = ("部门", "区", "县", "开发区", "企业")
MATERIAL_KINDS = ("证照", "证明", "申请表", "其他")
DOCUMENT_KINDS = ("法律", "行政法规", "地方性法规", "部门规章", "地方政府规章", "规范性文件")


def status_label(status: str) -> str:
    return _(STATUS_LABELS.get(status, status))


def role_label(role: str) -> str:
    return _(ROLE_LABELS.get(role, role))


def level_choices() -> list[tuple[str, str]]:
    return [(level.value, _(LEVELS[level.value])) for level in Level]


def jinja_globals() -> dict[str, object]:
    """What every template may use: the statuses and vocabularies, never spelled in a template."""
    return {
        "EditionStatus": EditionStatus,
        "Role": Role,
        "status_label": status_label,
        "role_label": role_label,
        "ITEM_TYPES": ITEM_TYPES,
        "AUDIENCES": AUDIENCES,
        "MATERIAL_FORMS": MATERIAL_FORMS,
        "MATERIAL_MEDIUMS": MATERIAL_MEDIUMS,
        "MATERIAL_KINDS": MATERIAL_KINDS,
    }
