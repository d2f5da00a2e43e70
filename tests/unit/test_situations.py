"""情形引导, the one-time notice, the schema-2 rules and opening hours as data."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from guides import Guide, canonical_json
from guides.situations import applies, build_notice, parse_when, read_answers, read_marks, when_text
from guides.snapshot import DepartmentRef, GuideMaterial, Situation, SituationOption, Venue
from guides.venues import DayFacts, hours_today, weekly_hours
from registry.workdays import Calendar, day_facts
from tests.unit.test_content import fields_of, with_

AGENT = Situation(
    key="agent",
    question="是否委托他人办理？",
    options=(SituationOption("self", "本人办理"), SituationOption("agent", "委托他人办理")),
)
HUKOU = Situation(
    key="hukou",
    question="申请人户籍？",
    options=(SituationOption("local", "本市户籍"), SituationOption("other", "外地户籍")),
)


def material(code: str, **kw) -> GuideMaterial:
    base = {"name": code, "kind": "证明", "form": "原件", "copies": 1, "medium": "纸质", "required": True}
    return GuideMaterial(code=code, **{**base, **kw})


def guide(**kw) -> Guide:
    kw.setdefault("situations", (AGENT, HUKOU))
    kw.setdefault(
        "materials",
        (
            material("id-card"),
            material("power-of-attorney", required=False, condition="委托他人办理的", when="agent=agent"),
            material("residence-permit", required=False, when="hukou=other"),
            material("marriage", required=False, condition="已婚的"),
        ),
    )
    return Guide(
        name="测试事项",
        effective_at=date(2026, 1, 1),
        code="650100-TEST-001",
        item_type="行政许可",
        department=DepartmentRef("T", "测试局", "测试", "city", "乌鲁木齐市"),
        version=1,
        published_at=datetime(2026, 1, 1, tzinfo=UTC),
        **kw,
    )


def test_when_reads_conditions_and_alternatives():
    assert parse_when("agent=agent；hukou=other/local") == {
        "agent": frozenset({"agent"}),
        "hukou": frozenset({"other", "local"}),
    }
    for bad in ("", "agent", "Agent=yes", "agent=yes=no", "agent=<b>"):
        with pytest.raises(ValueError):  # noqa: PT011 (parse_when raises ValueError with the bad term)
            parse_when(bad)
    assert applies("agent=agent", {"agent": "agent"}) is True
    assert applies("agent=agent", {"agent": "self"}) is False
    assert applies("agent=agent", {}) is None  # unanswered: may be needed
    assert when_text("hukou=other/local", (HUKOU,)) == "本市户籍或外地户籍"


def test_the_notice_lists_only_what_applies_to_the_answers():
    g = guide()
    in_person = build_notice(g, {"agent": "self", "hukou": "local"})
    assert [m.material.code for m in in_person.materials] == ["id-card", "marriage"]
    agent = build_notice(g, {"agent": "agent", "hukou": "other"})
    assert [m.material.code for m in agent.materials] == [
        "id-card",
        "power-of-attorney",
        "residence-permit",
        "marriage",
    ]
    assert [m.certain for m in agent.materials] == [True, True, True, False]  # 已婚的: in words only
    unanswered = build_notice(g, {})
    assert len(unanswered.materials) == 4 and not unanswered.materials[1].certain
    assert [s.key for s in unanswered.unanswered] == ["agent", "hukou"]


def test_answers_and_marks_from_the_query_ignore_anything_else():
    g = guide()
    query = {
        "agent": "agent",
        "hukou": "mars",
        "x": "y",
        "m-id-card": "brought",
        "m-power-of-attorney": "deferred",
        "due-power-of-attorney": "2026-12-04",
        "m-marriage": "eaten",
    }
    assert read_answers(query, g.situations) == {"agent": "agent"}
    marks = read_marks(query, g.materials)
    assert {k: (m.mark, m.due) for k, m in marks.items()} == {
        "id-card": ("brought", None),
        "power-of-attorney": ("deferred", date(2026, 12, 4)),
    }
    notice = build_notice(g, {"agent": "agent"}, marks)
    assert [m.material.code for m in notice.deferred] == ["power-of-attorney"]
    data = notice.to_dict("http://x/g/650100-TEST-001/notice?agent=agent")
    assert data["answers"][0]["label"] == "委托他人办理"
    assert data["materials"][1]["mark"] == "deferred" and data["materials"][1]["due"] == "2026-12-04"


def test_schema_2_fields_at_their_defaults_leave_the_canonical_form_alone():
    g = guide(situations=(), materials=(material("id-card"),))
    text = canonical_json(g).decode()
    assert '"situations"' not in text and '"when"' not in text and '"case_kind"' not in text
    assert '"when":"agent=agent"' in canonical_json(guide()).decode()


def test_situation_rules_name_the_field():
    situations = [
        {"key": "agent", "question": "是否委托？", "options": [{"key": "self", "label": "本人"}]},
        {
            "key": "agent",
            "question": "重复？",
            "options": [{"key": "a", "label": "A"}, {"key": "a", "label": "B"}],
        },
    ]
    materials = [
        {"material": "id-card", "required": False, "condition": "委托", "when": "agent=nobody"},
        {"material": "hukou", "required": False, "when": "ghost=yes"},
        {"material": "passport", "required": False, "when": "不是条件"},
    ]
    errors = fields_of(with_(situations=situations, materials=materials))
    assert errors["situations[0].options"] == "每个问题至少需要两个选项"
    assert errors["situations[1].key"] == "问题编码“agent”重复"
    assert errors["situations[1].options[1].key"] == "选项编码“a”重复"
    assert errors["materials[0].when"] == "问题“agent”没有选项“nobody”"
    assert errors["materials[1].when"] == "情形引导中没有问题“ghost”"
    assert "适用情形应写作" in errors["materials[2].when"]
    nested = fields_of(with_(situations=[{"key": "a", "question": "Q", "options": [{"key": "x"}]}]))
    assert nested["situations[0].options[0].label"] == "必填"


def test_national_codes_urls_and_necessity_are_checked():
    errors = fields_of(
        with_(
            basic_code="12345",
            implementation_code="11650100MB1234567X3000105001000",
            online_url="javascript:alert(1)",
            appointment_phone="电话",
            materials=[
                {"material": "id-card", "required": False, "condition": "x", "necessity": "必要"},
                {"material": "hukou", "required": True, "necessity": "必要", "defer_days": 5},
            ],
        )
    )
    assert errors["basic_code"] == "基本编码应为 12 位数字"
    assert errors["online_url"].startswith("网址应以 http://")
    assert errors["appointment_phone"] == "电话号码只能包含数字和连字符"
    assert errors["materials[0].necessity"] == "必要性为“必要”的材料应勾选“是否必需”"
    assert errors["materials[1].defer_days"] == "只有容缺后补的材料才有补交期限"
    mismatch = fields_of(
        with_(basic_code="000105001001", implementation_code="11650100MB1234567X3000105001000")
    )
    assert mismatch["implementation_code"] == "实施编码的后 12 位应与基本编码一致"
    bad_shape = fields_of(
        with_(basic_code="000105001000", implementation_code="11650100MB1234567X9000105001000")
    )
    assert bad_shape["implementation_code"].startswith("实施编码应为 31 位")
    ok = with_(basic_code="000105001000", implementation_code="11650100MB1234567X3000105001000")
    from registry.editions.schema import content_from_mapping

    assert content_from_mapping(ok).implementation_code.endswith("000105001000")


HALL = Venue(name="市政务服务中心", open_days=("一", "二", "三", "四", "五"), opens="10:00", closes="19:30",
             lunch="14:00-15:30", exceptions="2026-12-31=休息；2026-12-30=10:00-14:00")  # fmt: skip


def test_opening_hours_today_follow_the_working_day_calendar():
    cal = Calendar.load()
    assert weekly_hours(HALL) == "周一至周五 10:00–19:30（14:00–15:30 午休）"
    national_day = day_facts(cal, date(2026, 10, 1))
    assert hours_today(HALL, national_day) == "今天休息（国庆节）"
    assert hours_today(HALL, day_facts(cal, date(2026, 10, 10))).startswith("今天 10:00–19:30")  # 调休上班
    assert hours_today(HALL, day_facts(cal, date(2026, 11, 28))) == "今天休息（周末）"
    assert hours_today(HALL, day_facts(cal, date(2026, 11, 30))) == "今天 10:00–19:30（14:00–15:30 午休）"
    assert hours_today(HALL, DayFacts(date(2026, 12, 31), True)) == "今天休息（特殊安排）"
    assert hours_today(HALL, DayFacts(date(2026, 12, 30), True)) == "今天 10:00–14:00（特殊安排）"
    assert hours_today(HALL, None) == ""  # a year the calendar does not know: no guess


def test_bad_hours_are_refused():
    errors = fields_of(with_(venues=[{"name": "中心", "opens": "25:00", "closes": "", "lunch": "noon",
                                      "exceptions": "明天=休息", "coordinates": "north"}]))  # fmt: skip
    assert set(errors) >= {
        "venues[0].opens",
        "venues[0].closes",
        "venues[0].lunch",
        "venues[0].exceptions",
        "venues[0].coordinates",
    }


def test_conditions_can_be_tied_to_answers():
    from guides.snapshot import Condition

    adult = Condition("受托人应年满十八周岁", when="agent=agent")
    local = Condition("申请人应在本市居住满半年", when="hukou=other")
    g = guide(situational_conditions=(adult, local))
    assert build_notice(g, {"agent": "self"}).conditions == [local]  # unanswered: maybe
    mine = build_notice(g, {"agent": "agent", "hukou": "local"})
    assert mine.conditions == [adult]
    assert mine.to_dict("x")["conditions"] == [{"text": "受托人应年满十八周岁", "certain": True}]
    errors = fields_of(
        with_(
            situations=[
                {
                    "key": "agent",
                    "question": "委托？",
                    "options": [{"key": "self", "label": "本人"}, {"key": "agent", "label": "委托"}],
                }
            ],
            situational_conditions=[{"text": "受托人应成年", "when": "agent=robot"}],
        )
    )
    assert errors["situational_conditions[0].when"] == "问题“agent”没有选项“robot”"
