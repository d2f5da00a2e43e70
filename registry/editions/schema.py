"""THE content schema of an edition, and the rules content must satisfy.

The guide's fields are declared once, in guides.snapshot.GuideContent; an edition's content adds
its references into the catalogue (materials, legal documents). Every way content enters the
registry — seed files, staff forms, the API, spreadsheet imports — goes through
`content_from_mapping` (the one input reader, then the rules below), and every list of fields
(form, spreadsheet columns, diff labels, storage) is derived from `CONTENT_FIELDS`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from msgspec import Struct

from guides.i18n import _
from guides.snapshot import F, GuideContent, MaterialForm, MaterialMedium
from registry.errors import FieldError, ValidationError
from registry.inputs import FieldSpec, fields_of, read

ITEM_CODE_RE = re.compile(r"[0-9A-Z][0-9A-Z-]{2,39}", re.ASCII)
PHONE_RE = re.compile(r"[0-9][0-9-]{2,19}", re.ASCII)


class MaterialUse(Struct, frozen=True, forbid_unknown_fields=True):
    """An edition's use of a catalogue material."""

    material: Annotated[str, F("材料", min_length=1, max_length=64, widget="ref:materials")]
    form: Annotated[MaterialForm, F("形式")] = "原件"
    copies: Annotated[int, F("份数", ge=1, le=99)] = 1
    medium: Annotated[MaterialMedium, F("介质")] = "纸质"
    required: Annotated[bool, F("是否必需")] = True
    condition: Annotated[str, F("需要情形", max_length=200, help="非必需材料必须写明何种情形下需要提交")] = ""
    waivable: Annotated[bool, F("可免提交", help="可通过电子证照共享等免于提交")] = False
    notes: Annotated[str, F("备注", max_length=1000)] = ""


class CitationRef(Struct, frozen=True, forbid_unknown_fields=True):
    """An edition's citation of a catalogue legal document."""

    document: Annotated[str, F("法律文件", min_length=1, max_length=64, widget="ref:documents")]
    articles: Annotated[str, F("条款", max_length=200)] = ""


class EditionContent(GuideContent, frozen=True, kw_only=True):
    legal_basis: Annotated[
        tuple[CitationRef, ...],
        F("设定依据", max_length=50, example="company-law 第六条", width=30),
    ] = ()
    materials: Annotated[tuple[MaterialUse, ...], F("申请材料", max_length=100)] = ()


CONTENT_FIELDS: tuple[FieldSpec, ...] = fields_of(EditionContent)
CONTENT_FIELD_NAMES = tuple(f.name for f in CONTENT_FIELDS)


def content_from_mapping(
    data: Mapping[str, Any], *, ignore: tuple[str, ...] = (), complete: bool = True
) -> EditionContent:
    """Build edition content from an untrusted mapping; raise ValidationError naming every bad field.

    `ignore` lists keys that belong to the caller (e.g. an item's `code`) and are not content.
    """
    content = read(EditionContent, data, ignore=ignore)
    validate_content(content, complete=complete)
    return content


def content_rule_errors(c: EditionContent, *, complete: bool = True) -> list[FieldError]:
    """The business rules of a guide's content (types and limits are already right).

    A draft may be incomplete (no legal basis or steps yet) but never inconsistent;
    `complete=True` (submission, seeds, publication) also requires what a guide must show."""
    errors: list[FieldError] = []

    def fail(f: str, message: str) -> None:
        errors.append(FieldError(f, message))

    if not c.name.strip():
        fail("name", _("事项名称必填"))
    if c.promised_days > c.statutory_days:
        fail(
            "promised_days",
            _(
                "承诺办结时限（{p} 个工作日）不能超过法定办结时限（{s} 个工作日）",
                p=c.promised_days,
                s=c.statutory_days,
            ),
        )
    if c.trips > 1 and not c.trips_reason.strip():
        fail("trips_reason", _("到办事现场次数超过 1 次时，必须说明原因（跑多次是例外）"))
    if c.online_depth == 4 and c.trips > 0:
        fail("online_depth", _("网办深度为四星（全程网办）时，到办事现场次数应为 0"))
    if complete and not c.legal_basis:
        fail("legal_basis", _("至少需要一项设定依据"))
    if complete and not c.steps:
        fail("steps", _("至少需要一个办理步骤"))
    if complete and c.trips > 0 and not c.venues:
        fail("venues", _("需要到现场办理的事项必须写明办理地点"))
    for key in ("consult_phone", "complaint_phone"):
        value = getattr(c, key)
        if value and not PHONE_RE.fullmatch(value):
            fail(key, _("电话号码只能包含数字和连字符"))
    if c.consult_phone and c.consult_phone == c.complaint_phone:
        fail("complaint_phone", _("投诉电话应与咨询电话不同"))
    seen: dict[str, int] = {}
    for i, m in enumerate(c.materials):
        where = f"materials[{i}]"
        if not m.required and not m.condition.strip():
            fail(f"{where}.condition", _("非必需材料必须写明何种情形下需要提交"))
        if m.material in seen:
            fail(f"{where}.material", _("与第 {n} 项材料重复", n=seen[m.material] + 1))
        seen.setdefault(m.material, i)
    cited: set[tuple[str, str]] = set()
    for i, cite in enumerate(c.legal_basis):
        key = (cite.document, cite.articles)
        if key in cited:
            fail(f"legal_basis[{i}]", _("重复的设定依据"))
        cited.add(key)
    return errors


def validate_content(c: EditionContent, *, complete: bool = True) -> None:
    errors = content_rule_errors(c, complete=complete)
    if errors:
        raise ValidationError(errors)


def item_code_error(code: object) -> str | None:
    if not isinstance(code, str) or not ITEM_CODE_RE.fullmatch(code):
        return _("事项编码应为 3–40 位大写字母、数字或连字符")
    return None


def code_department_error(code: str, department_code: str) -> str | None:
    """An item code names its implementing body (行政区划-实施主体-序号, e.g. 650100-SGSJ-001), so an
    editor can reserve codes only within a department of theirs."""
    parts = code.split("-")
    if len(parts) < 3 or parts[1] != department_code:
        return _("事项编码的第二段应为实施主体编码 {d}（如 650100-{d}-001）", d=department_code)
    return None


# The API's item shape (GET /api/items/{code}) carries resolved catalogue entries; a client
# PUTs the same shape back, so keep only what an edition stores.
GUIDE_ONLY_KEYS = (
    "code",
    "item_type",
    "department",
    "version",
    "published_at",
    "schema",
    "fingerprint",
    "change_note",
    "lock_version",
)
MATERIAL_USE_KEYS = tuple(f.name for f in fields_of(MaterialUse) if f.name != "material")


def content_from_guide_shape(data: Mapping[str, Any]) -> EditionContent:
    if not isinstance(data, Mapping):
        raise ValidationError([FieldError("-", _("请求体应为 JSON 对象"))])
    shaped = dict(data)
    materials = data.get("materials", [])
    if isinstance(materials, list):
        shaped["materials"] = [
            {"material": m.get("code"), **{k: m[k] for k in MATERIAL_USE_KEYS if k in m}}
            if isinstance(m, Mapping)
            else m
            for m in materials
        ]
    citations = data.get("legal_basis", [])
    if isinstance(citations, list):
        shaped["legal_basis"] = [
            {"document": c.get("code"), "articles": c.get("articles", "")} if isinstance(c, Mapping) else c
            for c in citations
        ]
    return content_from_mapping(shaped, ignore=GUIDE_ONLY_KEYS)
