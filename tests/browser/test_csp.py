"""The Content-Security-Policy breaks nothing: every public page type and the staff pages load in
Chromium without a single `securitypolicyviolation` event (nor a CSP console error)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from registry import screens
from registry.users import actor, create_user

pytestmark = pytest.mark.browser
CODE = "650100-SGSJ-001"
PASSWORD = "correct horse battery"
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""
PUBLIC = [
    "/",
    "/items",
    "/items?trips=0&page=1",
    f"/g/{CODE}",
    f"/g/{CODE}?v=1",
    f"/g/{CODE}/print",
    f"/g/{CODE}/history",
    "/metrics",
    "/screen/W1",
    "/schema",
    "/login",
    "/no/such/page",
]
STAFF = [
    "/staff",
    f"/staff/items/{CODE}",
    "/staff/new",
    "/staff/board",
    "/staff/screens",
    "/staff/import",
    "/staff/users",
    "/staff/targets",
    "/staff/password",
]


async def visit(page, url: str, console: list[str]) -> list[str]:
    await page.goto(url)
    await page.wait_for_load_state("networkidle")
    found = await page.evaluate("window.__csp")
    return found + [m for m in console if "Content Security Policy" in m]


async def test_no_page_violates_the_content_security_policy(live_server, browser, artifacts):
    now = datetime.now(UTC)
    admin = await actor(await create_user("root", role="admin", password=PASSWORD, now=now))
    await screens.save_window(
        admin, code="W1", name="1号窗口", hall="", interval_seconds=15, item_codes=[CODE], now=now
    )
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    await page.add_init_script(WATCH)

    violations: dict[str, list[str]] = {}
    unit = None
    for path in PUBLIC:
        found = await visit(page, f"{live_server}{path}", console)
        if path == "/metrics":
            unit = await page.get_attribute("a[href^='/metrics/unit/']", "href")
        if path == "/screen/W1":  # the screen's first poll, too
            async with page.expect_request(lambda r: "/slides" in r.url, timeout=15000):
                pass
            await page.wait_for_load_state("networkidle")
            found = found + await page.evaluate("window.__csp")
        if path == "/schema":  # Swagger UI drew the operations (its script ran)
            await page.wait_for_selector(".opblock", timeout=15000)
        if found:
            violations[path] = found
        console.clear()
    assert unit
    found = await visit(page, f"{live_server}{unit}", console)
    if found:
        violations[unit] = found
    # htmx: a filter change swaps the results in place (its indicator styles come from site.css)
    console.clear()
    await page.goto(f"{live_server}/items")
    async with page.expect_response(lambda r: "level=city" in r.url):
        await page.select_option("select[name=level]", "city")
    await page.wait_for_load_state("networkidle")
    assert "level=city" in page.url
    found = await page.evaluate("window.__csp") + [m for m in console if "Content Security Policy" in m]
    if found:
        violations["/items (htmx swap)"] = found

    await page.goto(f"{live_server}/login")
    await page.fill("input[name=username]", "root")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{live_server}/staff")
    for path in STAFF:
        console.clear()
        found = await visit(page, f"{live_server}{path}", console)
        if found:
            violations[path] = found
    await page.screenshot(path=artifacts / "csp-staff-password.png")
    assert violations == {}
