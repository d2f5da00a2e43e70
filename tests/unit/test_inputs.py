"""The one input reader: every bad value is a field error in Chinese, never an exception."""

from __future__ import annotations

from datetime import date

import pytest

from registry.editions.schema import CONTENT_FIELDS, EditionContent, content_from_mapping
from registry.errors import ValidationError
from registry.inputs import Invalid, fields_of, parse_date, parse_int, read

MINIMAL = {
    "name": "测试事项",
    "effective_at": "2026-12-01",
    "statutory_days": "5",
    "promised_days": "1",
    "trips": "1",
}


def errors_of(data) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        content_from_mapping(data, complete=False)
    return {e.field: e.message for e in caught.value.errors}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("²", "应为整数"),
        ("--1", "应为整数"),
        ("1.5", "应为整数"),
        ("５", "应为整数"),  # full-width digit
        ("9" * 5000, "应在 0 到 365 之间"),
        ("-1", "应在 0 到 365 之间"),
        ("\x00", "应为整数"),
        (True, "应为整数"),
    ],
)
def test_bad_numbers_are_field_errors(raw, message):
    assert errors_of({**MINIMAL, "statutory_days": raw}) == {"statutory_days": message}


def test_numbers_dates_and_booleans_that_are_fine():
    assert parse_int(" 42 ", lo=0, hi=100) == 42
    assert parse_int(3.0) == 3
    assert parse_date("2026-12-01") == date(2026, 12, 1)
    for bad in ("2026-13-01", "2026/12/01", "２０２６-１２-０１", "20261201"):
        with pytest.raises(Invalid):
            parse_date(bad)


def test_nul_bytes_and_over_long_text_are_refused_by_field():
    errors = errors_of({**MINIMAL, "name": "a\x00b", "summary": "长" * 1001})
    assert errors == {"name": "不能包含空字符", "summary": "过长（最多 1000 字）"}


def test_every_problem_is_reported_at_once_with_its_path():
    errors = errors_of(
        {
            **MINIMAL,
            "trips": "x",
            "audience": ["市民"],
            "materials": [{"material": "id-card", "copies": "0", "form": "扫描件"}, "x"],
            "steps": [{"actor": "窗口"}],
            "colour": "red",
        }
    )
    assert errors == {
        "trips": "应为整数",
        "audience": "“市民”不是可选值（自然人、法人、其他组织）",
        "materials[0].form": "应为 原件、复印件、原件和复印件 之一",
        "materials[0].copies": "应在 1 到 99 之间",
        "materials[1]": "应为对象",
        "steps[0].name": "必填",
        "colour": "未知字段",
    }


def test_lists_have_maximum_lengths():
    errors = errors_of({**MINIMAL, "faq": [{"question": "问", "answer": "答"}] * 51})
    assert errors == {"faq": "最多 50 项"}


def test_text_is_normalised_once_for_every_channel():
    content = content_from_mapping({**MINIMAL, "conditions": "  一\r\n二\r三  "}, complete=False)
    assert content.conditions == "一\n二\n三"


def test_the_reader_reads_what_the_schema_declares():
    names = [f.name for f in CONTENT_FIELDS]
    assert names == list(EditionContent.__struct_fields__)
    read_back = read(
        EditionContent,
        {**MINIMAL, "materials": [{"material": "id-card", "required": "false", "condition": "委托办理的"}]},
    )
    assert read_back.materials[0].required is False
    assert [f.title for f in fields_of(EditionContent)][:2] == ["事项名称", "事项概述"]


def test_not_a_mapping():
    with pytest.raises(ValidationError):
        read(EditionContent, ["not", "a", "mapping"])
