"""Freshness: the review inbox and "reviewed, no change" (a change-log record, same fingerprint)."""

from __future__ import annotations

from datetime import date

from registry.changelog import verify_log
from registry.tables import ChangeRecord, ServiceItem
from registry.vocab import local_today, system_now
from tests.integration.test_staff_pages import CODE, csrf, login, people, soup  # noqa: F401

OTHER = "650102-TSQ-001"


async def test_overdue_item_is_in_the_inbox_and_reviewed_without_changing_the_guide(small_client, people):  # noqa: F811
    await ServiceItem.update({ServiceItem.review_by: date(2020, 1, 1)}).where(
        ServiceItem.code.is_in([CODE, OTHER])
    )
    before = await small_client.get(f"/g/{CODE}")
    fingerprint = before.headers["x-content-fingerprint"]
    records = await ChangeRecord.count()

    await login(small_client, "li")
    inbox = await small_client.get("/staff/inbox")
    assert inbox.status_code == 200
    rows = soup(inbox).select("tr.inbox-overdue")
    assert [r.select_one("small").get_text() for r in rows] == [CODE]  # li edits SGSJ only, not TSQ

    done = await small_client.post(
        f"/staff/items/{CODE}/reviewed", data={"_csrf_token": csrf(inbox)}, follow_redirects=False
    )
    assert done.status_code in (302, 303)
    assert await ChangeRecord.count() == records + 1
    last = await ChangeRecord.select().order_by(ChangeRecord.seq, ascending=False).first()
    assert (last["item_code"], last["kind"], last["fingerprint"]) == (CODE, "review", fingerprint)
    assert last["version_before"] == last["version_after"]
    assert (await verify_log()).ok
    item = await ServiceItem.select().where(ServiceItem.code == CODE).first()
    today = local_today(system_now())
    assert item["reviewed_on"] == today and item["review_by"] > today

    after = await small_client.get(f"/g/{CODE}")
    assert after.headers["x-content-fingerprint"] == fingerprint
    assert f"最近审核：{today.isoformat()}" in after.text
    history = await small_client.get(f"/g/{CODE}/history")
    assert "复核" in history.text
    again = await small_client.get("/staff/inbox")
    assert soup(again).select("tr.inbox-overdue") == []


async def test_an_editor_cannot_review_another_departments_item(small_client, people):  # noqa: F811
    await login(small_client, "li")
    page = await small_client.get("/staff/inbox")
    records = await ChangeRecord.count()
    refused = await small_client.post(f"/staff/items/{OTHER}/reviewed", data={"_csrf_token": csrf(page)})
    assert refused.status_code == 403
    assert await ChangeRecord.count() == records
