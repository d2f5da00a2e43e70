"""A counter screen in Chromium: a publication appears within 10 seconds without a reload, and an
unreachable server leaves the last content on screen until it comes back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from guides.snapshot import replace
from registry import screens
from registry.editions import commands, store
from registry.tables import ServiceItem
from registry.users import actor, create_user
from registry.workdays import Calendar

pytestmark = pytest.mark.browser
CODE = "650100-SGSJ-001"


async def test_screen_updates_itself_and_survives_an_outage(live_server, browser, artifacts):
    now = datetime.now(UTC)
    reviewer = await actor(await create_user("zhao", role="reviewer", password="x" * 12, now=now))
    editor = await actor(
        await create_user("li", role="editor", password="x" * 12, departments=["SGSJ"], now=now)
    )
    await screens.save_window(
        reviewer,
        code="B3",
        name="3号窗口",
        hall="市政务服务中心",
        interval_seconds=30,
        item_codes=[CODE],
        now=now,
    )
    page = await browser.new_page(viewport={"width": 1920, "height": 1080})
    await page.goto(f"{live_server}/screen/B3")
    await page.evaluate("window.__no_reload = true")
    before = await page.get_attribute("section.slide", "data-fingerprint")
    await page.screenshot(path=artifacts / "screen-1080p.png")

    # The server goes away: the screen keeps what it shows.
    await page.route("**/slides*", lambda route: route.abort())
    await asyncio.sleep(6)
    assert await page.get_attribute("section.slide", "data-fingerprint") == before
    await page.unroute("**/slides*")

    item = await ServiceItem.select().where(ServiceItem.code == CODE).first()
    content = replace(await store.edition_content(item["current_edition"]), promised_days=1)
    await commands.save_draft(editor, CODE, content, base_lock_version=None, now=now)
    await commands.submit(editor, CODE, change_note="提速", effective_at=now.date(), now=now)
    await commands.approve(reviewer, CODE, effective_at=None, now=now, calendar=Calendar.load())
    published = datetime.now(UTC)
    await page.wait_for_function(
        "(old) => document.querySelector('section.slide').dataset.fingerprint !== old",
        arg=before,
        timeout=10_000,
    )
    assert (datetime.now(UTC) - published).total_seconds() < 10
    assert await page.evaluate("window.__no_reload") is True
    assert "1 个工作日" in await page.locator("section.slide .facts").inner_text()
