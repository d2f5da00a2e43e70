"""The public site as a citizen sees it: on a phone, and with htmx filtering."""

from __future__ import annotations

import pytest

from registry.seeding import read_seeds
from tests.conftest import SEEDS

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


def a_rich_item() -> tuple[str, str]:
    """The seeded item with the most materials (the hardest guide to lay out)."""
    item = max(read_seeds(SEEDS).items, key=lambda i: len(i.content.materials))
    return item.code, item.content.name


async def test_guide_on_a_phone(live_server, browser, artifacts):
    code, name = a_rich_item()
    page = await browser.new_page(viewport=PHONE, device_scale_factor=2)
    response = await page.goto(f"{live_server}/g/{code}")
    assert response.status == 200
    assert await page.locator("h1.guide-title").inner_text() == name
    # Nothing wider than the phone: no sideways scrolling.
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert await page.locator("li.material").count() >= 4
    await page.screenshot(path=artifacts / "guide-phone.png", full_page=True)
    await page.goto(f"{live_server}/")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await page.screenshot(path=artifacts / "home-phone.png", full_page=True)


async def test_filtering_the_list_with_htmx(live_server, browser, artifacts):
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.goto(f"{live_server}/items")
    total = await page.locator("p.count").inner_text()
    await page.evaluate("window.__same_page = true")
    await page.select_option("select[name=trips]", "2+")
    await page.wait_for_function("(old) => document.querySelector('p.count').innerText !== old", arg=total)
    assert await page.evaluate("window.__same_page") is True  # swapped in place, no reload
    assert "trips=2%2B" in page.url or "trips=2+" in page.url  # the address is shareable
    badges = await page.locator(".item-row .badge").all_inner_texts()
    assert badges
    assert all(b.startswith("需跑") for b in badges)
    await page.screenshot(path=artifacts / "items-filtered.png")
