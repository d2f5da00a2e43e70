"""The domain's rules for guide content: each refusal names the field."""

from __future__ import annotations

import copy

import pytest

from registry.editions.schema import content_from_mapping
from registry.errors import ValidationError

GOOD = {
    "name": "食品经营许可（新办）",
    "effective_at": "2018-09-01",
    "conditions": "- 有经营场所",
    "statutory_days": 20,
    "promised_days": 5,
    "trips": 1,
    "online_depth": 3,
    "consult_phone": "0991-1234567",
    "complaint_phone": "12345",
    "legal_basis": [{"document": "food-safety-law", "articles": "第三十五条"}],
    "materials": [{"material": "id-card", "form": "原件", "copies": 1, "medium": "纸质", "required": True}],
    "steps": [{"name": "受理"}],
    "venues": [{"name": "乌鲁木齐市政务服务中心"}],
}


def with_(**changes):
    data = copy.deepcopy(GOOD)
    data.update(changes)
    return data


def fields_of(data) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        content_from_mapping(data)
    return {e.field: e.message for e in info.value.errors}


def test_good_content_is_accepted():
    content = content_from_mapping(GOOD)
    assert content.name == "食品经营许可（新办）"
    assert content.materials[0].material == "id-card"
    assert content.effective_at.isoformat() == "2018-09-01"


def test_more_than_one_trip_needs_a_reason():
    errors = fields_of(with_(trips=2))
    assert "跑多次是例外" in errors["trips_reason"]
    assert content_from_mapping(with_(trips=2, trips_reason="需现场核查")).trips == 2


def test_promised_days_cannot_exceed_statutory_days():
    errors = fields_of(with_(promised_days=30))
    assert "不能超过法定办结时限" in errors["promised_days"]


def test_fully_online_means_no_trip():
    assert "online_depth" in fields_of(with_(online_depth=4, trips=1))
    assert content_from_mapping(with_(online_depth=4, trips=0)).online_depth == 4


def test_optional_material_needs_its_condition():
    materials = [{"material": "power-of-attorney", "required": False}]
    errors = fields_of(with_(materials=materials))
    assert "materials[0].condition" in errors


def test_duplicate_material_is_refused():
    materials = [{"material": "id-card"}, {"material": "id-card"}]
    assert "materials[1].material" in fields_of(with_(materials=materials))


def test_wrong_types_and_ranges_name_the_field():
    errors = fields_of(with_(trips="many", online_depth=7, effective_at="2018-13-01"))
    assert set(errors) >= {"trips", "online_depth", "effective_at"}


def test_unknown_fields_are_refused_so_typos_surface():
    assert fields_of(with_(tripz=1)) == {"tripz": "未知字段"}


def test_same_consult_and_complaint_phone_is_refused():
    assert "complaint_phone" in fields_of(with_(complaint_phone="0991-1234567"))


def test_legal_basis_and_steps_are_required():
    errors = fields_of(with_(legal_basis=[], steps=[]))
    assert set(errors) == {"legal_basis", "steps"}


def test_form_line_breaks_are_normalised():
    content = content_from_mapping(with_(conditions="- 有经营场所\r\n- 有管理制度\r\n"))
    assert content.conditions == "- 有经营场所\n- 有管理制度"
