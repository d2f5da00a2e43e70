"""Life events (一件事) end to end on both databases: the workflow they share with items, the
change log, the fingerprint following the items, seeds, and the public and staff pages."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import pytest
from bs4 import BeautifulSoup

from guides.clock import CHINA
from guides.events import EventContent
from guides.snapshot import replace
from guides.urls import Urls
from registry.access import PermissionDenied
from registry.changelog import verify_log
from registry.db import write_transaction
from registry.editions import commands as item_commands
from registry.editions import store as item_store
from registry.editions.workflow import TransitionError
from registry.errors import ValidationError
from registry.events import commands, reads
from registry.events import store as event_store
from registry.queries import recent_changes
from registry.seeding import load_seeds
from registry.tables import ChangeRecord, LifeEvent, LifeEventEdition, LifeEventItem
from registry.users import actor, create_user
from registry.vocab import EditionStatus
from registry.web.feed import atom_feed
from registry.workdays import Calendar
from tests.conftest import SEEDS
from tests.integration.test_staff_pages import PASSWORD, csrf, login, soup

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=CHINA)
CALENDAR = Calendar.load()
ITEMS = ("650100-SGSJ-002", "650100-SGSJ-001", "650102-TSQ-001")  # tests/fixtures/small_seeds
CONTENT = EventContent(
    name="开办企业",
    audience=("法人",),
    description="名称、登记一窗办理。",
    keywords=("开公司",),
    items=ITEMS,
    trips=1,
    trips_reason="一窗受理，一次领取营业执照",
    promised_days=3,
)


@pytest.fixture
async def staff(small_db):
    async def make(name, role, departments=None):
        uid = await create_user(name, role=role, password=PASSWORD, departments=departments, now=NOW)
        return await actor(uid)

    return {
        "editor": await make("li", "editor", ["SGSJ"]),
        "other_editor": await make("wang", "editor", ["TSQ"]),
        "reviewer": await make("zhao", "reviewer"),
        "admin": await make("admin", "admin"),
    }


async def publish_event(staff, content=CONTENT, code="YJS-KBQY"):
    await commands.create_event(staff["editor"], code=code, department_code="SGSJ", content=content, now=NOW)
    await commands.submit(staff["editor"], code, change_note="新增一件事", now=NOW)
    return await commands.approve(staff["reviewer"], code, now=NOW, calendar=CALENDAR)


async def test_an_event_is_reviewed_published_and_logged_like_an_item(staff):
    before = await ChangeRecord.count()
    snapshot = await publish_event(staff)
    assert snapshot.version == 1
    assert [m.code for m in snapshot.members] == list(ITEMS)
    record = await ChangeRecord.select().order_by(ChangeRecord.seq, ascending=False).first()
    assert await ChangeRecord.count() == before + 1
    assert (record["item_code"], record["item"], record["kind"]) == ("YJS-KBQY", None, "new")
    assert (record["editor"], record["reviewer"], record["change_note"]) == ("li", "zhao", "新增一件事")
    assert "开办企业" in record["summary"]
    assert (await verify_log()).ok
    feed = atom_feed(await recent_changes(limit=5), Urls("https://zwfw.example.cn")).decode()
    assert 'href="https://zwfw.example.cn/e/YJS-KBQY"' in feed
    event = await LifeEvent.select().where(LifeEvent.code == "YJS-KBQY").first()
    edition = await LifeEventEdition.select().where(LifeEventEdition.id == event["current_edition"]).first()
    assert edition["status"] == "published" and edition["fingerprint"] == record["fingerprint"]
    positions = (
        await LifeEventItem.select(LifeEventItem.item.code)
        .where(LifeEventItem.edition == edition["id"])
        .order_by(LifeEventItem.position)
    )
    assert [p["item.code"] for p in positions] == list(ITEMS)

    # A second edition supersedes the first and logs a change.
    changed = replace(CONTENT, promised_days=2)
    await commands.save_draft(staff["editor"], "YJS-KBQY", changed, base_lock_version=None, now=NOW)
    await commands.submit(staff["editor"], "YJS-KBQY", change_note="压缩时限", now=NOW)
    second = await commands.approve(staff["reviewer"], "YJS-KBQY", now=NOW, calendar=CALENDAR)
    assert second.version == 2
    statuses = await LifeEventEdition.select(LifeEventEdition.version, LifeEventEdition.status).order_by(
        LifeEventEdition.version
    )
    assert [(s["version"], s["status"]) for s in statuses] == [(1, "superseded"), (2, "published")]
    last = await ChangeRecord.select().order_by(ChangeRecord.seq, ascending=False).first()
    assert last["kind"] == "change" and last["version_before"] == 1
    diff = json.loads(last["diff"]) if isinstance(last["diff"], str) else last["diff"]
    assert [(d["field"], d["label"], d["text"]) for d in diff] == [
        ("promised_days", "一件事承诺时限", "3 → 2")
    ]
    assert (await verify_log()).ok


async def test_four_eyes_and_department_rules_are_the_items_rules(staff):
    admin = staff["admin"]
    await commands.create_event(admin, code="YJS-KBQY", department_code="SGSJ", content=CONTENT, now=NOW)
    await commands.submit(admin, "YJS-KBQY", change_note="新增", now=NOW)
    with pytest.raises(PermissionDenied, match="双人复核"):
        await commands.approve(admin, "YJS-KBQY", now=NOW, calendar=CALENDAR)
    with pytest.raises(PermissionDenied):  # an editor never approves
        await commands.approve(staff["editor"], "YJS-KBQY", now=NOW, calendar=CALENDAR)
    with pytest.raises(TransitionError):  # in review: no more saving
        await commands.save_draft(admin, "YJS-KBQY", CONTENT, base_lock_version=1, now=NOW)
    with pytest.raises(PermissionDenied):  # another department's editor
        await commands.create_event(
            staff["other_editor"], code="YJS-OTHER", department_code="SGSJ", content=CONTENT, now=NOW
        )
    assert await ChangeRecord.count().where(ChangeRecord.item_code == "YJS-KBQY") == 0
    await commands.send_back(staff["reviewer"], "YJS-KBQY", reason="请补充说明", now=NOW)
    edition = await LifeEventEdition.select().first()
    assert (edition["status"], edition["send_back_reason"]) == ("draft", "请补充说明")


async def test_the_database_refuses_a_second_open_edition_and_a_second_version(staff):
    await commands.create_event(
        staff["editor"], code="YJS-KBQY", department_code="SGSJ", content=CONTENT, now=NOW
    )
    event = await LifeEvent.select().first()
    ids = await event_store.item_ids(CONTENT)
    for version in (2, 1):  # a second draft; a second version 1
        with pytest.raises(Exception, match=r"(?i)unique"):
            async with write_transaction():
                await event_store.insert_edition(
                    event_id=event["id"],
                    version=version,
                    status=EditionStatus.draft,
                    content=CONTENT,
                    ids=ids,
                    now=NOW,
                )
    assert await LifeEventEdition.count() == 1


async def test_bad_input_changes_nothing(staff):
    with pytest.raises(ValidationError) as caught:
        await commands.create_event(
            staff["editor"],
            code="YJS-KBQY",
            department_code="SGSJ",
            content=replace(CONTENT, items=("650100-SGSJ-001", "650100-NOPE-001", "650100-SGSJ-001")),
            now=NOW,
        )
    assert [e.field for e in caught.value.errors] == ["items[1]", "items[2]"]
    with pytest.raises(ValidationError):
        await commands.create_event(
            staff["editor"], code="kbqy", department_code="SGSJ", content=CONTENT, now=NOW
        )
    assert await LifeEvent.count() == 0 and await LifeEventEdition.count() == 0


async def test_the_fingerprint_changes_when_one_of_its_items_changes(staff):
    await publish_event(staff)
    first = (await reads.published_events())["YJS-KBQY"]
    assert first.trips_sum == 0 + 1 + 2 and first.days_sum == 3 + 1 + 5
    assert len(first.materials) == 3 and first.material_mentions == 5
    again = (await reads.published_events())["YJS-KBQY"]
    assert again.fingerprint == first.fingerprint

    item = await item_store.item_row("650100-SGSJ-001")
    content = replace(await item_store.edition_content(item["current_edition"]), promised_days=2)
    await item_commands.save_draft(
        staff["editor"], "650100-SGSJ-001", content, base_lock_version=None, now=NOW
    )
    await item_commands.submit(
        staff["editor"], "650100-SGSJ-001", change_note="压缩", effective_at=None, now=NOW
    )
    await item_commands.approve(
        staff["reviewer"], "650100-SGSJ-001", effective_at=None, now=NOW, calendar=CALENDAR
    )
    after = (await reads.published_events())["YJS-KBQY"]
    assert after.fingerprint != first.fingerprint
    assert after.days_sum == first.days_sum - 1
    assert after.event.version == 1  # the bundle itself did not change


async def test_seeds_load_twice_with_no_change(seeded_db):
    events = await LifeEvent.select(LifeEvent.code, LifeEvent.current_edition).order_by(LifeEvent.code)
    assert len(events) >= 6 and all(e["current_edition"] for e in events)
    editions = await LifeEventEdition.select(LifeEventEdition.id, LifeEventEdition.fingerprint)
    records = await ChangeRecord.count()
    report = await load_seeds(SEEDS)
    assert not report.changed
    assert report.unchanged["events"] == len(events) and not report.differs
    assert await LifeEventEdition.select(LifeEventEdition.id, LifeEventEdition.fingerprint) == editions
    assert await ChangeRecord.count() == records
    assert (await verify_log()).ok


# ---- pages ----------------------------------------------------------------------------------


async def test_public_pages(client):
    page = await client.get("/e/YJS-KBQY")
    assert page.status_code == 200
    html = soup(page)
    assert html.html["lang"] == "zh-CN"
    assert html.select_one("h1.guide-title").get_text(strip=True) == "开办企业"
    fingerprint = html.select_one("article.event")["data-fingerprint"]
    assert page.headers["x-content-fingerprint"] == fingerprint
    names = [
        li.select_one(".material-name").contents[0].strip() for li in html.select("#materials li.material")
    ]
    assert len(names) == len(set(names)) and "居民身份证" in names
    assert "分别办理合计" in html.select_one(".event-trips").get_text()

    data = await client.get("/e/YJS-KBQY/event.json")
    assert data.status_code == 200
    assert hashlib.sha256(data.content).hexdigest() == fingerprint == data.headers["x-content-fingerprint"]
    assert data.json()["content"]["name"] == "开办企业"

    printed = await client.get("/e/YJS-KBQY/print")
    assert printed.status_code == 200 and soup(printed).select_one(".print-qr svg") is not None
    for path, kind in (("/e/YJS-KBQY/qr.svg", "image/svg+xml"), ("/e/YJS-KBQY/qr.png", "image/png")):
        response = await client.get(path)
        assert response.status_code == 200 and response.headers["content-type"].startswith(kind)

    home = soup(await client.get("/"))
    assert "/e/YJS-KBQY" in [a["href"] for a in home.select(".event-row a")]
    listing = soup(await client.get("/e"))
    assert len(listing.select(".event-card")) >= 6

    found = soup(await client.get("/search", params={"q": "开公司"}))
    assert [a.get_text(strip=True) for a in found.select(".search-events .event-card a")] == ["开办企业"]

    for bad in ("/e/YJS-NOPE", "/e/%00", "/e/YJS-KBQY/nope.json", "/e/" + "A" * 300):
        response = await client.get(bad)
        assert response.status_code in (400, 404), bad
        assert "<html" not in response.text or soup(response).html["lang"] == "zh-CN"


async def test_staff_create_edit_submit_review(small_client, staff):
    assert (await login(small_client, "li")).status_code in (302, 303)
    listing = await small_client.get("/staff/events")
    assert listing.status_code == 200
    form = {
        "_csrf_token": csrf(listing),
        "code": "YJS-KBQY",
        "department": "SGSJ",
        "name": "开办企业",
        "audience": "法人",
        "items": "650100-SGSJ-002\n650100-SGSJ-001",
        "trips": "1",
        "trips_reason": "一窗受理",
        "promised_days": "3",
        "keywords": "开公司、注册公司",
    }
    bad = await small_client.post("/staff/events", data={**form, "trips": "abc", "items": "650100-NOPE-001"})
    assert bad.status_code == 400
    assert soup(bad).select(".alert li")
    assert await LifeEvent.count() == 0
    created = await small_client.post("/staff/events", data=form, follow_redirects=False)
    assert created.status_code == 303, created.text[:2000]
    edit = await small_client.get("/staff/events/YJS-KBQY")
    assert edit.status_code == 200
    assert soup(edit).select_one("textarea[name=items]").get_text() == "650100-SGSJ-002\n650100-SGSJ-001"
    worse = await small_client.post(
        "/staff/events/YJS-KBQY", data={**form, "lock_version": "1", "promised_days": "400"}
    )
    assert worse.status_code == 400
    submitted = await small_client.post(
        "/staff/events/YJS-KBQY/submit",
        data={"_csrf_token": csrf(edit), "change_note": "新增"},
        follow_redirects=False,
    )
    assert submitted.status_code == 303
    await small_client.post("/logout", data={"_csrf_token": csrf(edit)})

    await login(small_client, "zhao")
    review = await small_client.get("/staff/events/YJS-KBQY/review")
    assert review.status_code == 200 and "批准并发布" in review.text
    approved = await small_client.post(
        "/staff/events/YJS-KBQY/approve", data={"_csrf_token": csrf(review)}, follow_redirects=False
    )
    assert approved.status_code == 303
    public = await small_client.get("/e/YJS-KBQY")
    assert public.status_code == 200
    assert "开办企业" in BeautifulSoup(public.text, "html.parser").select_one("h1").get_text()
    again = await small_client.post(
        "/staff/events/YJS-KBQY/approve", data={"_csrf_token": csrf(review)}, follow_redirects=False
    )
    assert again.status_code == 409  # nothing in review any more
