"""The metric's arithmetic and its rules at the boundaries (no database)."""

from __future__ import annotations

from datetime import date

from registry.metrics import MET, MISSED, PENDING, Goal, InForce, Unit, compute, goal_for, month_ends, status

CITY = Goal(80, date(2018, 10, 31))
DISTRICT = Goal(70, date(2018, 12, 31))
UNITS = [
    Unit("A", "市甲局", "city", ("A",)),
    Unit("B", "市乙局", "city", ("B",)),
    Unit("D1", "甲区（含开发区）", "district", ("D1", "Z1")),
    Unit("D2", "乙区", "district", ("D2",)),
]


def item(code, department, trips):
    return InForce(code, code, department, trips, "原因" if trips > 1 else "")


def test_rates_by_unit_level_and_city_with_a_co_administered_zone():
    items = [
        item("a1", "A", 0), item("a2", "A", 1), item("a3", "A", 1), item("a4", "A", 2),  # 3/4
        item("b1", "B", 1),  # 1/1
        item("d1", "D1", 1), item("z1", "Z1", 2), item("z2", "Z1", 2),  # 1/3 with its zone
        item("e1", "D2", 0), item("e2", "D2", 1), item("e3", "D2", 1),  # 3/3
    ]  # fmt: skip
    report = compute(date(2019, 1, 1), items, UNITS, {"city": [CITY], "district": [DISTRICT]})
    a, b, d1, d2 = report.units
    assert b.counts.rate == 1.0
    assert (a.counts.items, a.counts.trips_0, a.counts.trips_1, a.counts.trips_2_plus) == (4, 1, 2, 1)
    assert a.counts.rate == 0.75
    assert a.status == MISSED  # 75 % < 80 %, deadline passed
    assert d1.counts.items == 3  # the zone counts with its district
    assert d1.counts.rate == 1 / 3
    assert d1.status == MISSED
    assert d2.status == MET
    city, district = report.levels
    assert (city.counts.items, city.counts.at_most_once) == (5, 4)  # 80 % exactly: met
    assert city.status == MET
    assert district.status == MISSED  # one unit missed
    assert (report.city_wide.items, report.city_wide.at_most_once) == (11, 8)


def test_what_if_changes_nothing_but_the_answer():
    items = [item("a1", "A", 2), item("a2", "A", 1)]
    goals = {"city": [CITY]}
    base = compute(date(2019, 1, 1), items, UNITS[:1], goals)
    what_if = compute(date(2019, 1, 1), items, UNITS[:1], goals, overrides={"a1": 1})
    assert base.units[0].counts.rate == 0.5
    assert what_if.units[0].counts.rate == 1.0
    assert items[0].trips == 2


def test_status_at_the_boundaries():
    assert status(0.8, CITY, date(2019, 1, 1)) == MET
    assert status(0.79, CITY, date(2018, 10, 31)) == PENDING  # the deadline day itself: still due
    assert status(0.79, CITY, date(2018, 11, 1)) == MISSED
    assert status(None, CITY, date(2019, 1, 1)) is None
    assert status(0.5, None, date(2019, 1, 1)) is None


def test_the_binding_goal_is_the_latest_due_else_the_next():
    later = Goal(90, date(2020, 12, 31))
    assert goal_for([later, CITY], date(2018, 1, 1)) == CITY
    assert goal_for([later, CITY], date(2019, 6, 1)) == CITY
    assert goal_for([later, CITY], date(2021, 1, 1)) == later
    assert goal_for([], date(2021, 1, 1)) is None


def test_month_ends_cover_24_months_up_to_the_date():
    ends = month_ends(date(2019, 3, 15), 24)
    assert len(ends) == 24
    assert ends[0] == date(2017, 4, 30)
    assert ends[-2] == date(2019, 2, 28)
    assert ends[-1] == date(2019, 3, 15)
