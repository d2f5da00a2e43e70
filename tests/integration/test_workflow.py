"""Change it, approve it, publish it: the edition lifecycle end to end, with an injected clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from guides.clock import CHINA
from guides.snapshot import replace
from registry.access import PermissionDenied
from registry.changelog import verify_log
from registry.editions import commands, publication, store
from registry.editions.commands import ConflictError
from registry.editions.workflow import TransitionError
from registry.errors import ValidationError
from registry.queries import published_guide
from registry.tables import ChangeRecord, Edition, ServiceItem
from registry.users import actor, create_user
from registry.workdays import Calendar

CST = CHINA
# Wednesday 2026-11-25, 10:00 in Urumqi's official (Beijing) time.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=CST)
CODE = "650100-SGSJ-001"  # tests/fixtures/small_seeds: promised 3 days, 0 trips
CALENDAR = Calendar.load()


@pytest.fixture
async def staff(small_db):
    async def make(name, role, departments=None):
        uid = await create_user(
            name, role=role, password="correct horse battery", departments=departments, now=NOW
        )
        return await actor(uid)

    return {
        "editor": await make("li.editor", "editor", ["SGSJ"]),
        "district_editor": await make("wang.tsq", "editor", ["TSQ"]),
        "reviewer": await make("zhao.reviewer", "reviewer"),
        "admin": await make("admin", "admin"),
    }


async def faster(days=2):
    item = await ServiceItem.select().where(ServiceItem.code == CODE).first()
    content = await store.edition_content(item["current_edition"])
    return replace(content, promised_days=days, effective_at=NOW.date())


async def test_draft_review_approve_publishes_at_once(staff):
    editor, reviewer = staff["editor"], staff["reviewer"]
    draft = await commands.save_draft(editor, CODE, await faster(), base_lock_version=None, now=NOW)
    assert draft["status"] == "draft"
    assert draft["version"] == 2
    assert (await published_guide(CODE)).guide.promised_days == 3  # drafts are not public

    await commands.submit(editor, CODE, change_note="压缩承诺时限", effective_at=None, now=NOW)
    approved = await commands.approve(reviewer, CODE, effective_at=None, now=NOW, calendar=CALENDAR)

    assert approved["status"] == "published"
    found = await published_guide(CODE)
    assert found.guide.promised_days == 2
    assert found.guide.version == 2
    # Thursday 2026-11-26 is the next working day after a Wednesday approval.
    assert approved["publish_deadline"].astimezone(CST) == datetime(2026, 11, 26, 23, 59, 59, tzinfo=CST)
    record = await ChangeRecord.select().order_by(ChangeRecord.seq, ascending=False).first()
    assert record["item_code"] == CODE
    assert record["summary"] == "承诺办结时限：3 个工作日 → 2 个工作日"
    assert (record["editor"], record["reviewer"]) == ("li.editor", "zhao.reviewer")
    assert record["change_note"] == "压缩承诺时限"
    assert (await verify_log()).ok


async def test_send_back_returns_the_draft_with_a_reason(staff):
    editor, reviewer = staff["editor"], staff["reviewer"]
    await commands.save_draft(editor, CODE, await faster(), base_lock_version=None, now=NOW)
    await commands.submit(editor, CODE, change_note="调整", effective_at=None, now=NOW)
    with pytest.raises(ValidationError):
        await commands.send_back(reviewer, CODE, reason=" ", now=NOW)
    back = await commands.send_back(reviewer, CODE, reason="请补充设定依据", now=NOW)
    assert back["status"] == "draft"
    assert back["send_back_reason"] == "请补充设定依据"
    # The editor can change it again, then resubmit.
    again = await commands.save_draft(
        editor, CODE, await faster(1), base_lock_version=back["lock_version"], now=NOW
    )
    assert again["promised_days"] == 1


async def test_permissions_cross_department_and_four_eyes(staff):
    with pytest.raises(PermissionDenied):
        await commands.save_draft(
            staff["district_editor"], CODE, await faster(), base_lock_version=None, now=NOW
        )
    admin = staff["admin"]
    await commands.save_draft(admin, CODE, await faster(), base_lock_version=None, now=NOW)
    await commands.submit(admin, CODE, change_note="管理员修改", effective_at=None, now=NOW)
    with pytest.raises(PermissionDenied, match="双人复核"):
        await commands.approve(admin, CODE, effective_at=None, now=NOW, calendar=CALENDAR)
    with pytest.raises(PermissionDenied):
        await commands.approve(staff["editor"], CODE, effective_at=None, now=NOW, calendar=CALENDAR)
    await commands.approve(staff["reviewer"], CODE, effective_at=None, now=NOW, calendar=CALENDAR)


async def test_two_editors_saving_the_same_draft_conflict_and_nothing_is_lost(staff):
    editor, admin = staff["editor"], staff["admin"]
    first = await commands.save_draft(editor, CODE, await faster(2), base_lock_version=None, now=NOW)
    base = first["lock_version"]
    await commands.save_draft(admin, CODE, await faster(1), base_lock_version=base, now=NOW)
    with pytest.raises(ConflictError) as info:
        await commands.save_draft(editor, CODE, await faster(4), base_lock_version=base, now=NOW)
    assert info.value.current["promised_days"] == 1  # the other editor's work is kept
    row = await Edition.select().where(Edition.id == first["id"]).first()
    assert row["promised_days"] == 1
    assert row["lock_version"] == base + 1


async def test_future_effective_date_announces_now_and_switches_by_itself(staff):
    editor, reviewer = staff["editor"], staff["reviewer"]
    await commands.save_draft(editor, CODE, await faster(), base_lock_version=None, now=NOW)
    await commands.submit(editor, CODE, change_note="自12月1日起压缩时限", effective_at=None, now=NOW)
    approved = await commands.approve(
        reviewer, CODE, effective_at=date(2026, 12, 1), now=NOW, calendar=CALENDAR
    )
    assert approved["status"] == "scheduled"
    assert (await published_guide(CODE)).guide.promised_days == 3  # still the current guide

    report = await publication.publish_due(now=datetime(2026, 11, 30, 23, 59, tzinfo=CST))
    assert report.activated == []
    report = await publication.publish_due(now=datetime(2026, 12, 1, 0, 0, 30, tzinfo=CST))
    assert report.activated == [CODE]
    assert (await published_guide(CODE)).guide.promised_days == 2
    statuses = (
        await Edition.select(Edition.version, Edition.status)
        .where(Edition.item.code == CODE)
        .order_by(Edition.version)
    )
    assert statuses == [{"version": 1, "status": "superseded"}, {"version": 2, "status": "published"}]


async def test_held_publication_waits_for_the_reviewer(staff):
    editor, reviewer = staff["editor"], staff["reviewer"]
    await commands.save_draft(editor, CODE, await faster(), base_lock_version=None, now=NOW)
    await commands.submit(editor, CODE, change_note="调整", effective_at=None, now=NOW)
    held = await commands.approve(reviewer, CODE, effective_at=None, now=NOW, calendar=CALENDAR, hold=True)
    assert held["status"] == "approved"
    assert held["held"] is True
    assert (await publication.publish_due(now=NOW)).published == []
    assert (await published_guide(CODE)).guide.promised_days == 3
    await commands.publish_held(reviewer, CODE, now=NOW + timedelta(hours=3))
    assert (await published_guide(CODE)).guide.promised_days == 2


async def test_transitions_not_allowed_change_nothing(staff):
    editor, reviewer = staff["editor"], staff["reviewer"]
    with pytest.raises(TransitionError):
        await commands.submit(editor, CODE, change_note="x", effective_at=None, now=NOW)
    with pytest.raises(TransitionError):
        await commands.approve(reviewer, CODE, effective_at=None, now=NOW, calendar=CALENDAR)
    await commands.save_draft(editor, CODE, await faster(), base_lock_version=None, now=NOW)
    await commands.submit(editor, CODE, change_note="调整", effective_at=None, now=NOW)
    with pytest.raises(TransitionError):
        await commands.save_draft(editor, CODE, await faster(1), base_lock_version=1, now=NOW)
    with pytest.raises(ValidationError):
        await commands.save_draft(
            editor, CODE, replace(await faster(), trips=3), base_lock_version=1, now=NOW
        )


async def test_withdrawal_goes_through_review_and_leaves_a_410(staff, small_client):
    editor, reviewer = staff["editor"], staff["reviewer"]
    await commands.request_withdrawal(editor, CODE, now=NOW)
    await commands.submit(editor, CODE, change_note="职能调整，事项取消", effective_at=None, now=NOW)
    await commands.approve(reviewer, CODE, effective_at=None, now=NOW, calendar=CALENDAR)
    assert (await small_client.get(f"/g/{CODE}")).status_code == 410
    record = await ChangeRecord.select().order_by(ChangeRecord.seq, ascending=False).first()
    assert record["kind"] == "withdrawal"


async def test_tampering_with_the_log_is_detected(staff, small_db):
    assert (await verify_log()).ok  # the seed load already logged 3 new items
    await ChangeRecord.raw("UPDATE change_record SET summary = 'forged' WHERE seq = 2")
    result = await verify_log()
    assert not result.ok
    assert result.first_bad == 2


async def test_a_removed_record_is_detected(staff):
    await ChangeRecord.raw("DELETE FROM change_record WHERE seq = 3")
    result = await verify_log()
    assert not result.ok
    assert result.first_bad == 3


async def test_history_page_and_atom_feed_show_the_change(staff, small_client):
    import xml.etree.ElementTree as ET

    from bs4 import BeautifulSoup

    editor, reviewer = staff["editor"], staff["reviewer"]
    await commands.save_draft(editor, CODE, await faster(), base_lock_version=None, now=NOW)
    await commands.submit(editor, CODE, change_note="压缩承诺时限", effective_at=None, now=NOW)
    await commands.approve(reviewer, CODE, effective_at=None, now=NOW, calendar=CALENDAR)

    page = BeautifulSoup((await small_client.get(f"/g/{CODE}/history")).text, "html.parser")
    newest = page.select("li.change")[0]
    assert "承诺办结时限：3 个工作日 → 2 个工作日" in newest.get_text()
    assert "压缩承诺时限" in newest.get_text()
    assert "按时公开" in newest.get_text()

    response = await small_client.get("/changes.atom")
    assert response.headers["content-type"].startswith("application/atom+xml")
    atom = "{http://www.w3.org/2005/Atom}"
    root = ET.fromstring(response.content)
    entries = root.findall(f"{atom}entry")
    assert len(entries) == 4  # 3 seeded items + this change
    title = entries[0].find(f"{atom}title").text
    assert title == "有限责任公司设立登记：承诺办结时限：3 个工作日 → 2 个工作日"


async def test_guide_announces_a_scheduled_change(staff, small_client):
    from bs4 import BeautifulSoup

    editor, reviewer = staff["editor"], staff["reviewer"]
    await commands.save_draft(editor, CODE, await faster(), base_lock_version=None, now=NOW)
    await commands.submit(editor, CODE, change_note="自12月起", effective_at=None, now=NOW)
    await commands.approve(reviewer, CODE, effective_at=date(2099, 12, 1), now=NOW, calendar=CALENDAR)
    page = BeautifulSoup((await small_client.get(f"/g/{CODE}")).text, "html.parser")
    note = page.select_one(".announce").get_text()
    assert "自 2099-12-01 起" in note
    assert "承诺办结时限：3 个工作日 → 2 个工作日" in note
    assert "3 个工作日" in page.select_one(".facts").get_text()  # still today's guide


async def test_the_server_switches_scheduled_guides_by_itself(staff, small_db):
    """The app's own loop runs publish_due: no cron, no one acting."""
    import asyncio

    from registry.app import publish_loop

    editor, reviewer = staff["editor"], staff["reviewer"]
    await commands.save_draft(editor, CODE, await faster(), base_lock_version=None, now=NOW)
    await commands.submit(editor, CODE, change_note="立即生效", effective_at=None, now=NOW)
    await commands.approve(reviewer, CODE, effective_at=date(2026, 11, 26), now=NOW, calendar=CALENDAR)
    assert (await published_guide(CODE)).guide.promised_days == 3
    next_morning = datetime(2026, 11, 26, 8, 0, tzinfo=CST)
    task = asyncio.create_task(publish_loop(0.05, clock=lambda: next_morning))
    try:
        for _ in range(50):
            if (await published_guide(CODE)).guide.promised_days == 2:
                break
            await asyncio.sleep(0.1)
    finally:
        task.cancel()
    assert (await published_guide(CODE)).guide.promised_days == 2
