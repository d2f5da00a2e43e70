"""The printed guide as Chromium prints it: A4, at most two pages for a typical item, and a QR
code on the paper that a phone reads as the guide's stable address."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from PIL import Image

from registry.seeding import read_seeds
from tests.conftest import SEEDS

pytestmark = pytest.mark.browser

PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![A-Za-z])")  # a page, not the /Pages tree


def pdf_pages(pdf: bytes) -> int:
    """Pages of a PDF: Chromium writes each page as an uncompressed `/Type /Page` object."""
    count = len(PAGE_OBJECT.findall(pdf))
    declared = [int(n) for n in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", pdf)]
    if declared:
        assert count == max(declared)
    return count


def typical_item() -> str:
    """The median seeded item by number of materials (ties broken by code)."""
    items = sorted(read_seeds(SEEDS).items, key=lambda i: (len(i.content.materials), i.code))
    return items[len(items) // 2].code


def test_pdf_page_counter():
    two = b"<< /Type /Pages /Count 2 /Kids [3 0 R 4 0 R] >> << /Type /Page >> <</Type/Page/Parent 2 0 R>>"
    assert pdf_pages(two) == 2


async def test_a_typical_guide_prints_on_at_most_two_a4_pages(live_server, browser, artifacts):
    code = typical_item()
    page = await browser.new_page(viewport={"width": 900, "height": 1200})
    response = await page.goto(f"{live_server}/g/{code}/print")
    assert response.status == 200
    pdf = await page.pdf(format="A4")
    (artifacts / f"print-{code}.pdf").write_bytes(pdf)
    pages = pdf_pages(pdf)
    assert 1 <= pages <= 2, f"{code} prints on {pages} pages"

    await page.emulate_media(media="print")
    # Printed: no navigation, FAQ answers shown, black text on white.
    assert await page.locator(".print-screen-only").is_hidden()
    for answer in await page.locator("details.faq > p").all():
        assert await answer.is_visible()
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    assert (
        await page.evaluate("getComputedStyle(document.querySelector('.guide-title')).color")
        == "rgb(0, 0, 0)"
    )
    await page.screenshot(path=artifacts / f"print-{code}.png", full_page=True)

    # The QR code on the paper, as Chromium draws it, reads as the stable address + printed version.
    shot = await page.locator(".print-qr svg").screenshot(scale="device")
    (decoded,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
    assert decoded.text == f"http://localhost:8000/g/{code}?v=1"


async def test_the_print_page_also_reads_on_a_phone(live_server, browser):
    page = await browser.new_page(viewport={"width": 360, "height": 740})
    await page.goto(f"{live_server}/g/{typical_item()}/print")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    assert await page.locator(".print-screen-only a").get_attribute("href") == f"/g/{typical_item()}"
