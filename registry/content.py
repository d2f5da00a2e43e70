"""The content of an edition, and the rules it must satisfy.

Every way content enters the registry (seed files, staff forms, the API, spreadsheet imports)
builds an `EditionContent` with `content_from_mapping` and passes `validate_content`. The rules
live here and nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from guides import Faq, Fee, Step, Venue
from guides.i18n import _
from registry.errors import FieldError, ValidationError

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
ITEM_CODE_RE = re.compile(r"[0-9A-Z][0-9A-Z-]{2,39}")
PHONE_RE = re.compile(r"[0-9][0-9-]{2,19}")

MAX_TRIPS = 10
MAX_DAYS = 365
MAX_SHORT = 200
MAX_LONG = 20_000


@dataclass(frozen=True, slots=True)
class MaterialUse:
    material: str  # catalogue code
    form: str = "原件"
    copies: int = 1
    medium: str = "纸质"
    required: bool = True
    condition: str = ""
    waivable: bool = False
    notes: str = ""


@dataclass(frozen=True, slots=True)
class CitationRef:
    document: str  # legal document code
    articles: str = ""


@dataclass(frozen=True, slots=True)
class EditionContent:
    name: str
    effective_at: date
    summary: str = ""
    audience: tuple[str, ...] = ()
    result: str = ""
    conditions: str = ""
    legal_basis: tuple[CitationRef, ...] = ()
    materials: tuple[MaterialUse, ...] = ()
    steps: tuple[Step, ...] = ()
    statutory_days: int = 0
    promised_days: int = 0
    fees: tuple[Fee, ...] = ()
    venues: tuple[Venue, ...] = ()
    consult_phone: str = ""
    complaint_phone: str = ""
    trips: int = 1
    trips_reason: str = ""
    online_depth: int = 0
    faq: tuple[Faq, ...] = field(default=())


# ---- reading untrusted mappings (TOML, JSON, forms) -------------------------------------


class _Reader:
    """Reads typed values out of a mapping, collecting field errors instead of raising."""

    def __init__(self, data: Mapping[str, Any], prefix: str, errors: list[FieldError]) -> None:
        self.data = data
        self.prefix = prefix
        self.errors = errors
        self.seen: set[str] = set()

    def path(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def fail(self, key: str, message: str) -> None:
        self.errors.append(FieldError(self.path(key), message))

    def text(self, key: str, *, required: bool = False, max_len: int = MAX_SHORT) -> str:
        self.seen.add(key)
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                self.fail(key, _("必填"))
            return ""
        if not isinstance(value, str):
            self.fail(key, _("应为文本"))
            return ""
        # Browsers send textarea line breaks as CRLF: one form of text, whatever the channel.
        value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
        if required and not value:
            self.fail(key, _("必填"))
        if len(value) > max_len:
            self.fail(key, _("过长（最多 {n} 字）", n=max_len))
        return value

    def integer(self, key: str, *, default: int | None = None, lo: int = 0, hi: int = 10**6) -> int:
        self.seen.add(key)
        value = self.data.get(key)
        if value is None or value == "":
            if default is None:
                self.fail(key, _("必填"))
                return lo
            return default
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, _("应为整数"))
            return lo
        if not lo <= value <= hi:
            self.fail(key, _("应在 {lo} 到 {hi} 之间", lo=lo, hi=hi))
        return value

    def boolean(self, key: str, *, default: bool) -> bool:
        self.seen.add(key)
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        if not isinstance(value, bool):
            self.fail(key, _("应为 true 或 false"))
            return default
        return value

    def day(self, key: str) -> date:
        self.seen.add(key)
        value = self.data.get(key)
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
            self.fail(key, _("日期格式应为 YYYY-MM-DD"))
        else:
            self.fail(key, _("必填") if value is None else _("日期格式应为 YYYY-MM-DD"))
        return date(1970, 1, 1)

    def choices(self, key: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        self.seen.add(key)
        value = self.data.get(key, [])
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            self.fail(key, _("应为文本列表"))
            return ()
        for v in value:
            if v not in allowed:
                self.fail(key, _("“{v}”不是可选值（{allowed}）", v=v, allowed="、".join(allowed)))
        return tuple(value)

    def records(self, key: str) -> list[_Reader]:
        self.seen.add(key)
        value = self.data.get(key, [])
        if not isinstance(value, list | tuple):
            self.fail(key, _("应为列表"))
            return []
        readers = []
        for i, entry in enumerate(value):
            if not isinstance(entry, Mapping):
                self.errors.append(FieldError(f"{self.path(key)}[{i}]", _("应为对象")))
                continue
            readers.append(_Reader(entry, f"{self.path(key)}[{i}].", self.errors))
        return readers

    def reject_unknown(self, ignore: tuple[str, ...] = ()) -> None:
        for key in self.data:
            if key not in self.seen and key not in ignore:
                self.fail(key, _("未知字段"))


def content_from_mapping(
    data: Mapping[str, Any], *, ignore: tuple[str, ...] = (), complete: bool = True
) -> EditionContent:
    """Build edition content from an untrusted mapping; raise ValidationError naming every bad field.

    `ignore` lists keys that belong to the caller (e.g. an item's `code`) and are not content.
    """
    errors: list[FieldError] = []
    r = _Reader(data, "", errors)
    materials = []
    for m in r.records("materials"):
        materials.append(
            MaterialUse(
                material=m.text("material", required=True),
                form=m.text("form") or "原件",
                copies=m.integer("copies", default=1, lo=1, hi=99),
                medium=m.text("medium") or "纸质",
                required=m.boolean("required", default=True),
                condition=m.text("condition"),
                waivable=m.boolean("waivable", default=False),
                notes=m.text("notes", max_len=1000),
            )
        )
        m.reject_unknown()
    citations = []
    for c in r.records("legal_basis"):
        citations.append(CitationRef(c.text("document", required=True), c.text("articles")))
        c.reject_unknown()
    steps = []
    for s in r.records("steps"):
        steps.append(
            Step(
                name=s.text("name", required=True),
                actor=s.text("actor"),
                duration=s.text("duration"),
                description=s.text("description", max_len=2000),
            )
        )
        s.reject_unknown()
    fees = []
    for f in r.records("fees"):
        fees.append(Fee(f.text("name", required=True), f.text("amount", required=True), f.text("basis")))
        f.reject_unknown()
    venues = []
    for v in r.records("venues"):
        venues.append(
            Venue(
                name=v.text("name", required=True),
                address=v.text("address"),
                window=v.text("window"),
                hours=v.text("hours"),
                note=v.text("note", max_len=1000),
            )
        )
        v.reject_unknown()
    faq = []
    for q in r.records("faq"):
        faq.append(Faq(q.text("question", required=True), q.text("answer", required=True, max_len=4000)))
        q.reject_unknown()
    content = EditionContent(
        name=r.text("name", required=True),
        effective_at=r.day("effective_at"),
        summary=r.text("summary", max_len=1000),
        audience=r.choices("audience", AUDIENCES),
        result=r.text("result"),
        conditions=r.text("conditions", max_len=MAX_LONG),
        legal_basis=tuple(citations),
        materials=tuple(materials),
        steps=tuple(steps),
        statutory_days=r.integer("statutory_days", lo=0, hi=MAX_DAYS),
        promised_days=r.integer("promised_days", lo=0, hi=MAX_DAYS),
        fees=tuple(fees),
        venues=tuple(venues),
        consult_phone=r.text("consult_phone", max_len=20),
        complaint_phone=r.text("complaint_phone", max_len=20),
        trips=r.integer("trips", lo=0, hi=MAX_TRIPS),
        trips_reason=r.text("trips_reason", max_len=500),
        online_depth=r.integer("online_depth", default=0, lo=0, hi=4),
        faq=tuple(faq),
    )
    r.reject_unknown(ignore)
    if errors:
        raise ValidationError(errors)
    validate_content(content, complete=complete)
    return content


def content_rule_errors(c: EditionContent, *, complete: bool = True) -> list[FieldError]:
    """The business rules of a guide's content (types are already right).

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
        if m.form not in MATERIAL_FORMS:
            fail(f"{where}.form", _("应为 {v} 之一", v="、".join(MATERIAL_FORMS)))
        if m.medium not in MATERIAL_MEDIUMS:
            fail(f"{where}.medium", _("应为 {v} 之一", v="、".join(MATERIAL_MEDIUMS)))
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
MATERIAL_USE_KEYS = ("form", "copies", "medium", "required", "condition", "waivable", "notes")


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
