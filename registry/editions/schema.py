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
from guides.situations import parse_when
from guides.snapshot import (
    F,
    GuideContent,
    MaterialTerms,
)
from guides.venues import hours_errors
from registry import checks
from registry.errors import FieldError, ValidationError
from registry.inputs import FieldSpec, fields_of, read

ITEM_CODE_RE = re.compile(r"[0-9A-Z][0-9A-Z-]{2,39}", re.ASCII)
PHONE_RE = re.compile(r"[0-9][0-9-]{2,19}", re.ASCII)
KEY_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,31}", re.ASCII)
URL_RE = re.compile(r"https?://[^\s<>\"']+", re.ASCII)
BASIC_CODE_RE = re.compile(r"[0-9]{12}", re.ASCII)
# 统一社会信用代码 (GB 32100-2015): 18 characters of 0-9 and A-Z without I, O, S, V, Z.
CREDIT_CODE_RE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}", re.ASCII)
IMPLEMENTATION_CODE_RE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}[1-6][0-9]{12}", re.ASCII)


class MaterialUse(MaterialTerms, frozen=True, kw_only=True):
    """An edition's use of a catalogue material."""

    material: Annotated[str, F("材料", min_length=1, max_length=64, widget="ref:materials")]


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


def content_rule_errors(
    c: EditionContent, *, complete: bool = True, context: checks.Context | None = None
) -> list[FieldError]:
    """The rules of a guide's content (types and limits are already right): its shapes here, its
    business rules in registry.checks (with `context`: what the content alone cannot say).

    A draft may be incomplete (no legal basis or steps yet) but never inconsistent;
    `complete=True` (submission, seeds, publication) also requires what a guide must show."""
    context = context or checks.Context()
    errors: list[FieldError] = []

    def fail(f: str, message: str) -> None:
        errors.append(FieldError(f, message))

    if not c.name.strip():
        fail("name", _("事项名称必填"))
    # The business rules (registry.checks): errors refuse, warnings are shown elsewhere.
    for finding in checks.errors(checks.run(c, context, complete=complete)):
        fail(finding.field, finding.message)
    for key in ("consult_phone", "complaint_phone"):
        value = getattr(c, key)
        if value and not PHONE_RE.fullmatch(value):
            fail(key, _("电话号码只能包含数字和连字符"))
    for key in ("online_url", "mobile_url", "appointment_url"):
        value = getattr(c, key)
        if value and not URL_RE.fullmatch(value):
            fail(key, _("网址应以 http:// 或 https:// 开头，且不含空格"))
    if c.appointment_phone and not PHONE_RE.fullmatch(c.appointment_phone):
        fail("appointment_phone", _("电话号码只能包含数字和连字符"))
    if c.basic_code and not BASIC_CODE_RE.fullmatch(c.basic_code):
        fail("basic_code", _("基本编码应为 12 位数字"))
    if c.implementation_code:
        if not IMPLEMENTATION_CODE_RE.fullmatch(c.implementation_code):
            fail(
                "implementation_code",
                _("实施编码应为 31 位：18 位统一社会信用代码、1 位层级（1–6）和 12 位基本编码"),
            )
        elif c.implementation_code[-12:] != c.basic_code:
            fail("implementation_code", _("实施编码的后 12 位应与基本编码一致"))
    errors.extend(situation_errors(c))
    for i, v in enumerate(c.venues):
        for name, message in hours_errors(v):
            fail(f"venues[{i}].{name}", message)
    seen: dict[str, int] = {}
    for i, m in enumerate(c.materials):
        where = f"materials[{i}]"
        if not m.required and not m.condition.strip() and not m.when:
            fail(f"{where}.condition", _("非必需材料必须写明何种情形下需要提交"))
        if m.necessity == "必要" and not m.required:
            fail(f"{where}.necessity", _("必要性为“必要”的材料应勾选“是否必需”"))
        if m.necessity in ("非必要",) and m.required:
            fail(f"{where}.necessity", _("必要性为“非必要”的材料不能勾选“是否必需”"))
        if m.necessity == "容缺后补" and not m.required:
            fail(f"{where}.necessity", _("容缺后补的材料应为必需材料（可先受理、限期补交）"))
        if m.defer_days and m.necessity != "容缺后补":
            fail(f"{where}.defer_days", _("只有容缺后补的材料才有补交期限"))
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


def situation_errors(c: EditionContent) -> list[FieldError]:
    """情形引导: keys well formed and unique, at least two options, and every `when` of a material,
    fee or step naming an existing question and option."""
    errors: list[FieldError] = []
    questions: dict[str, set[str]] = {}
    for i, q in enumerate(c.situations):
        where = f"situations[{i}]"
        if not KEY_RE.fullmatch(q.key):
            errors.append(FieldError(f"{where}.key", _("问题编码只能用小写字母、数字和连字符（最多 32 位）")))
        elif q.key in questions:
            errors.append(FieldError(f"{where}.key", _("问题编码“{k}”重复", k=q.key)))
        if len(q.options) < 2:
            errors.append(FieldError(f"{where}.options", _("每个问题至少需要两个选项")))
        keys: set[str] = set()
        for j, o in enumerate(q.options):
            if not KEY_RE.fullmatch(o.key):
                errors.append(
                    FieldError(f"{where}.options[{j}].key", _("选项编码只能用小写字母、数字和连字符"))
                )
            elif o.key in keys:
                errors.append(FieldError(f"{where}.options[{j}].key", _("选项编码“{k}”重复", k=o.key)))
            keys.add(o.key)
        questions.setdefault(q.key, keys)
    for list_name in ("situational_conditions", "materials", "fees", "steps"):
        for i, entry in enumerate(getattr(c, list_name)):
            if not entry.when:
                continue
            path = f"{list_name}[{i}].when"
            try:
                conditions = parse_when(entry.when)
            except ValueError:
                errors.append(FieldError(path, _("适用情形应写作“问题编码=选项编码”，多个条件用“；”分隔")))
                continue
            for question, options in conditions.items():
                if question not in questions:
                    errors.append(FieldError(path, _("情形引导中没有问题“{q}”", q=question)))
                    continue
                for option in sorted(options - questions[question]):
                    errors.append(FieldError(path, _("问题“{q}”没有选项“{o}”", q=question, o=option)))
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
