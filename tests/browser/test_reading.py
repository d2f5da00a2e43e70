"""Each channel reads well where it is used (issue 12): the counter screen never cuts a guide at
1920×1080 and uses wall-sized type without links; paper type is large enough; a phone answers
the situation questions and gets its own list; axe-core finds no serious accessibility problem
on any page type. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe

from registry import screens
from registry.seeding import read_seeds
from registry.users import actor, create_user
from tests.browser.test_print import pdf_pages
from tests.browser.test_staff_flow import PASSWORD, sign_in
from tests.conftest import SEEDS

pytestmark = pytest.mark.browser
SCREEN = {"width": 1920, "height": 1080}
PHONE = {"width": 360, "height": 740}
NOTICE_ITEM = "650100-SGSJ-002"  # 个体工商户设立登记: 是否委托他人办理？

# For every slide: show each of its pages and collect what is cut, too small or a link.
SCREEN_CHECK = """
() => {
  const problems = [];
  const slides = document.querySelectorAll('#slides .slide');
  slides.forEach((slide, i) => {
    const pages = window.onetripScreen.show(i, 0);
    const body = slide.querySelector('.slide-body');
    const box = body.getBoundingClientRect();
    const gap = parseFloat(getComputedStyle(body).columnGap) || 0;
    const reach = box.left + pages * (body.clientWidth + gap);
    const code = slide.querySelector('.guide-meta dd').textContent;
    if (document.documentElement.scrollHeight > innerHeight) problems.push(code + ': page scrolls');
    if (body.scrollHeight > body.clientHeight + 1) problems.push(code + ': body taller than the screen');
    for (const el of body.querySelectorAll('*')) {
      const style = getComputedStyle(el);
      if (style.display === 'none' || el.closest('[hidden]')) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.top < box.top - 1 || r.bottom > box.bottom + 1)
        problems.push(code + ': cut ' + el.tagName + ' ' + el.textContent.slice(0, 20));
      if (r.right > reach + 1)
        problems.push(code + ': beyond the last page ' + el.tagName + ' ' + [r.right, reach].join('/'));
      const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
      if (own && parseFloat(style.fontSize) < 28)
        problems.push(code + ': ' + style.fontSize + ' ' + el.className);
      if (style.textDecorationLine.includes('underline')) problems.push(code + ': underline ' + el.tagName);
    }
    if (slide.querySelector('a')) problems.push(code + ': a link on the screen');
  });
  const kinds = [...new Set(problems.map(p => p.replace(/^[^:]*: /, '')))];
  return {problems: problems.slice(0, 30), kinds: kinds.slice(0, 40), slides: slides.length};
}
"""


async def until(page, predicate: str, seconds: float = 5) -> None:
    """Wait for a predicate without `wait_for_function` (it evaluates strings, which the CSP refuses)."""
    for _ in range(int(seconds * 10)):
        if await page.evaluate(predicate):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"still false after {seconds} s: {predicate}")


async def _window_of_every_item(code: str = "ALL") -> int:
    now = datetime.now(UTC)
    admin = await actor(await create_user("screen-admin", role="admin", password=PASSWORD, now=now))
    items = read_seeds(SEEDS).items
    await screens.save_window(
        admin,
        code=code,
        name="全部事项",
        hall="市政务服务中心",
        interval_seconds=600,
        item_codes=[i.code for i in items],
        now=now,
    )
    return len(items)


async def test_the_counter_screen_never_cuts_a_seeded_guide(live_server, browser, artifacts):
    count = await _window_of_every_item()
    page = await browser.new_page(viewport=SCREEN)
    await page.goto(f"{live_server}/screen/ALL")
    await until(page, "() => window.onetripScreen !== undefined")
    result = await page.evaluate(SCREEN_CHECK)
    assert result["slides"] == count
    assert result["problems"] == [], result["kinds"]
    # the longest guide, on its last page
    pages = await page.evaluate("window.onetripScreen.show(0, 0)")
    await page.screenshot(path=artifacts / "screen-1080p.png")
    if pages > 1:
        await page.evaluate(f"window.onetripScreen.show(0, {pages - 1})")
        await page.screenshot(path=artifacts / "screen-1080p-page2.png")


PRINT_CHECK = """
() => {
  const small = [];
  for (const el of document.querySelectorAll('body *')) {
    const style = getComputedStyle(el);
    if (style.display === 'none') continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (own && parseFloat(style.fontSize) < 12)
      small.push(style.fontSize + ' ' + el.tagName + '.' + el.className);
  }
  return {body: parseFloat(getComputedStyle(document.body).fontSize), small: small.slice(0, 10)};
}
"""


async def test_paper_type_is_large_enough(live_server, browser, artifacts):
    page = await browser.new_page(viewport={"width": 900, "height": 1200})
    for path in ("/g/650100-SGSJ-001/print", f"/g/{NOTICE_ITEM}/notice?agent=agent"):
        await page.goto(live_server + path)
        await page.emulate_media(media="print")
        sizes = await page.evaluate(PRINT_CHECK)
        assert sizes["body"] >= 14, path  # 10.5 pt
        assert sizes["small"] == [], path  # nothing below 9 pt (12 px)
    pdf = await page.pdf(format="A4")  # print media, as emulated above
    (artifacts / "notice.pdf").write_bytes(pdf)
    assert pdf_pages(pdf) <= 2
    _pdf_to_png(artifacts / "notice.pdf", artifacts / "notice-print")


def _pdf_to_png(pdf: Path, prefix: Path) -> None:
    # a picture for people to look at; the test's checks do not depend on it
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(prefix)], check=True
        )


async def test_a_phone_answers_the_questions_and_gets_its_own_list(live_server, browser, artifacts):
    page = await browser.new_page(viewport=PHONE, device_scale_factor=2)
    await page.goto(f"{live_server}/g/{NOTICE_ITEM}")
    await page.check("#situations input[name=agent][value=agent]")
    await page.wait_for_selector("#my-notice .checklist li")
    listed = await page.locator("#my-notice .checklist li strong").all_inner_texts()
    assert "授权委托书" in listed
    await page.check("#situations input[name=agent][value=self]")
    await until(page, "() => !document.querySelector('#my-notice').textContent.includes('授权委托书')")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await page.locator("#situations").screenshot(path=artifacts / "guide-phone-situations.png")
    await page.goto(f"{live_server}/metrics")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    narrow = await page.evaluate(
        "[...document.querySelectorAll('table td, table th')].filter(c => c.textContent.trim().length > 1"
        " && c.getBoundingClientRect().width < 28).length"
    )
    assert narrow == 0  # no column one character wide
    await page.screenshot(path=artifacts / "metrics-phone.png", full_page=True)


PUBLIC_PAGES = (
    "/",
    "/items",
    "/items?department=SGSJ",
    "/g/650100-SGSJ-001",
    f"/g/{NOTICE_ITEM}",
    "/g/650100-SGSJ-001/print",
    f"/g/{NOTICE_ITEM}/notice?agent=agent",
    f"/g/{NOTICE_ITEM}/counter?agent=agent",
    "/g/650100-SGSJ-001/history",
    "/metrics",
    "/screen/ALL",
    "/login",
    "/e",
    "/e/YJS-KBQY",
    "/e/YJS-KBQY/print",
    "/search?q=开公司",
)
STAFF_PAGES = (
    "/staff",
    "/staff/items/650100-SGSJ-001",
    f"/staff/items/{NOTICE_ITEM}",
    "/staff/board",
    "/staff/screens",
    "/staff/import",
    "/staff/targets",
    "/staff/users",
    "/staff/events",
    "/staff/events/YJS-KBQY",
)


async def _serious(page, axe: Axe, path: str) -> list[str]:
    results = await axe.run(page)
    found = []
    for v in results.response["violations"]:
        if v["impact"] in ("critical", "serious"):
            targets = [n["target"] for n in v["nodes"][:3]]
            found.append(f"{path}: {v['id']} ({v['impact']}) {targets}")
    return found


async def test_axe_finds_no_serious_problem_on_any_page_type(live_server, browser, artifacts):
    await _window_of_every_item()
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    axe = Axe()
    problems: list[str] = []
    unit = None
    for path in PUBLIC_PAGES:
        response = await page.goto(live_server + path)
        assert response.status == 200, path
        problems += await _serious(page, axe, path)
        if path == "/e/YJS-KBQY":
            for name, size in (("event-phone", PHONE), ("event-desktop", {"width": 1280, "height": 900})):
                await page.set_viewport_size(size)
                await page.screenshot(path=artifacts / f"{name}.png", full_page=True)
            await page.set_viewport_size({"width": 1280, "height": 900})
        if path == "/metrics":
            unit = await page.get_attribute("a[href^='/metrics/unit/']", "href")
    if unit:
        await page.goto(live_server + unit)
        problems += await _serious(page, axe, unit)
    await sign_in(page, live_server, "screen-admin")
    for path in STAFF_PAGES:
        response = await page.goto(live_server + path)
        assert response.status == 200, path
        problems += await _serious(page, axe, path)
        if path == f"/staff/items/{NOTICE_ITEM}":
            situations = page.locator("fieldset", has=page.locator("legend", has_text="情形引导"))
            await situations.screenshot(path=artifacts / "staff-edit-situations.png")
    (artifacts / "axe.txt").write_text(
        "\n".join(problems) or "0 critical/serious violations\n", encoding="utf-8"
    )
    assert problems == []
