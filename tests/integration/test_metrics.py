"""Metrics over the small fixture, whose answers are known by hand:

650100-SGSJ-001  市工商局  0 trips  in force from 2018-06-01
650100-SGSJ-002  市工商局  1 trip   in force from 2018-11-15
650102-TSQ-001   天山区    2 trips  in force from 2019-03-01
targets: city 80 % by 2018-10-31; each district 70 % by 2018-12-31
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from bs4 import BeautifulSoup

from guides.clock import CHINA
from guides.snapshot import replace
from registry import metrics
from registry.editions import commands, store
from registry.users import actor, create_user
from registry.workdays import Calendar

CST = CHINA


def level(report, name):
    return metrics.level_result(report, name)


@pytest.mark.parametrize(
    ("as_of", "city", "district", "city_wide"),
    [
        (date(2018, 5, 31), (0, None, None), (0, None, None), (0, 0)),
        (date(2018, 6, 1), (1, 1.0, "达标"), (0, None, None), (1, 1)),
        (date(2018, 11, 14), (1, 1.0, "达标"), (0, None, None), (1, 1)),
        (date(2018, 11, 15), (2, 1.0, "达标"), (0, None, None), (2, 2)),
        (date(2019, 3, 1), (2, 1.0, "达标"), (1, 0.0, "未达标"), (3, 2)),
    ],
)
async def test_as_of_uses_what_was_in_force_then(small_db, as_of, city, district, city_wide):
    report = await metrics.report(as_of)
    for name, expected in (("city", city), ("district", district)):
        lv = level(report, name)
        assert (lv.counts.items, lv.counts.rate, lv.status) == expected, name
    assert (report.city_wide.items, report.city_wide.at_most_once) == city_wide


async def test_a_published_change_counts_from_its_effective_date(small_db):
    now = datetime(2019, 5, 20, 10, 0, tzinfo=CST)
    editor = await actor(
        await create_user("wang", role="editor", password="x" * 12, departments=["TSQ"], now=now)
    )
    reviewer = await actor(await create_user("zhao", role="reviewer", password="x" * 12, now=now))
    item = await store.item_row("650102-TSQ-001")
    content = replace(
        await store.edition_content(item["current_edition"]),
        trips=1,
        trips_reason="",
        effective_at=date(2019, 6, 1),
    )
    await commands.save_draft(editor, "650102-TSQ-001", content, base_lock_version=None, now=now)
    await commands.submit(editor, "650102-TSQ-001", change_note="一次办结", effective_at=None, now=now)
    await commands.approve(reviewer, "650102-TSQ-001", effective_at=None, now=now, calendar=Calendar.load())

    before = await metrics.report(date(2019, 5, 31))
    after = await metrics.report(date(2019, 6, 1))
    assert level(before, "district").counts.rate == 0.0
    assert level(after, "district").counts.rate == 1.0
    assert level(after, "district").status == "达标"
    # Asking about a date before the approval gives the answer that was true then.
    assert level(await metrics.report(date(2019, 5, 19)), "district").counts.rate == 0.0

    timely = {t.month: t for t in await metrics.timeliness(date(2019, 6, 30))}
    assert (timely["2019-05"].on_time, timely["2019-05"].late) == (1, 0)


async def test_api_metrics_json_shape_and_filters(small_client):
    data = (await small_client.get("/api/metrics?as_of=2019-03-01")).json()
    assert data["as_of"] == "2019-03-01"
    city = next(lv for lv in data["levels"] if lv["level"] == "city")
    assert city == {
        "level": "city",
        "items": 2,
        "trips_0": 1,
        "trips_1": 1,
        "trips_2_plus": 0,
        "rate": 1.0,
        "target": 0.8,
        "deadline": "2018-10-31",
        "status": "达标",
    }
    tsq = next(u for u in data["units"] if u["department"] == "TSQ")
    assert (tsq["items"], tsq["trips_2_plus"], tsq["rate"], tsq["target"], tsq["status"]) == (
        1,
        1,
        0.0,
        0.7,
        "未达标",
    )
    only_city = (await small_client.get("/api/metrics?as_of=2019-03-01&level=city")).json()
    assert {u["level"] for u in only_city["units"]} == {"city"}
    one = (await small_client.get("/api/metrics?as_of=2019-03-01&department=TSQ")).json()
    assert [u["department"] for u in one["units"]] == ["TSQ"]
    for bad in ("as_of=2019-02-30", "level=province", "department=NOPE"):
        response = await small_client.get(f"/api/metrics?{bad}")
        assert response.status_code == 400, bad
        assert response.json()["error"]["fields"]


async def test_dashboard_drill_down_and_what_if(small_client):
    page = BeautifulSoup((await small_client.get("/metrics?as_of=2019-03-01")).text, "html.parser")
    assert page.select_one("figure.chart svg") is not None  # charts without JavaScript
    rows = {
        r.select_one("td a").get_text(): [td.get_text() for td in r.select("td")]
        for r in page.select("tbody tr")
    }
    assert rows["天山区"][1:] == ["1", "0", "0", "1", "0.0%", "70%", "未达标"]
    unit = BeautifulSoup((await small_client.get("/metrics/unit/TSQ?as_of=2019-03-01")).text, "html.parser")
    assert "首次面谈和领取材料" in unit.select_one("tr.miss").get_text()  # the 跑多次原因
    what_if = await small_client.get("/metrics/unit/TSQ?as_of=2019-03-01&t_650102-TSQ-001=1")
    assert "100.0%" in BeautifulSoup(what_if.text, "html.parser").select_one(".announce").get_text()
    again = (await small_client.get("/api/metrics?as_of=2019-03-01&department=TSQ")).json()
    assert again["units"][0]["rate"] == 0.0  # nothing was saved
    assert (await small_client.get("/metrics?as_of=yesterday")).status_code == 400
    assert (await small_client.get("/metrics/unit/NOPE")).status_code == 404


async def test_an_admin_changes_a_target_and_the_metric_follows(small_client, small_db):
    from tests.integration.test_staff_pages import csrf, login

    now = datetime(2019, 3, 1, tzinfo=CST)
    await create_user("root", role="admin", password="correct horse battery", now=now)
    await create_user("li", role="editor", password="correct horse battery", departments=["SGSJ"], now=now)
    await login(small_client, "li")
    assert (await small_client.get("/staff/targets")).status_code == 403
    await small_client.post("/logout", data={"_csrf_token": csrf(await small_client.get("/staff/"))})

    await login(small_client, "root")
    page = await small_client.get("/staff/targets")
    token = csrf(page)
    bad = await small_client.post(
        "/staff/targets", data={"_csrf_token": token, "level": "district", "percent": "170", "deadline": "x"}
    )
    assert bad.status_code == 400
    district_id = next(
        r.select_one("input[name=id]")["value"]
        for r in BeautifulSoup(page.text, "html.parser").select("tbody tr")
        if r.select_one("option[selected]")["value"] == "district"
    )  # each row's fields belong to the row's own form (form= attribute)
    await small_client.post(
        "/staff/targets",
        data={
            "_csrf_token": token,
            "id": district_id,
            "level": "district",
            "percent": "1",
            "deadline": "2018-12-31",
            "note": "试行",
        },
    )
    data = (await small_client.get("/api/metrics?as_of=2019-03-01&level=district")).json()
    assert data["levels"][0]["target"] == 0.01
    assert data["levels"][0]["status"] == "未达标"  # 0 % is still below 1 %


async def test_metric_tables_download_as_xlsx_and_csv(small_client):
    import csv
    import io

    from openpyxl import load_workbook

    response = await small_client.get("/metrics/export.xlsx?as_of=2019-03-01")
    assert response.status_code == 200
    assert "onetrip-metrics-2019-03-01.xlsx" in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = {r[1]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["TSQ"][3:] == (1, 0, 0, 1, 0, 0.7, "2018-12-31", "未达标")
    assert rows["city"][3:8] == (2, 1, 1, 0, 1)
    text = (await small_client.get("/metrics/export.csv?as_of=2019-03-01")).content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][:3] == ["层级", "单位编码", "单位"]
    assert next(r for r in table if r[1] == "ALL")[:7] == ["全市", "ALL", "全市", "3", "1", "1", "1"]
    assert (await small_client.get("/metrics/export.csv?as_of=2019-02-30")).status_code == 400


async def test_a_long_unit_list_is_paged_and_keeps_what_if_answers(small_client, monkeypatch):
    """A district unit of a large registry lists thousands of items: pages of UNIT_PAGE_SIZE, the
    items that need more than one trip first; a what-if answer given on one page is kept on the
    others (hidden fields), and a bad page number is a 400."""
    monkeypatch.setattr("registry.web.metrics.UNIT_PAGE_SIZE", 1)
    first = BeautifulSoup((await small_client.get("/metrics/unit/SGSJ")).text, "html.parser")
    second = BeautifulSoup((await small_client.get("/metrics/unit/SGSJ?page=2")).text, "html.parser")
    codes = [p.select_one("tbody tr small").get_text() for p in (first, second)]
    assert sorted(codes) == ["650100-SGSJ-001", "650100-SGSJ-002"]
    assert first.select_one("nav.pager a[rel=next]") is not None
    assert first.select_one("nav.pager a[rel=prev]") is None
    assert second.select_one("nav.pager a[rel=prev]") is not None
    assert len(first.select("tbody tr")) == len(second.select("tbody tr")) == 1
    asked = await small_client.get(f"/metrics/unit/SGSJ?page=2&t_{codes[0]}=3")
    page = BeautifulSoup(asked.text, "html.parser")
    carried = page.select_one(f"input[type=hidden][name=t_{codes[0]}]")
    assert carried is not None and carried["value"] == "3"
    for bad in ("0", "x", "²", "99999999999"):
        assert (await small_client.get(f"/metrics/unit/SGSJ?page={bad}")).status_code == 400


async def test_the_trend_counts_a_past_month_again_only_when_its_history_changes(small_db, monkeypatch):
    """registry.metrics.trend with `kept`: a month end is counted once, and again only when an
    edition published before its end is added — a publication counts from its own month on —
    and a day not over yet is always counted."""
    counted: list[date] = []
    real = metrics.in_force_counts

    async def counting(day):
        counted.append(day)
        return await real(day)

    monkeypatch.setattr(metrics, "in_force_counts", counting)
    as_of, kept, clock = date(2019, 8, 15), {}, datetime(2019, 8, 15, 12, 0, tzinfo=CST)
    first = await metrics.trend(as_of, kept=kept, now=clock)
    assert len(counted) == 24
    assert first == await metrics.trend(as_of)  # the same as counting every month afresh
    counted.clear()
    assert await metrics.trend(as_of, kept=kept, now=clock) == first
    assert counted == [as_of]  # today is not over: counted every time

    now = datetime(2019, 6, 10, 10, 0, tzinfo=CST)
    editor = await actor(
        await create_user("wang", role="editor", password="x" * 12, departments=["TSQ"], now=now)
    )
    reviewer = await actor(await create_user("zhao", role="reviewer", password="x" * 12, now=now))
    item = await store.item_row("650102-TSQ-001")
    content = replace(await store.edition_content(item["current_edition"]), trips=1, trips_reason="")
    await commands.save_draft(editor, "650102-TSQ-001", content, base_lock_version=None, now=now)
    await commands.submit(editor, "650102-TSQ-001", change_note="一次办结", effective_at=None, now=now)
    await commands.approve(reviewer, "650102-TSQ-001", effective_at=None, now=now, calendar=Calendar.load())

    counted.clear()
    # Loaded as history, before the days counted so far ended: they are counted again from June.
    after = await metrics.trend(as_of, kept=kept, now=clock)
    assert counted == [date(2019, 6, 30), date(2019, 7, 31), date(2019, 8, 15)]
    assert after == await metrics.trend(as_of)
    assert after[:-3] == first[:-3] and after[-1] != first[-1]
