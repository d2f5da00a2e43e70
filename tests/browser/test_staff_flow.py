"""The whole staff flow in a browser: edit, submit, review, approve — and the public guide shows it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from registry.users import create_user

pytestmark = pytest.mark.browser
CODE = "650100-SGSJ-001"
PASSWORD = "correct horse battery"


async def sign_in(page, base, username):
    await page.goto(f"{base}/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/staff")


async def test_edit_review_publish_in_the_browser(live_server, browser, artifacts):
    now = datetime.now(UTC)
    await create_user("li", role="editor", password=PASSWORD, departments=["SGSJ"], now=now)
    await create_user("zhao", role="reviewer", password=PASSWORD, now=now)
    page = await browser.new_page(viewport={"width": 1280, "height": 900})

    await sign_in(page, live_server, "li")
    await page.click(f"a[href='/staff/items/{CODE}']")
    before = int(await page.input_value("input[name=promised_days]"))
    new_days = max(before - 1, 0)
    await page.fill("input[name=promised_days]", str(new_days))
    await page.screenshot(path=artifacts / "staff-edit.png")
    await page.click("form.edit-form button[type=submit]")
    await page.wait_for_url(f"{live_server}/staff/items/{CODE}?saved=1")
    await page.fill("input[name=change_note]", "推行告知承诺制，压缩承诺办结时限")
    await page.click("form[action$='/submit'] button[type=submit]")
    await page.wait_for_url(f"{live_server}/staff")
    await page.click("form[action='/logout'] button")

    await sign_in(page, live_server, "zhao")
    await page.click(f"a[href='/staff/review/{CODE}']")
    diff = (await page.locator(".diff-list").inner_text()).splitlines()
    assert len(diff) == 1, diff  # only what the editor changed: no phantom changes from the form
    assert "承诺办结时限" in diff[0]
    await page.screenshot(path=artifacts / "staff-review.png")
    await page.click("form[action$='/approve'] button[type=submit]")
    await page.wait_for_url(f"{live_server}/g/{CODE}")
    facts = await page.locator(".facts").inner_text()
    assert (f"{new_days} 个工作日" if new_days else "即办") in facts
    await page.goto(f"{live_server}/g/{CODE}/history")
    assert "推行告知承诺制" in await page.locator("li.change").first.inner_text()
    await page.screenshot(path=artifacts / "history.png", full_page=True)
