"""The Guide snapshot: everything one published guide shows, frozen — and THE declaration of a
guide's content fields.

`GuideContent` declares every content field once, with its label, limits and help text
(msgspec `Meta`). The registry's `EditionContent` (what editors write, with catalogue references)
and the `Guide` snapshot (what the public reads, references resolved) both extend it, and every
list of fields — form, spreadsheet columns, diff labels, input checks — is derived from it.

A snapshot is built once, when an edition is published, and stored as its canonical JSON. Every
channel (online hall, counter screen, print, JSON, Markdown) renders the same snapshot, and prints
its fingerprint — the SHA-256 of the canonical JSON — so anyone can check that the screen, the
paper and the web page say the same thing.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime
from functools import cache
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

SCHEMA_VERSION = 1


def F(  # a declaration reads best short: Annotated[str, F("事项名称", max_length=200)]
    title: str,
    *,
    help: str = "",
    example: str = "",
    widget: str = "",
    diff: str = "",
    width: int = 0,
    required: bool = False,
    since: int = 0,
    **constraints: Any,
) -> Meta:
    """A field's metadata: its Chinese label, help text, an example, limits (min_length,
    max_length, ge, le) and how forms (`widget`), diffs (`diff`) and spreadsheets (`width`)
    show it when its type alone does not say. `required` marks a field that input must give even
    though the type has a default (text with min_length, or a field without default, is required
    anyway). `since` marks a field added after schema 1: the canonical form leaves it out while it
    holds its default, so every snapshot published before it existed keeps its bytes and its
    fingerprint."""
    extra = {
        k: v
        for k, v in (
            ("widget", widget),
            ("diff", diff),
            ("width", width),
            ("required", required),
            ("since", since),
        )
        if v
    }
    return Meta(
        title=title,
        description=help or None,
        examples=[example] if example else None,
        extra=extra or None,
        **constraints,
    )


class DepartmentRef(Struct, frozen=True, forbid_unknown_fields=True):
    code: str
    name: str
    short_name: str
    level: str  # "city" | "district"
    region: str


class Citation(Struct, frozen=True, forbid_unknown_fields=True):
    title: str
    kind: str
    issuer: str
    number: str
    articles: str
    code: str = ""  # the legal document's catalogue code


MaterialForm = Literal["原件", "复印件", "原件和复印件"]
MaterialMedium = Literal["纸质", "电子", "纸质或电子"]
Audience = Literal["自然人", "法人", "其他组织"]
MaterialSource = Literal["", "申请人自备", "政府部门核发", "其他"]
MaterialNecessity = Literal["", "必要", "非必要", "容缺后补"]
Weekday = Literal["一", "二", "三", "四", "五", "六", "日"]

# ---- attachments (空白表格, 示例样表, 结果样本) ------------------------------------------------

ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024  # the one size limit of an uploaded file
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AttachmentType = Literal["application/pdf", DOCX, XLSX, "image/png", "image/jpeg"]
# What a reader is told about each kind of file, and the extension an exported copy carries.
ATTACHMENT_KINDS: dict[str, tuple[str, str]] = {
    "application/pdf": ("PDF", ".pdf"),
    DOCX: ("Word", ".docx"),
    XLSX: ("Excel", ".xlsx"),
    "image/png": ("PNG 图片", ".png"),
    "image/jpeg": ("JPEG 图片", ".jpg"),
}


class Attachment(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A file in an edition, stored once by its SHA-256 (the hash is in the snapshot, so the
    fingerprint covers the file's bytes)."""

    name: Annotated[str, F("文件名", min_length=1, max_length=120)]
    sha256: Annotated[str, F("SHA-256", min_length=64, max_length=64, pattern="^[0-9a-f]{64}$")]
    media_type: Annotated[AttachmentType, F("文件类型")]
    size: Annotated[int, F("大小（字节）", ge=1, le=ATTACHMENT_MAX_BYTES)]

    @property
    def kind_label(self) -> str:
        return ATTACHMENT_KINDS[self.media_type][0]

    @property
    def extension(self) -> str:
        return ATTACHMENT_KINDS[self.media_type][1]

    @property
    def size_label(self) -> str:
        return f"{self.size / 1024:.0f} KB" if self.size < 1024 * 1024 else f"{self.size / 1048576:.1f} MB"


# ---- fields shared by several records, declared once (schema 2) ------------------------------

When = Annotated[
    str,
    F(
        "适用情形",
        max_length=200,
        since=2,
        help="按“情形引导”的回答决定是否适用：问题编码=选项编码，多个条件用“；”分隔，同一问题的多个选项用“/”",
        example="agent=yes",
    ),
]
# 来源渠道, 必要性, 容缺后补期限, 填报须知, 受理标准: an edition's material use and a guide's
# material both carry them (MaterialUse in registry/editions/schema.py, GuideMaterial below).
Source = Annotated[MaterialSource, F("来源渠道", since=2, help="申请人自备、政府部门核发或其他")]
Necessity = Annotated[
    MaterialNecessity,
    F("必要性", since=2, help="必要、非必要或容缺后补（可先受理、限期补交）；留空按“是否必需”"),
]
DeferDays = Annotated[
    int, F("补交期限", ge=0, le=90, since=2, help="容缺后补材料的补交期限，工作日（0 为现场约定）")
]
FillGuide = Annotated[str, F("填报须知", max_length=1000, since=2, widget="textarea")]
AcceptanceStandard = Annotated[str, F("受理标准", max_length=1000, since=2, widget="textarea")]


_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*;%]+')


def safe_file_name(name: str, media_type: str) -> str:
    """A file name fit for a URL segment, a disk and a Content-Disposition header: the last
    segment of what the client sent, no control or path characters, at most 80 characters, and
    the extension of the type sniffed from the bytes (never the one the name claims)."""
    base = re.split(r"[/\\]", name or "")[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = " ".join(_UNSAFE_NAME.sub(" ", stem).split()).strip(". ")[:80] or "附件"
    return stem + ATTACHMENT_KINDS[media_type][1]


def attachments_in(value: Any, path: str = "") -> list[tuple[str, Attachment]]:
    """Every attachment inside a guide or an edition's content, with its field path
    (`result_sample`, `materials[2].blank_form`)."""
    if isinstance(value, Attachment):
        return [(path, value)]
    found: list[tuple[str, Attachment]] = []
    if isinstance(value, Struct):
        for name in value.__struct_fields__:
            v = getattr(value, name)
            if isinstance(v, Struct | tuple):  # texts and numbers hold none: not walked
                found += attachments_in(v, f"{path}.{name}" if path else name)
    elif isinstance(value, tuple):
        for i, v in enumerate(value):
            if isinstance(v, Struct):
                found += attachments_in(v, f"{path}[{i}]")
    return found


class MaterialTerms(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How an item asks for one material, declared once: an edition's MaterialUse (with the
    catalogue code it refers to) and a guide's GuideMaterial (with the entry resolved) extend it."""

    form: Annotated[MaterialForm, F("形式")] = "原件"
    copies: Annotated[int, F("份数", ge=1, le=99)] = 1
    medium: Annotated[MaterialMedium, F("介质")] = "纸质"
    required: Annotated[bool, F("是否必需")] = True
    condition: Annotated[str, F("需要情形", max_length=200, help="非必需材料必须写明何种情形下需要提交")] = ""
    waivable: Annotated[bool, F("可免提交", help="可通过电子证照共享等免于提交")] = False
    notes: Annotated[str, F("备注", max_length=1000)] = ""
    when: When = ""
    source: Source = ""
    necessity: Necessity = ""
    defer_days: DeferDays = 0
    fill_guide: FillGuide = ""
    acceptance_standard: AcceptanceStandard = ""
    blank_form: Annotated[
        Attachment | None,
        F("空白表格", since=2, widget="file", help="PDF、Word、Excel 或 PNG/JPEG 图片"),
    ] = None
    sample: Annotated[
        Attachment | None,
        F("示例样表", since=2, widget="file", help="填写好的样表，格式同上"),
    ] = None


class GuideMaterial(MaterialTerms, frozen=True, kw_only=True):
    code: str
    name: str
    kind: str  # 证照 | 证明 | 申请表 | 其他
    issuer: str = ""

    @property
    def necessity_label(self) -> str:
        """必要 / 非必要 / 容缺后补: as declared, else from `required`."""
        return self.necessity or ("必要" if self.required else "非必要")

    @property
    def deferrable(self) -> bool:
        return self.necessity == "容缺后补"


class Step(Struct, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, F("步骤", min_length=1, max_length=200)]
    actor: Annotated[str, F("办理人", max_length=200)] = ""
    duration: Annotated[str, F("时限", max_length=200)] = ""
    description: Annotated[str, F("说明", max_length=2000)] = ""
    when: When = ""


class Condition(Struct, frozen=True, forbid_unknown_fields=True):
    """A 受理条件 that applies only to some answers of 情形引导 (the general ones stay in the
    `conditions` text)."""

    text: Annotated[str, F("条件", min_length=1, max_length=1000)]
    when: When = ""


class Fee(Struct, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, F("收费项目", min_length=1, max_length=200)]
    amount: Annotated[str, F("金额", min_length=1, max_length=200)]
    basis: Annotated[str, F("依据", max_length=200)] = ""
    when: When = ""


class Venue(Struct, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, F("地点名称", min_length=1, max_length=200)]
    address: Annotated[str, F("地址", max_length=200)] = ""
    window: Annotated[str, F("窗口", max_length=200)] = ""
    hours: Annotated[str, F("办公时间", max_length=200)] = ""
    note: Annotated[str, F("备注", max_length=1000)] = ""
    transport: Annotated[str, F("交通", max_length=300, since=2, help="公交、地铁、停车")] = ""
    coordinates: Annotated[
        str, F("坐标", max_length=40, since=2, help="纬度,经度（WGS-84）", example="43.8256,87.6168")
    ] = ""
    open_days: Annotated[
        tuple[Weekday, ...], F("开放日", max_length=7, since=2, help="星期几开放，如“一、二、三、四、五”")
    ] = ()
    opens: Annotated[str, F("上班时间", max_length=5, since=2, example="10:00")] = ""
    closes: Annotated[str, F("下班时间", max_length=5, since=2, example="19:30")] = ""
    lunch: Annotated[str, F("午休", max_length=11, since=2, example="14:00-15:30")] = ""
    exceptions: Annotated[
        str,
        F(
            "特殊安排",
            max_length=500,
            since=2,
            help="每项“YYYY-MM-DD=休息”或“YYYY-MM-DD=10:00-14:00”，用“；”分隔；法定节假日和调休按工作日历自动处理",
        ),
    ] = ""


class SituationOption(Struct, frozen=True, forbid_unknown_fields=True):
    key: Annotated[str, F("选项编码", min_length=1, max_length=32, help="小写字母、数字或连字符")]
    label: Annotated[str, F("选项", min_length=1, max_length=100)]


class Situation(Struct, frozen=True, forbid_unknown_fields=True):
    """A question a citizen answers (情形引导): the materials, fees and steps whose `when` names
    its options apply only to the matching answers."""

    key: Annotated[str, F("问题编码", min_length=1, max_length=32, help="小写字母、数字或连字符")]
    question: Annotated[str, F("问题", min_length=1, max_length=200)]
    options: Annotated[
        tuple[SituationOption, ...],
        F(
            "选项",
            max_length=12,
            help="每项“编码=文字”，用“；”分隔",
            example="self=本人办理；agent=委托他人办理",
        ),
    ] = ()
    help: Annotated[str, F("说明", max_length=500)] = ""

    def option(self, key: str) -> SituationOption | None:
        return next((o for o in self.options if o.key == key), None)


class SpecialProcedure(Struct, frozen=True, forbid_unknown_fields=True):
    """特别程序 (听证、检验检测、专家评审 …): its time does not count against the time limits."""

    name: Annotated[str, F("程序名称", min_length=1, max_length=200)]
    duration: Annotated[str, F("时限", max_length=200)] = ""
    description: Annotated[str, F("说明", max_length=1000)] = ""


class Faq(Struct, frozen=True, forbid_unknown_fields=True):
    question: Annotated[str, F("问题", min_length=1, max_length=200)]
    answer: Annotated[str, F("回答", min_length=1, max_length=4000)]


class GuideContent(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The content fields of a guide, declared once. `materials` and `legal_basis` are declared
    by the two subclasses: references in an edition, resolved entries in a snapshot."""

    name: Annotated[
        str, F("事项名称", min_length=1, max_length=200, example="有限责任公司设立登记", width=28)
    ]
    summary: Annotated[
        str,
        F(
            "事项概述",
            max_length=1000,
            widget="textarea",
            example="设立有限责任公司，领取营业执照。",
            width=30,
        ),
    ] = ""
    audience: Annotated[
        tuple[Audience, ...],
        F("服务对象", max_length=3, help="一项或多项，用顿号“、”分隔", example="法人、其他组织", width=14),
    ] = ()
    result: Annotated[
        str, F("办理结果", max_length=200, help="办理结果的名称", example="营业执照", width=16)
    ] = ""
    conditions: Annotated[
        str,
        F(
            "受理条件",
            max_length=20_000,
            widget="markdown",
            diff="whole",
            help="可多行（Markdown），如每行“- 条件”",
            example="- 股东符合法定人数；",
            width=40,
        ),
    ] = ""
    situational_conditions: Annotated[
        tuple[Condition, ...],
        F(
            "视情形的受理条件",
            max_length=30,
            since=2,
            help="只对部分申请人适用的受理条件，每行一条：“条件｜适用情形”",
            example="受托人应为完全民事行为能力人｜agent=agent",
            width=40,
        ),
    ] = ()
    steps: Annotated[
        tuple[Step, ...],
        F("办理流程", max_length=50, help="每行一步", example="受理｜窗口工作人员｜即时", width=40),
    ] = ()
    statutory_days: Annotated[
        int,
        F(
            "法定办结时限",
            required=True,
            ge=0,
            le=365,
            diff="days",
            help="工作日（0–365）",
            example="15",
            width=10,
        ),
    ] = 0
    promised_days: Annotated[
        int,
        F(
            "承诺办结时限",
            required=True,
            ge=0,
            le=365,
            diff="days",
            help="工作日，不超过法定办结时限",
            example="3",
            width=10,
        ),
    ] = 0
    fees: Annotated[
        tuple[Fee, ...], F("收费", max_length=50, help="不收费则留空或填“不收费”", example="不收费", width=30)
    ] = ()
    venues: Annotated[
        tuple[Venue, ...],
        F(
            "办理地点",
            max_length=50,
            help="每行一处",
            example="乌鲁木齐市政务服务中心｜｜2楼 3号窗口｜周一至周五 10:00–19:30",
            width=40,
        ),
    ] = ()
    consult_phone: Annotated[
        str, F("咨询电话", max_length=20, help="数字和连字符", example="0991-1234567", width=14)
    ] = ""
    complaint_phone: Annotated[
        str, F("投诉电话", max_length=20, help="数字和连字符，与咨询电话不同", example="12345", width=14)
    ] = ""
    trips: Annotated[
        int,
        F(
            "到办事现场次数",
            required=True,
            ge=0,
            le=10,
            diff="trips",
            help="0–10；超过 1 次必须填写跑动原因",
            example="1",
            width=10,
        ),
    ] = 1
    trips_reason: Annotated[
        str,
        F("跑动原因", max_length=500, help="到办事现场次数超过 1 次时必填", example="现场核验原件", width=20),
    ] = ""
    online_depth: Annotated[
        int,
        F(
            "网办深度",
            ge=0,
            le=4,
            diff="stars",
            help="0–4 星；4 为全程网办，到办事现场次数须为 0",
            example="3",
            width=8,
        ),
    ] = 0
    situations: Annotated[
        tuple[Situation, ...],
        F(
            "情形引导",
            max_length=8,
            since=2,
            help="申请人回答的问题；材料、收费、步骤的“适用情形”引用问题和选项编码",
            example="agent｜是否委托他人办理？｜self=本人办理；agent=委托他人办理",
            width=40,
        ),
    ] = ()
    basic_code: Annotated[
        str,
        F(
            "基本编码",
            max_length=12,
            since=2,
            help="国家事项基本编码，12 位数字",
            example="000105001000",
            width=14,
        ),
    ] = ""
    implementation_code: Annotated[
        str,
        F(
            "实施编码",
            max_length=31,
            since=2,
            help="31 位：实施主体统一社会信用代码（18 位）＋层级（1 位）＋基本编码（12 位）",
            width=34,
        ),
    ] = ""
    case_kind: Annotated[
        Literal["", "即办件", "承诺件"],
        F("办件类型", since=2, help="即办件或承诺件", example="承诺件", width=10),
    ] = ""
    handling_forms: Annotated[
        tuple[Literal["窗口办理", "网上办理", "快递申请"], ...],
        F("办理形式", max_length=3, since=2, help="窗口办理、网上办理、快递申请中的一项或多项", width=16),
    ] = ()
    online_url: Annotated[
        str, F("网上办理地址", max_length=300, since=2, help="电脑端网址（http:// 或 https://）", width=30)
    ] = ""
    mobile_url: Annotated[
        str, F("移动端办理地址", max_length=300, since=2, help="手机端网址或小程序入口网址", width=30)
    ] = ""
    appointment_url: Annotated[str, F("预约网址", max_length=300, since=2, width=30)] = ""
    appointment_phone: Annotated[
        str, F("预约电话", max_length=20, since=2, help="数字和连字符", width=14)
    ] = ""
    delivery: Annotated[
        Literal["", "窗口领取", "邮寄送达", "窗口领取或免费邮寄", "网上下载"],
        F("物流快递", since=2, help="办理结果的送达方式", example="窗口领取或免费邮寄", width=14),
    ] = ""
    result_kind: Annotated[
        Literal["", "证照", "批准文书", "证明", "其他"], F("结果类型", since=2, width=10)
    ] = ""
    result_sample: Annotated[
        Attachment | None,
        F("结果样本", since=2, widget="file", help="办理结果（证照、文书）的样本：PDF、Word、Excel 或图片"),
    ] = None
    service_scope: Annotated[
        Literal["", "全国通办", "全疆通办", "全市通办", "本区（县）办理"],
        F("通办范围", since=2, width=12),
    ] = ""
    quantity_limit: Annotated[
        str, F("数量限制", max_length=200, since=2, help="有数量限制的写明限制，否则留空或“无”", width=16)
    ] = ""
    intermediary: Annotated[
        str,
        F("中介服务", max_length=500, since=2, help="需要的中介服务（名称、是否收费），无则留空", width=20),
    ] = ""
    special_procedures: Annotated[
        tuple[SpecialProcedure, ...],
        F("特别程序", max_length=10, since=2, help="不计入办结时限的程序，每行一项", width=30),
    ] = ()
    supervision: Annotated[
        str,
        F("监督投诉渠道", max_length=300, since=2, help="投诉地址或网上渠道（投诉电话另填）", width=24),
    ] = ""
    effective_at: Annotated[
        date, F("实施日期", diff="skip", help="YYYY-MM-DD", example="2018-06-01", width=12)
    ]
    faq: Annotated[
        tuple[Faq, ...],
        F(
            "常见问题",
            max_length=50,
            diff="count",
            example="可以邮寄吗？｜可以，申请时选择邮寄送达。",
            width=40,
        ),
    ] = ()


class Guide(GuideContent, frozen=True, kw_only=True):
    code: str
    item_type: str
    department: DepartmentRef
    version: int
    published_at: datetime
    legal_basis: tuple[Citation, ...] = ()
    materials: tuple[GuideMaterial, ...] = ()
    schema: int = SCHEMA_VERSION

    @property
    def is_free(self) -> bool:
        return not self.fees

    @property
    def at_most_once(self) -> bool:
        return self.trips <= 1

    @property
    def fingerprint(self) -> str:
        return fingerprint(self)

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Guide:
        return msgspec.convert(data, cls)

    @classmethod
    def from_json(cls, text: str | bytes) -> Guide:
        return msgspec.json.decode(text, type=cls)


def replace(struct: Any, **changes: Any) -> Any:
    """A copy of a frozen struct with some fields changed."""
    return msgspec.structs.replace(struct, **changes)


def _iso(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _plain(struct: Any) -> dict[str, Any]:
    """Plain JSON-ready values; dates as Python's isoformat (the canonical form since schema 1)."""
    return json.loads(json.dumps(msgspec.to_builtins(struct, builtin_types=(datetime, date)), default=_iso))


@cache  # per class, once: canonical_json asks for every Struct it meets
def added_later(cls: type) -> dict[str, Any]:
    """The fields of a Struct declared with `since`, and their defaults (do not modify)."""
    found = {}
    for f in msgspec.inspect.type_info(cls).fields:
        t = f.type
        if isinstance(t, msgspec.inspect.Metadata) and (t.extra or {}).get("since"):
            found[f.name] = f.default
    return found


@cache
def _titles(cls: type) -> dict[str, str]:
    return {
        f.name: (
            (f.type.extra_json_schema or {}).get("title", f.name)
            if isinstance(f.type, msgspec.inspect.Metadata)
            else f.name
        )
        for f in msgspec.inspect.type_info(cls).fields
    }


def field_title(struct: Any, name: str) -> str:
    """A field's declared label (空白表格, 结果样本 …), for templates."""
    return _titles(struct if isinstance(struct, type) else type(struct))[name]


def declared_facts(struct: Any, *, skip: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
    """(name, label, text) of a record's fields added after schema 1 that hold plain values (a
    text, a choice, a list of choices) other than their default, in declaration order: the
    national implementation-list elements as Markdown and JSON-LD show them, from the one
    declaration (records, files and numbers have their own places)."""
    found = []
    titles = _titles(type(struct))
    for name, default in added_later(type(struct)).items():
        if name in skip:
            continue
        value = getattr(struct, name)
        if value == default:
            continue
        if isinstance(value, str):
            found.append((name, titles[name], value))
        elif isinstance(value, tuple) and all(isinstance(v, str) for v in value):
            found.append((name, titles[name], "、".join(value)))
    return found


def _canonical_builtins(value: Any) -> Any:
    """Builtins of a value, leaving out every field added after schema 1 (at any depth) while it
    holds its default; otherwise exactly `msgspec.to_builtins`."""
    if isinstance(value, Struct):
        later = added_later(type(value))
        out = {}
        for name in value.__struct_fields__:
            v = getattr(value, name)
            if name not in later or v != later[name]:
                out[name] = _canonical_builtins(v)
        return out
    if isinstance(value, tuple | list):
        return [_canonical_builtins(v) for v in value]
    return msgspec.to_builtins(value, builtin_types=(datetime, date))


def canonical_json(guide: Guide) -> bytes:
    """The canonical form: UTF-8 JSON, keys sorted, no insignificant whitespace; a field added
    after schema 1 appears only once it holds something."""
    data = _canonical_builtins(guide)
    return json.dumps(
        data,
        default=_iso,
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    ).encode("utf-8")


def fingerprint(guide: Guide) -> str:
    """SHA-256 of the canonical JSON, hex."""
    return hashlib.sha256(canonical_json(guide)).hexdigest()
