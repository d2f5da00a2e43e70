"""The publication deadline: END (23:59:59 Asia/Shanghai) of the first working day strictly after the
approval's local date, on China's official calendar with 调休 make-up workdays.

Every expectation below was worked out by hand from the State Council's 2026 arrangement, checked
against chinese_calendar 1.11.0 in a REPL:
  元旦 01-01..01-03, make-up Sun 01-04;  春节 02-15..02-23, make-up Sat 02-14 and Sat 02-28;
  中秋 09-25..09-27;  国庆 10-01..10-07, make-up Sun 09-20 and Sat 10-10.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from guides.clock import CHINA
from registry.errors import DomainError, ValidationError
from registry.workdays import (
    DEFAULT_OVERRIDES,
    Calendar,
    CalendarGapError,
    deadline_report,
    parse_approval_time,
)

PACKAGE_ONLY = Calendar()  # chinese_calendar alone, no override file


def sh(text: str) -> datetime:
    """A wall-clock time in Shanghai."""
    return datetime.fromisoformat(text).replace(tzinfo=CHINA)


def end_of(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T23:59:59").replace(tzinfo=CHINA)


def deadline(approved_at: datetime, calendar: Calendar = PACKAGE_ONLY) -> datetime:
    return calendar.publish_deadline(approved_at)


# ---- ordinary weeks ------------------------------------------------------------------------


def test_friday_evening_approval_is_due_monday():
    # Fri 2026-06-05 18:30 -> Sat 06-06, Sun 06-07 weekend -> Mon 2026-06-08 23:59:59.
    assert deadline(sh("2026-06-05T18:30:00")) == end_of("2026-06-08")


def test_last_second_of_thursday_and_first_of_friday_differ():
    # Thu 2026-06-11 23:59:59 -> next day Fri 06-12 is a workday -> Fri 06-12.
    assert deadline(sh("2026-06-11T23:59:59")) == end_of("2026-06-12")
    # Fri 2026-06-12 00:00:00 -> Sat 13, Sun 14 weekend -> Mon 2026-06-15.
    assert deadline(sh("2026-06-12T00:00:00")) == end_of("2026-06-15")


def test_the_deadline_is_an_aware_shanghai_instant_at_23_59_59():
    due = deadline(sh("2026-06-08T09:00:00"))
    assert due.tzinfo == CHINA
    assert due.utcoffset() == timedelta(hours=8)
    assert due.isoformat() == "2026-06-09T23:59:59+08:00"
    # In UTC the end of Tue 06-09 in Shanghai is 15:59:59 the same day.
    assert due.astimezone(UTC) == datetime(2026, 6, 9, 15, 59, 59, tzinfo=UTC)


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        PACKAGE_ONLY.publish_deadline(datetime(2026, 6, 8, 9, 0))


# ---- National Day 2026 ---------------------------------------------------------------------


def test_approval_on_the_eve_of_national_day():
    # Wed 2026-09-30 17:00 -> 10-01..10-07 holiday -> Thu 2026-10-08.
    assert deadline(sh("2026-09-30T17:00:00")) == end_of("2026-10-08")


def test_approval_during_the_national_day_holiday():
    # Sat 2026-10-03 (inside the holiday) -> 10-04..10-07 holiday -> Thu 2026-10-08.
    assert deadline(sh("2026-10-03T10:00:00")) == end_of("2026-10-08")
    # Wed 2026-10-07, the holiday's last day -> Thu 2026-10-08.
    assert deadline(sh("2026-10-07T22:00:00")) == end_of("2026-10-08")


def test_deadline_lands_on_the_make_up_saturday():
    # Fri 2026-10-09 -> Sat 2026-10-10 is a make-up workday -> due that Saturday.
    assert PACKAGE_ONLY.is_workday(date(2026, 10, 10))
    assert deadline(sh("2026-10-09T10:00:00")) == end_of("2026-10-10")


def test_approval_on_the_make_up_saturday():
    # Sat 2026-10-10 (make-up workday) -> Sun 10-11 rest -> Mon 2026-10-12.
    assert deadline(sh("2026-10-10T15:00:00")) == end_of("2026-10-12")


def test_deadline_lands_on_the_make_up_sunday():
    # Sat 2026-09-19 (ordinary weekend) -> Sun 2026-09-20 is a make-up workday for National Day.
    assert deadline(sh("2026-09-19T11:00:00")) == end_of("2026-09-20")


# ---- Spring Festival 2026 ------------------------------------------------------------------


def test_approval_on_spring_festival_eve():
    # 除夕 Mon 2026-02-16 is inside the holiday 02-15..02-23 -> Tue 2026-02-24.
    assert deadline(sh("2026-02-16T20:00:00")) == end_of("2026-02-24")


def test_last_friday_before_spring_festival_is_due_on_the_make_up_saturday():
    # Fri 2026-02-13 -> Sat 02-14 is a make-up workday -> due Sat 2026-02-14.
    assert deadline(sh("2026-02-13T18:00:00")) == end_of("2026-02-14")
    # Sat 2026-02-14 (make-up) -> 02-15..02-23 holiday -> Tue 2026-02-24.
    assert deadline(sh("2026-02-14T09:00:00")) == end_of("2026-02-24")


# ---- time zones ----------------------------------------------------------------------------


def test_a_utc_approval_already_the_next_day_in_shanghai():
    # 2026-06-11T16:30Z is Fri 2026-06-12 00:30 in Shanghai (not Thu) -> Mon 2026-06-15.
    # Read naively as Thursday it would have been Fri 06-12.
    approved = parse_approval_time("2026-06-11T16:30:00Z")
    assert approved.astimezone(CHINA).date() == date(2026, 6, 12)
    assert deadline(approved) == end_of("2026-06-15")


def test_a_utc_approval_crossing_into_national_day():
    # 2026-09-30T16:00Z = Thu 2026-10-01 00:00 Shanghai (holiday) -> Thu 2026-10-08.
    # 2026-09-30T15:59:59Z = Wed 09-30 23:59:59 Shanghai -> also 10-08 (the holiday follows).
    assert deadline(parse_approval_time("2026-09-30T16:00:00Z")) == end_of("2026-10-08")
    assert deadline(parse_approval_time("2026-09-30T15:59:59Z")) == end_of("2026-10-08")


def test_parse_approval_time():
    assert parse_approval_time("2026-09-30T18:00:00") == sh("2026-09-30T18:00:00")
    assert parse_approval_time(" 2026-09-30 18:00 ") == sh("2026-09-30T18:00:00")
    assert parse_approval_time("2026-09-30") == sh("2026-09-30T00:00:00")
    # An offset is honoured: 09:00 in New York (-04:00) is 21:00 in Shanghai.
    ny = parse_approval_time("2026-06-11T09:00:00-04:00")
    assert ny.astimezone(CHINA) == sh("2026-06-11T21:00:00")


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01", "2026-09-30T25:00", "30/09/2026"])
def test_bad_approval_text_is_a_chinese_value_error(text):
    with pytest.raises(ValueError, match="无法识别的批准时间") as info:
        parse_approval_time(text)
    assert isinstance(info.value, DomainError)


# ---- coverage ------------------------------------------------------------------------------


def test_2027_is_not_guessed():
    assert PACKAGE_ONLY.is_covered(2026)
    assert not PACKAGE_ONLY.is_covered(2027)
    with pytest.raises(CalendarGapError, match="工作日历未覆盖 2027 年") as info:
        PACKAGE_ONLY.is_workday(date(2027, 3, 3))
    assert info.value.year == 2027
    with pytest.raises(CalendarGapError):
        deadline(sh("2027-03-03T10:00:00"))


def test_a_deadline_running_into_2027_is_not_guessed():
    # Wed 2026-12-30 -> Thu 2026-12-31 is known -> fine.
    assert deadline(sh("2026-12-30T10:00:00")) == end_of("2026-12-31")
    # Thu 2026-12-31 -> the next day is 2027-01-01, whose status nobody has entered.
    with pytest.raises(CalendarGapError) as info:
        deadline(sh("2026-12-31T10:00:00"))
    assert info.value.day == date(2027, 1, 1)


def test_coverage_warning():
    assert PACKAGE_ONLY.coverage_warning(date(2026, 10, 1)) is None
    warning = PACKAGE_ONLY.coverage_warning(date(2027, 1, 4))
    assert warning is not None and "2027 年" in warning
    assert PACKAGE_ONLY.coverage_warning(date(2003, 5, 1)) is not None  # before the package's data


# ---- the override file ---------------------------------------------------------------------

# Made-up test data, NOT the real 2027 arrangement: it only exercises the mechanism.
FAKE_2027 = """
[[day]]
date = "2027-01-01"
kind = "holiday"
note = "测试：元旦"

[[day]]
date = 2027-01-04          # a TOML date literal is accepted too
kind = "holiday"
note = "测试：虚构的放假日"

[[day]]
date = "2027-01-09"
kind = "workday"
note = "测试：虚构的调休上班日"

[[year]]
year = 2027
complete = true
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calendar_overrides.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_override_file_loads_and_invents_nothing():
    calendar = Calendar.load()
    assert calendar.source == DEFAULT_OVERRIDES
    # Whatever is entered later, 2026 still comes out as the package says.
    assert calendar.publish_deadline(sh("2026-09-30T17:00:00")) == end_of("2026-10-08")


def test_a_complete_override_year_makes_2027_computable(tmp_path):
    calendar = Calendar.load(write(tmp_path, FAKE_2027))
    assert calendar.is_covered(2027)
    assert calendar.coverage_warning(date(2027, 6, 1)) is None
    # Thu 2026-12-31 -> Fri 01-01 holiday, Sat 01-02 / Sun 01-03 weekend, Mon 01-04 holiday
    # -> Tue 2027-01-05.
    assert calendar.publish_deadline(sh("2026-12-31T10:00:00")) == end_of("2027-01-05")
    # Fri 2027-01-08 -> Sat 01-09 listed as a make-up workday -> due Sat 2027-01-09.
    assert calendar.publish_deadline(sh("2027-01-08T10:00:00")) == end_of("2027-01-09")
    # Unlisted days follow the week: Wed 2027-03-03 works, Sat 2027-03-06 does not.
    assert calendar.is_workday(date(2027, 3, 3))
    assert not calendar.is_workday(date(2027, 3, 6))
    # Fri 2027-03-05 -> Mon 2027-03-08.
    assert calendar.publish_deadline(sh("2027-03-05T10:00:00")) == end_of("2027-03-08")
    # 2028 is still a gap.
    with pytest.raises(CalendarGapError, match="2028"):
        calendar.is_workday(date(2028, 1, 3))


def test_listed_days_without_complete_do_not_cover_the_year(tmp_path):
    calendar = Calendar.load(write(tmp_path, FAKE_2027.replace("complete = true", "complete = false")))
    assert not calendar.is_covered(2027)
    with pytest.raises(CalendarGapError):
        calendar.is_workday(date(2027, 1, 1))


def test_an_override_corrects_a_year_the_package_knows(tmp_path):
    path = write(tmp_path, '[[day]]\ndate = "2026-06-12"\nkind = "holiday"\nnote = "测试：更正"\n')
    calendar = Calendar.load(path)
    # Thu 2026-06-11 -> Fri 06-12 now a holiday, weekend 13-14 -> Mon 2026-06-15 (package alone: 06-12).
    assert deadline(sh("2026-06-11T10:00:00")) == end_of("2026-06-12")
    assert calendar.publish_deadline(sh("2026-06-11T10:00:00")) == end_of("2026-06-15")
    # The rest of 2026 still comes from the package: Sat 2026-10-10 is a make-up workday.
    assert calendar.is_workday(date(2026, 10, 10))


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('[[day]]\ndate = "2027-01-01"\nkind = "holdiay"\nnote = "元旦"\n', "day[0]（2027-01-01）.kind"),
        ('[[day]]\ndate = "2027-02-30"\nkind = "holiday"\nnote = "x"\n', "day[0].date"),
        ('[[day]]\ndate = "2027-01-01"\nkind = "holiday"\n', "day[0]（2027-01-01）.note"),
        ('[[day]]\ndate = "2027-01-01"\nkind = "holiday"\nnote = "x"\nnotes = "y"\n', "day[0].notes"),
        (
            '[[day]]\ndate = "2027-01-01"\nkind = "holiday"\nnote = "x"\n'
            '[[day]]\ndate = "2027-01-01"\nkind = "workday"\nnote = "y"\n',
            "day[1]（2027-01-01）.date",
        ),
        ("[[year]]\nyear = 2027\n", "year[0].complete"),
        ('[[year]]\nyear = "2027"\ncomplete = true\n', "year[0].year"),
        ("[[year]]\nyear = 2027\ncomplete = true\n[[year]]\nyear = 2027\ncomplete = true\n", "year[1].year"),
        ('[[days]]\ndate = "2027-01-01"\n', "days"),
        ("[[day]\n", "-"),
    ],
)
def test_a_bad_override_file_is_rejected_naming_the_entry(tmp_path, text, field):
    path = write(tmp_path, text)
    with pytest.raises(ValidationError) as info:
        Calendar.load(path)
    assert field in {e.field for e in info.value.errors}
    assert str(path) in str(info.value)


def test_a_missing_override_file_is_a_clear_error(tmp_path):
    with pytest.raises(ValidationError, match="找不到工作日历覆盖文件"):
        Calendar.load(tmp_path / "nope.toml")


# ---- the CLI's lines -----------------------------------------------------------------------


def test_deadline_report_first_line_is_the_deadline_alone():
    lines = deadline_report("2026-10-08T09:00:00", PACKAGE_ONLY)
    # Thu 2026-10-08 -> Fri 2026-10-09.
    assert lines[0] == "2026-10-09T23:59:59+08:00"


def test_deadline_report_explains_the_skipped_holiday():
    lines = deadline_report("2026-09-30T17:00", PACKAGE_ONLY)
    assert lines[0] == "2026-10-08T23:59:59+08:00"
    text = "\n".join(lines[1:])
    assert "2026-09-30 17:00:00" in text
    assert "跳过的非工作日（7 天）" in text
    assert "2026-10-01（星期四）法定节假日（国庆节）" in text
    assert "2026-10-07（星期三）法定节假日（国庆节）" in text


def test_deadline_report_names_the_make_up_day_and_the_weekend():
    lines = deadline_report("2026-10-09T10:00:00+08:00", PACKAGE_ONLY)
    assert lines[0] == "2026-10-10T23:59:59+08:00"
    assert any("调休上班日（国庆节）" in line for line in lines[1:])
    lines = deadline_report("2026-06-11T16:30:00Z", PACKAGE_ONLY)
    assert lines[0] == "2026-06-15T23:59:59+08:00"
    assert any("北京时间 2026-06-12 00:30:00" in line for line in lines)
    assert any("2026-06-13（星期六）周末" in line for line in lines)


def test_deadline_report_refuses_bad_text_and_gaps():
    with pytest.raises(ValueError, match="无法识别的批准时间"):
        deadline_report("next tuesday", PACKAGE_ONLY)
    with pytest.raises(CalendarGapError):
        deadline_report("2027-05-06T10:00:00", PACKAGE_ONLY)


def test_a_datetime_is_not_a_date_here():
    # A datetime's day depends on its zone; callers convert to Shanghai first.
    with pytest.raises(TypeError):
        PACKAGE_ONLY.is_workday(datetime(2026, 6, 8, 9, 0, tzinfo=CHINA))
