"""The Guide snapshot: canonical JSON, fingerprint, round trip."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from guides import DepartmentRef, Guide, GuideMaterial, Step, canonical_json, fingerprint
from guides.snapshot import replace


def make_guide(**changes) -> Guide:
    guide = Guide(
        code="650100-SGSJ-001",
        name="有限责任公司设立登记",
        item_type="行政许可",
        department=DepartmentRef("SGSJ", "乌鲁木齐市工商行政管理局", "市工商局", "city", "乌鲁木齐市"),
        version=1,
        effective_at=date(2018, 6, 1),
        published_at=datetime(2018, 5, 30, 2, 0, tzinfo=UTC),
        materials=(GuideMaterial(code="id-card", name="居民身份证", kind="证照"),),
        steps=(Step("受理"),),
        trips=0,
    )
    return replace(guide, **changes)


def test_canonical_json_is_sorted_compact_utf8():
    text = canonical_json(make_guide()).decode("utf-8")
    assert "居民身份证" in text  # not \\u-escaped
    assert ", " not in text and ": " not in text
    data = json.loads(text)
    assert list(data) == sorted(data)


def test_fingerprint_is_stable_and_content_sensitive():
    a, b = make_guide(), make_guide()
    assert fingerprint(a) == fingerprint(b)
    assert len(fingerprint(a)) == 64
    assert fingerprint(make_guide(trips=1)) != fingerprint(a)
    reordered = make_guide(
        materials=(
            GuideMaterial(code="b", name="营业执照", kind="证照"),
            GuideMaterial(code="id-card", name="居民身份证", kind="证照"),
        )
    )
    swapped = make_guide(materials=tuple(reversed(reordered.materials)))
    assert fingerprint(reordered) != fingerprint(swapped)  # order is content


def test_round_trip_through_json_keeps_everything():
    guide = make_guide()
    again = Guide.from_json(canonical_json(guide))
    assert again == guide
    assert fingerprint(again) == fingerprint(guide)
