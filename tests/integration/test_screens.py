"""Counter screens: configured by staff, current within seconds, and watched."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup

from guides.snapshot import replace
from registry import screens
from registry.editions import commands, store
from registry.tables import ServiceItem
from registry.users import actor, create_user
from registry.workdays import Calendar

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
ITEMS = ["650100-SGSJ-001", "650100-SGSJ-002"]


@pytest.fixture
async def window(small_db):
    reviewer = await actor(await create_user("zhao", role="reviewer", password="x" * 12, now=NOW))
    await screens.save_window(
        reviewer,
        code="A12",
        name="12号窗口",
        hall="市政务服务中心",
        interval_seconds=15,
        item_codes=ITEMS,
        now=NOW,
    )
    return reviewer


async def test_screen_shows_the_same_guides_as_the_hall(small_client, window):
    page = BeautifulSoup((await small_client.get("/screen/A12")).text, "html.parser")
    assert page.select_one("nav") is None  # no navigation on a counter screen
    slides = page.select("section.slide")
    assert len(slides) == 2
    for slide, code in zip(slides, ITEMS, strict=True):
        api = (await small_client.get(f"/api/items/{code}")).json()
        assert slide["data-fingerprint"] == api["fingerprint"]
        assert slide.select_one("img.slide-qr")["src"] == f"/g/{code}/qr.svg"
        names = [m.select_one(".material-name").contents[0].strip() for m in slide.select("li.material")]
        assert names == [m["name"] for m in api["materials"]]


async def test_polling_is_204_until_a_publication_changes_the_screen(small_client, window):
    page = BeautifulSoup((await small_client.get("/screen/A12")).text, "html.parser")
    shown = page.select_one("#slides")["data-state"]
    same = await small_client.get(f"/screen/A12/slides?shown={shown}")
    assert same.status_code == 204

    editor = await actor(
        await create_user("li", role="editor", password="x" * 12, departments=["SGSJ"], now=NOW)
    )
    item = await ServiceItem.select().where(ServiceItem.code == ITEMS[0]).first()
    content = replace(await store.edition_content(item["current_edition"]), promised_days=1)
    await commands.save_draft(editor, ITEMS[0], content, base_lock_version=None, now=NOW)
    await commands.submit(editor, ITEMS[0], change_note="提速", effective_at=NOW.date(), now=NOW)
    await commands.approve(window, ITEMS[0], effective_at=None, now=NOW, calendar=Calendar.load())

    changed = await small_client.get(f"/screen/A12/slides?shown={shown}", headers={"HX-Request": "true"})
    assert changed.status_code == 200
    fragment = BeautifulSoup(changed.text, "html.parser")
    assert fragment.select_one("#slides")["data-state"] != shown
    new_fp = (await small_client.get(f"/api/items/{ITEMS[0]}")).json()["fingerprint"]
    assert fragment.select("section.slide")[0]["data-fingerprint"] == new_fp


async def test_staff_see_which_screens_are_alive_and_current(small_client, window):
    statuses = await screens.screen_statuses()
    assert statuses[0].seen_at is None
    assert statuses[0].stale(NOW)
    current = statuses[0].current_state
    await small_client.get(f"/screen/A12/slides?shown={current}")
    (status,) = await screens.screen_statuses()
    assert status.up_to_date
    assert not status.stale(datetime.now(UTC))
    await small_client.get("/screen/A12/slides?shown=old")
    (status,) = await screens.screen_statuses()
    assert not status.up_to_date


async def test_bad_window_configuration_is_refused(window):
    from registry.errors import ValidationError

    with pytest.raises(ValidationError) as info:
        await screens.save_window(
            window, code="A 1", name="", hall="", interval_seconds=1, item_codes=["NOPE-1"], now=NOW
        )
    assert {e.field for e in info.value.errors} == {"code", "name", "interval_seconds", "items"}


async def test_unknown_window_is_a_404(small_client):
    assert (await small_client.get("/screen/NOPE")).status_code == 404


async def test_an_old_printout_is_told_what_changed(small_client, window):
    """The print's QR carries ?v=N; scanning an old one shows what changed since."""
    print_page = BeautifulSoup((await small_client.get(f"/g/{ITEMS[0]}/print")).text, "html.parser")
    assert print_page.select_one(".print-address").get_text().endswith(f"/g/{ITEMS[0]}?v=1")
    current = await small_client.get(f"/g/{ITEMS[0]}?v=1")
    assert BeautifulSoup(current.text, "html.parser").select_one(".outdated") is None

    editor = await actor(
        await create_user("li", role="editor", password="x" * 12, departments=["SGSJ"], now=NOW)
    )
    item = await ServiceItem.select().where(ServiceItem.code == ITEMS[0]).first()
    content = replace(await store.edition_content(item["current_edition"]), promised_days=1)
    await commands.save_draft(editor, ITEMS[0], content, base_lock_version=None, now=NOW)
    await commands.submit(editor, ITEMS[0], change_note="提速", effective_at=NOW.date(), now=NOW)
    await commands.approve(window, ITEMS[0], effective_at=None, now=NOW, calendar=Calendar.load())

    old = BeautifulSoup((await small_client.get(f"/g/{ITEMS[0]}?v=1")).text, "html.parser")
    banner = old.select_one(".outdated").get_text(" ", strip=True)
    assert "纸质指南为第 1 版，现行为第 2 版" in banner
    assert "承诺办结时限：3 个工作日 → 1 个工作日" in banner
    # The item's own QR code did not change with the content.
    assert (await small_client.get(f"/g/{ITEMS[0]}?v=abc")).status_code == 200
