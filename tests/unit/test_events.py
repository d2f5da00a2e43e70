"""Life events without a database: merging materials, sums, situations, the fingerprint, the
seed file, and the page rendered from the real seeds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup

from guides import Guide
from guides.events import EventContent, EventGuide, event_code_error, event_fingerprint, merge
from guides.snapshot import DepartmentRef, Situation, SituationOption, replace
from guides.templating import make_environment
from guides.urls import Urls
from registry.errors import ValidationError
from registry.events.commands import content_from_mapping
from registry.events.reads import matching
from registry.seeding import read_seeds
from tests.conftest import SEEDS, SMALL_SEEDS
from tests.unit.test_channels_render import seeded_guides

AT = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
DEPT = DepartmentRef("SGSJ", "乌鲁木齐市工商行政管理局", "市工商局", "city", "乌鲁木齐市")


def by_code(guides: list[Guide]) -> dict[str, tuple[Guide, str]]:
    return {g.code: (g, g.fingerprint) for g in guides}


@pytest.fixture(scope="module")
def small() -> dict[str, tuple[Guide, str]]:
    return by_code(seeded_guides(SMALL_SEEDS))


def bundle(*codes: str, trips: int = 1, days: int = 2) -> EventGuide:
    content = EventContent(
        name="开办企业", items=codes, trips=trips, trips_reason="一窗受理", promised_days=days
    )
    return EventGuide(code="YJS-TEST", version=1, department=DEPT, published_at=AT, content=content)


def test_materials_are_merged_by_catalogue_entry_and_say_which_items_need_them(small):
    merged = merge(bundle("650100-SGSJ-001", "650100-SGSJ-002", "650102-TSQ-001"), small)
    names = [m.name for m in merged.materials]
    assert len(names) == len(set(names))  # one 居民身份证, not two
    mentions = sum(len(g.materials) for g, _fp in small.values())
    assert merged.material_mentions == mentions == 5
    assert len(merged.materials) == 3
    id_card = next(m for m in merged.materials if m.code == "id-card")
    assert [i.code for i in id_card.items] == ["650100-SGSJ-001", "650102-TSQ-001"]
    assert id_card.shared
    attorney = next(m for m in merged.materials if m.code == "power-of-attorney")
    assert not attorney.required and attorney.conditions  # needed only when someone else applies
    assert [i.code for i in attorney.items] == ["650100-SGSJ-001"]


def test_trips_and_days_are_shown_next_to_the_sums_of_the_separate_items(small):
    merged = merge(bundle("650100-SGSJ-001", "650100-SGSJ-002", "650102-TSQ-001", trips=1, days=4), small)
    assert merged.trips_sum == sum(g.trips for g, _fp in small.values()) == 0 + 1 + 2
    assert merged.days_sum == sum(g.promised_days for g, _fp in small.values()) == 3 + 1 + 5
    assert (merged.content.trips, merged.trips_saved) == (1, 2)
    assert (merged.content.promised_days, merged.days_saved) == (4, 5)


def test_an_item_no_longer_published_is_named_and_left_out(small):
    merged = merge(bundle("650100-SGSJ-001", "650100-GONE-001"), small)
    assert merged.missing == ("650100-GONE-001",)
    assert [i.code for i in merged.items] == ["650100-SGSJ-001"]


def test_situations_are_merged_by_question_key(small):
    guide, fp = small["650100-SGSJ-001"]
    other, other_fp = small["650100-SGSJ-002"]
    ask = Situation(
        "agent", "是否委托他人办理？", (SituationOption("self", "本人"), SituationOption("agent", "委托"))
    )
    ask_more = Situation(
        "agent", "是否委托？", (SituationOption("agent", "委托"), SituationOption("org", "单位"))
    )
    guides = {
        guide.code: (replace(guide, situations=(ask,)), fp),
        other.code: (replace(other, situations=(ask_more,)), other_fp),
    }
    merged = merge(bundle(guide.code, other.code), guides)
    assert len(merged.situations) == 1
    (s,) = merged.situations
    assert [o.key for o in s.options] == ["self", "agent", "org"]
    assert [i.code for i in s.items] == [guide.code, other.code]


def test_the_fingerprint_changes_when_an_item_changes(small):
    event = bundle("650100-SGSJ-001", "650100-SGSJ-002")
    before = merge(event, small)
    assert before.fingerprint == event_fingerprint(before.event)
    assert merge(event, small).fingerprint == before.fingerprint  # deterministic
    changed_guide = replace(small["650100-SGSJ-002"][0], promised_days=0)
    changed = {**small, "650100-SGSJ-002": (changed_guide, changed_guide.fingerprint)}
    after = merge(event, changed)
    assert after.fingerprint != before.fingerprint
    # … and a change to the bundle's own content changes it too
    other = replace(event, content=replace(event.content, trips_reason="另一原因"))
    assert merge(other, small).fingerprint != before.fingerprint
    # the snapshot's JSON reads back to the same fingerprint
    assert event_fingerprint(EventGuide.from_json(after.event.to_json())) == after.fingerprint


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "items": ["A"]}, "name"),
        ({"name": "x", "items": []}, "items"),
        ({"name": "x", "items": ["A"], "trips": "abc"}, "trips"),
        ({"name": "x", "items": ["A"], "trips": 3}, "trips_reason"),
        ({"name": "x", "items": ["A"], "promised_days": -1}, "promised_days"),
        ({"name": "x", "items": ["A"], "audience": ["外星人"]}, "audience"),
        ({"name": "x" * 101, "items": ["A"]}, "name"),
    ],
)
def test_bad_content_names_the_field(data, field):
    with pytest.raises(ValidationError) as caught:
        content_from_mapping(data)
    assert field in [e.field.split("[")[0] for e in caught.value.errors]


def test_codes():
    assert event_code_error("YJS-KBQY") is None
    for bad in ("yjs-kbqy", "YJS-", "KBQY", "YJS-开办", 7, None, "YJS-" + "A" * 17):
        assert event_code_error(bad) is not None


def test_the_seeded_bundles_use_seeded_items_and_save_trips_or_materials():
    seeds = read_seeds(SEEDS)
    names = {e.content.name for e in seeds.events}
    assert {"开办企业", "新生儿出生", "不动产转移登记", "退休", "结婚生育", "开饭店"} <= names
    guides = by_code(seeded_guides(SEEDS))
    for event in seeds.events:
        snapshot = EventGuide(
            code=event.code, version=1, department=DEPT, published_at=AT, content=event.content
        )
        merged = merge(snapshot, guides)
        assert not merged.missing, event.code
        assert merged.content.trips <= merged.trips_sum, event.code
        assert merged.content.promised_days <= merged.days_sum or merged.days_sum == 0, event.code
        assert len(merged.materials) <= merged.material_mentions, event.code


def test_search_matches_names_and_keywords(small):
    events = {
        "YJS-A": merge(bundle("650100-SGSJ-001"), small),
        "YJS-B": merge(
            replace(
                bundle("650102-TSQ-001"),
                content=EventContent(name="结婚生育", keywords=("领证",), items=("650102-TSQ-001",)),
            ),
            small,
        ),
    }
    assert [e.content.name for e in matching(events, "开办企业")] == ["开办企业"]
    assert [e.content.name for e in matching(events, "领证")] == ["结婚生育"]
    assert [e.content.name for e in matching(events, "我要 领证 ")] == ["结婚生育"]
    assert matching(events, "驾照") == []
    assert matching(events, "") == []


def test_the_page_and_print_render_under_strict_undefined(small):
    env = make_environment()
    env.globals["urls"] = Urls("https://zwfw.example.cn")
    merged = merge(bundle("650100-SGSJ-001", "650100-SGSJ-002", "650102-TSQ-001", trips=1, days=4), small)
    html = env.get_template("events/_event_body.html").render(ev=merged)
    page = BeautifulSoup(html, "html.parser")
    assert page.select_one("article.event")["data-fingerprint"] == merged.fingerprint
    assert len(page.select("#materials li.material")) == 3
    trips = page.select_one(".event-trips").get_text(" ", strip=True)
    assert "1 次" in trips and "分别办理合计 3 次" in trips and "一窗受理" in trips
    days = page.select_one(".event-days").get_text(" ", strip=True)
    assert "4 个工作日" in days and "9 个工作日" in days
    assert [a["href"] for a in page.select("#event-items a")] == [
        "/g/650100-SGSJ-001",
        "/g/650100-SGSJ-002",
        "/g/650102-TSQ-001",
    ]
