"""Every named check (registry.checks) has a passing and a failing example."""

from __future__ import annotations

from datetime import date

import pytest

from registry import checks
from registry.editions.schema import EditionContent, content_from_mapping, content_rule_errors
from registry.inputs import read

BASE = {
    "name": "食品经营许可（新办）",
    "effective_at": "2018-09-01",
    "statutory_days": 20,
    "promised_days": 5,
    "trips": 1,
    "trips_reason": "核验原件",
    "online_depth": 3,
    "consult_phone": "0991-1234567",
    "complaint_phone": "12345",
    "legal_basis": [{"document": "food-safety-law", "articles": "第三十五条"}],
    "materials": [{"material": "application-form"}],
    "steps": [{"name": "受理"}, {"name": "审查"}, {"name": "发证"}],
    "venues": [{"name": "乌鲁木齐市政务服务中心"}],
    "faq": [{"question": "可以邮寄吗？", "answer": "可以。"}],
}
LICENSING = checks.Context(item_type="行政许可")
GOV = checks.Context(gov_issued=frozenset({"id-card"}))
TODAY = date(2026, 11, 30)


def reviewed(day: str) -> checks.Context:
    return checks.Context(reviewed_on=date.fromisoformat(day), today=TODAY)


def content(**changes) -> EditionContent:
    return read(EditionContent, {**BASE, **changes})


# (rule, context, passing changes, failing changes, the field the finding names)
CASES = [
    (
        "Q001",
        None,
        {"trips": 2, "trips_reason": "两次核验"},
        {"trips": 2, "trips_reason": ""},
        "trips_reason",
    ),
    ("Q002", None, {"trips": 1}, {"trips": 1, "trips_reason": " "}, "trips_reason"),
    ("Q003", None, {"online_depth": 4, "trips": 0}, {"online_depth": 4, "trips": 1}, "online_depth"),
    ("Q004", None, {"trips": 0, "delivery": "邮寄送达"}, {"trips": 0, "delivery": "窗口领取"}, "delivery"),
    (
        "Q005",
        None,
        {"fees": [{"name": "工本费", "amount": "10 元", "basis": "发改价格〔2018〕1号"}]},
        {"fees": [{"name": "工本费", "amount": "10 元"}]},
        "fees[0].basis",
    ),
    ("Q006", None, {"promised_days": 20}, {"promised_days": 21}, "promised_days"),
    ("Q007", None, {}, {"complaint_phone": ""}, "complaint_phone"),
    ("Q008", None, {"complaint_phone": "12345"}, {"complaint_phone": "0991-1234567"}, "complaint_phone"),
    (
        "Q009",
        None,
        {
            "result": "许可证",
            "result_sample": {
                "name": "许可证样本.pdf",
                "sha256": "0" * 64,
                "media_type": "application/pdf",
                "size": 1,
            },
        },
        {"result": "许可证"},
        "result_sample",
    ),
    ("Q010", LICENSING, {}, {"steps": [{"name": "受理"}, {"name": "发证"}]}, "steps"),
    ("Q010", LICENSING, {}, {"faq": []}, "faq"),
    (
        "Q011",
        GOV,
        {"materials": [{"material": "id-card", "waivable": True}]},
        {"materials": [{"material": "id-card"}]},
        "materials[0].material",
    ),
    (
        "Q011",
        None,
        {"materials": [{"material": "x", "source": "申请人自备"}]},
        {"materials": [{"material": "x", "source": "政府部门核发"}]},
        "materials[0].material",
    ),
    ("Q012", None, {}, {"legal_basis": []}, "legal_basis"),
    ("Q013", None, {}, {"steps": []}, "steps"),
    ("Q014", None, {"trips": 0, "delivery": "邮寄送达", "venues": []}, {"venues": []}, "venues"),
    # Staleness: the same content, reviewed 9 months ago (passes) and longer ago (fails).
    ("Q015", reviewed("2026-03-01"), {}, reviewed("2025-11-29"), "-"),
    ("Q016", reviewed("2026-03-01"), {}, reviewed("2026-01-29"), "-"),
]


@pytest.mark.parametrize(("code", "context", "good", "bad", "field"), CASES)
def test_each_rule_passes_and_fails(code, context, good, bad, field):
    check = checks.BY_CODE[code]
    context = context or checks.Context()
    assert check.run(content(**good), context) == []
    if isinstance(bad, checks.Context):
        found = check.run(content(), bad)
    else:
        found = check.run(content(**bad), context)
    assert [(f.code, f.field) for f in found] == [(code, field)]
    assert found[0].severity == check.severity
    assert found[0].message  # a Chinese sentence naming the problem


def test_every_rule_has_an_example():
    assert {c[0] for c in CASES} == set(checks.BY_CODE)
    assert len({c.code for c in checks.CHECKS}) == len(checks.CHECKS)


def test_staleness_is_a_warning_at_ten_months_and_an_error_at_twelve():
    def codes(day: str) -> list[str]:
        return [f.code for f in checks.run(content(), reviewed(day)) if f.code in ("Q015", "Q016")]

    assert codes("2026-02-01") == []  # 9 months
    assert codes("2026-01-30") == ["Q016"]  # 10 months
    assert codes("2025-12-30") == ["Q016"]  # 11 months
    assert codes("2025-11-30") == ["Q015"]  # 12 months: error only


def test_errors_refuse_content_and_warnings_do_not():
    assert content_rule_errors(content(result="许可证")) == []  # Q009 is only a warning
    refused = content_rule_errors(content(fees=[{"name": "工本费", "amount": "10 元"}]))
    assert [e.field for e in refused] == ["fees[0].basis"]


def test_a_draft_is_held_only_to_the_consistency_rules():
    incomplete = content(legal_basis=[], steps=[], complaint_phone="")
    assert content_rule_errors(incomplete, complete=False) == []
    assert {e.field for e in content_rule_errors(incomplete)} == {"legal_basis", "steps", "complaint_phone"}
    inconsistent = content(promised_days=30)
    assert [e.field for e in content_rule_errors(inconsistent, complete=False)] == ["promised_days"]


def test_submission_context_applies_the_licensing_rule():
    two_steps = content(steps=[{"name": "受理"}, {"name": "发证"}])
    assert content_rule_errors(two_steps) == []  # no item type known: the rule cannot apply
    assert [e.field for e in content_rule_errors(two_steps, context=LICENSING)] == ["steps"]


def test_free_of_charge_needs_no_basis():
    assert checks.run(content(fees=[{"name": "不收费", "amount": "0"}])) == []
    assert content_from_mapping({**BASE, "fees": [{"name": "不收费", "amount": "0"}]}).fees


def test_months_between():
    assert checks.months_between(date(2025, 1, 31), date(2025, 2, 28)) == 0
    assert checks.months_between(date(2025, 1, 31), date(2026, 1, 31)) == 12
    assert checks.months_between(date(2025, 1, 15), date(2026, 1, 14)) == 11
