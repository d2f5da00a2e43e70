"""Data-quality rules as named checks (seed items 32, 33): one place for every business rule
a guide's content is held to.

Each rule has a code (Q001 …), a Chinese title, a severity and a function over the content and
what the content alone cannot say (`Context`: the item's type, which catalogue materials a
government department issues, when the item was last reviewed). Rules run

- on every save: rules marked `draft=True` (content that is inconsistent, not just incomplete)
  refuse the save; the others are shown;
- on submission (and seeding, publication): every error refuses, warnings are shown;
- over the whole registry with `onetrip check` and on the staff quality pages.

The input reader (registry.inputs) checks types and limits, and registry.editions.schema checks
shapes (phone and URL syntax, codes, situations); the rules here are about what a guide says.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from guides.i18n import _

# registry.editions.schema.EditionContent (not imported: the schema imports these rules).
EditionContent = Any


class Severity(StrEnum):
    error = "error"
    warning = "warning"


SEVERITY_LABELS = {Severity.error: "错误", Severity.warning: "提示"}
# A courier, a download or an equivalent brings the result home when nobody comes to the hall.
REMOTE_DELIVERY = ("邮寄送达", "窗口领取或免费邮寄", "网上下载")
STALE_MONTHS = 12
STALE_WARNING_MONTHS = 10


@dataclass(frozen=True, slots=True)
class Context:
    """What a rule may need beyond the content. `None` means unknown: rules needing it skip."""

    item_type: str | None = None
    gov_issued: frozenset[str] = frozenset()  # catalogue codes of materials a department issues
    reviewed_on: date | None = None
    today: date | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    field: str
    message: str

    @property
    def severity_label(self) -> str:
        return _(SEVERITY_LABELS[self.severity])


Rule = Callable[[EditionContent, Context], Iterable[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class Check:
    code: str
    title: str
    severity: Severity
    rule: Rule = field(repr=False)
    draft: bool = False  # also refuses saving a draft (inconsistent, not merely incomplete)
    complete: bool = True  # needs complete content (not run on drafts at all unless `draft`)

    def run(self, content: EditionContent, context: Context) -> list[Finding]:
        return [Finding(self.code, self.severity, f, m) for f, m in self.rule(content, context)]


def months_between(earlier: date, later: date) -> int:
    """Whole calendar months from `earlier` to `later`."""
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - (later.day < earlier.day)


# ---- the rules -------------------------------------------------------------------------------


def _trips_reason_many(c: EditionContent, _ctx: Context) -> Iterable[tuple[str, str]]:
    if c.trips > 1 and not c.trips_reason.strip():
        yield "trips_reason", _("到办事现场次数超过 1 次时，必须说明原因（跑多次是例外）")


def _trips_reason_once(c: EditionContent, _ctx: Context) -> Iterable[tuple[str, str]]:
    if c.trips == 1 and not c.trips_reason.strip():
        yield "trips_reason", _("需要到现场 1 次的，应说明为何必须到现场")


def _fully_online(c: EditionContent, _ctx: Context) -> Iterable[tuple[str, str]]:
    if c.online_depth == 4 and c.trips > 0:
        yield "online_depth", _("网办深度为四星（全程网办）时，到办事现场次数应为 0")


def _zero_trips_delivery(c: EditionContent, _ctx: Context) -> Iterable[tuple[str, str]]:
    if (
        c.trips == 0
        and c.online_depth < 4
        and c.delivery not in REMOTE_DELIVERY
        and "快递申请" not in c.handling_forms
    ):
        yield "delivery", _("零跑动但非全程网办的事项，应提供邮寄送达、网上下载或快递申请")


def _fee_basis(c: EditionContent, _ctx: Context) -> Iterable[tuple[str, str]]:
    for i, fee in enumerate(c.fees):
        if fee.name.strip() != "不收费" and not fee.basis.strip():
            yield f"fees[{i}].basis", _("收费项目“{n}”应写明收费依据", n=fee.name)


def _promised_days(c: EditionContent, _ctx: Context) -> Iterable[tuple[str, str]]:
    if c.promised_days > c.statutory_days:
        yield (
            "promised_days",
            _(
                "承诺办结时限（{p} 个工作日）不能超过法定办结时限（{s} 个工作日）",
                p=c.promised_days,
                s=c.statutory_days,
            ),
        )


def _phones_present(c: EditionContent, _ctx: Context) -> Iterable[tuple[str, str]]:
    if not c.consult_phone:
        yield "consult_phone", _("应填写咨询电话")
    if not c.complaint_phone:
        yield "complaint_phone", _("应填写投诉电话")


def _phones_different(c: EditionContent, _ctx: Context) -> Iterable[tuple[str, str]]:
    if c.consult_phone and c.consult_phone == c.complaint_phone:
        yield "complaint_phone", _("投诉电话应与咨询电话不同")


def _result_sample(c: EditionContent, _ctx: Context) -> Iterable[tuple[str, str]]:
    if c.result.strip() and c.result_sample is None:
        yield "result_sample", _("写明了办理结果“{r}”的，应提供结果样本", r=c.result)


def _licensing_faq_steps(c: EditionContent, ctx: Context) -> Iterable[tuple[str, str]]:
    if ctx.item_type != "行政许可":
        return
    if not c.faq:
        yield "faq", _("行政许可事项至少需要一条常见问题")
    if len(c.steps) < 3:
        yield "steps", _("行政许可事项至少需要 3 个办理步骤（现有 {n} 个）", n=len(c.steps))


def _gov_issued(c: EditionContent, ctx: Context) -> Iterable[tuple[str, str]]:
    for i, m in enumerate(c.materials):
        if (m.material in ctx.gov_issued or m.source == "政府部门核发") and not m.waivable:
            yield f"materials[{i}].material", _("该材料由政府部门核发，是减证候选：宜通过共享免于提交")


def _legal_basis(c: EditionContent, _ctx: Context) -> Iterable[tuple[str, str]]:
    if not c.legal_basis:
        yield "legal_basis", _("至少需要一项设定依据")


def _steps(c: EditionContent, _ctx: Context) -> Iterable[tuple[str, str]]:
    if not c.steps:
        yield "steps", _("至少需要一个办理步骤")


def _venues(c: EditionContent, _ctx: Context) -> Iterable[tuple[str, str]]:
    if c.trips > 0 and not c.venues:
        yield "venues", _("需要到现场办理的事项必须写明办理地点")


def _stale(months: int) -> Rule:
    def rule(_c: EditionContent, ctx: Context) -> Iterable[tuple[str, str]]:
        if ctx.reviewed_on is None or ctx.today is None:
            return
        age = months_between(ctx.reviewed_on, ctx.today)
        if age >= months and (months == STALE_MONTHS or age < STALE_MONTHS):
            yield "-", _("办事指南已 {n} 个月未审核（上次审核 {d}）", n=age, d=ctx.reviewed_on.isoformat())

    return rule


CHECKS: tuple[Check, ...] = (
    Check("Q001", "跑动多次须说明原因", Severity.error, _trips_reason_many, draft=True),
    Check("Q002", "跑动一次宜说明原因", Severity.warning, _trips_reason_once),
    Check("Q003", "全程网办即零跑动", Severity.error, _fully_online, draft=True),
    Check("Q004", "零跑动须有邮寄或同等方式", Severity.error, _zero_trips_delivery),
    Check("Q005", "收费须有依据", Severity.error, _fee_basis),
    Check("Q006", "承诺时限不超过法定时限", Severity.error, _promised_days, draft=True),
    Check("Q007", "咨询、投诉电话齐全", Severity.error, _phones_present),
    Check("Q008", "咨询、投诉电话不同", Severity.error, _phones_different, draft=True),
    Check("Q009", "办理结果须有样本", Severity.warning, _result_sample),
    Check("Q010", "行政许可须有常见问题和 3 个以上步骤", Severity.error, _licensing_faq_steps),
    Check("Q011", "政府部门核发的材料（减证候选）", Severity.warning, _gov_issued),
    Check("Q012", "须有设定依据", Severity.error, _legal_basis),
    Check("Q013", "须有办理步骤", Severity.error, _steps),
    Check("Q014", "到现场办理须写明地点", Severity.error, _venues),
    Check("Q015", "超过 12 个月未审核", Severity.error, _stale(STALE_MONTHS)),
    Check("Q016", "10 个月未审核，即将到期", Severity.warning, _stale(STALE_WARNING_MONTHS)),
)
BY_CODE = {c.code: c for c in CHECKS}


def run(content: EditionContent, context: Context = Context(), *, complete: bool = True) -> list[Finding]:
    """Every finding on `content`. A draft (`complete=False`) is held only to the `draft` rules."""
    found: list[Finding] = []
    for check in CHECKS:
        if complete or check.draft:
            found.extend(check.run(content, context))
    return found


def errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == Severity.error]


def warnings(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == Severity.warning]


def as_dict(f: Finding) -> dict[str, Any]:
    return {"code": f.code, "severity": f.severity.value, "field": f.field, "message": f.message}
