"""One snapshot, every channel: print, QR codes, JSON and Markdown at /g/{code}/…, on both
databases, and the promise behind them — every channel shows the same guide."""

from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import UTC, datetime

import pytest
import zxingcpp
from bs4 import BeautifulSoup
from PIL import Image

from guides import Guide, canonical_json
from guides.labels import check_code
from guides.qr import qr_png, qr_svg
from guides.snapshot import replace
from registry.db import write_transaction
from registry.editions import store
from registry.editions.publication import publish_seed
from registry.queries import published_guide
from registry.seeding import read_seeds
from registry.tables import ServiceItem
from tests.conftest import SEEDS

CODE = "650100-SGSJ-001"  # tests/fixtures/small_seeds: 3 materials, 0 trips
ADDRESS = f"http://localhost:8000/g/{CODE}"  # the default public URL
CHANNEL_PATHS = ["qr.svg", "qr.png", "guide.json", "guide.md", "print"]


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


async def publish_new_edition(code: str, **fields) -> Guide:
    """Publish the item's current content with `fields` changed, as a new current edition."""
    current = (await published_guide(code)).guide
    async with write_transaction():
        item = await store.item_row(code, lock=True)
        content = replace(await store.edition_content(item["current_edition"]), **fields)
        return await publish_seed(
            item=item,
            version=current.version + 1,
            content=content,
            catalogue=await store.load_catalogue(),
            ids=await store.ref_ids(),
            now=datetime.now(UTC),
            change_note="测试：发布新版本",
        )


# ---- QR codes ------------------------------------------------------------------------------


async def test_qr_codes_encode_the_stable_address(small_client):
    svg = await small_client.get(f"/g/{CODE}/qr.svg")
    assert svg.status_code == 200
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.content == qr_svg(ADDRESS)
    png = await small_client.get(f"/g/{CODE}/qr.png")
    assert png.headers["content-type"] == "image/png"
    assert png.content == qr_png(ADDRESS)
    (decoded,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert decoded.text == ADDRESS
    for response in (svg, png):
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["etag"] == f'"{hashlib.sha256(response.content).hexdigest()}"'


async def test_qr_bytes_do_not_change_when_a_new_edition_is_published(small_client):
    before = {p: (await small_client.get(f"/g/{CODE}/{p}")).content for p in ("qr.svg", "qr.png")}
    old_json = (await small_client.get(f"/g/{CODE}/guide.json")).content
    guide = await publish_new_edition(CODE, promised_days=2, name="有限责任公司设立登记（新）")
    assert guide.version == 2
    new_json = await small_client.get(f"/g/{CODE}/guide.json")
    assert new_json.content != old_json and json.loads(new_json.content)["version"] == 2
    after = {p: (await small_client.get(f"/g/{CODE}/{p}")).content for p in ("qr.svg", "qr.png")}
    assert after == before
    hall = soup(await small_client.get(f"/g/{CODE}"))
    assert hall.select_one("a.guide-qr")["href"] == f"/g/{CODE}/qr.svg"


async def test_etag_and_304(small_client):
    first = await small_client.get(f"/g/{CODE}/qr.svg")
    etag = first.headers["etag"]
    again = await small_client.get(f"/g/{CODE}/qr.svg", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    weak = await small_client.get(f"/g/{CODE}/qr.svg", headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status_code == 304
    stale = await small_client.get(f"/g/{CODE}/qr.svg", headers={"If-None-Match": '"stale"'})
    assert stale.status_code == 200 and stale.content == first.content

    data = await small_client.get(f"/g/{CODE}/guide.json")
    fp = data.headers["x-content-fingerprint"]
    assert data.headers["etag"] == f'"{fp}"'
    cached = await small_client.get(f"/g/{CODE}/guide.json", headers={"If-None-Match": f'"{fp}"'})
    assert cached.status_code == 304
    await publish_new_edition(CODE, promised_days=2)
    changed = await small_client.get(f"/g/{CODE}/guide.json", headers={"If-None-Match": f'"{fp}"'})
    assert changed.status_code == 200 and changed.headers["x-content-fingerprint"] != fp


# ---- open data ------------------------------------------------------------------------------


async def test_guide_json_is_the_canonical_snapshot(small_client):
    response = await small_client.get(f"/g/{CODE}/guide.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.content
    fp = response.headers["x-content-fingerprint"]
    assert hashlib.sha256(body).hexdigest() == fp
    assert canonical_json(Guide.from_json(body)) == body
    assert (await small_client.get(f"/api/items/{CODE}")).json()["fingerprint"] == fp


async def test_guide_markdown(small_client):
    response = await small_client.get(f"/g/{CODE}/guide.md")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    text = response.text
    fp = response.headers["x-content-fingerprint"]
    assert text.startswith("# 有限责任公司设立登记\n")
    assert f"`{fp}`" in text and f"<{ADDRESS}>" in text
    assert "**到办事现场次数**：0 次" in text


async def test_hall_page_embeds_json_ld_and_links_every_channel(small_client):
    page = soup(await small_client.get(f"/g/{CODE}"))
    fp = page.select_one("article.guide")["data-fingerprint"]
    (script,) = page.select('script[type="application/ld+json"]')
    data = json.loads(script.string)
    assert data["@type"] == "GovernmentService"
    assert data["name"] == "有限责任公司设立登记"
    assert data["serviceType"] == "行政许可"
    assert data["identifier"] == CODE
    assert data["url"] == ADDRESS
    assert data["provider"] == {
        "@type": "GovernmentOrganization",
        "name": "乌鲁木齐市工商行政管理局",
        "identifier": "SGSJ",
        "areaServed": data["areaServed"],
    }
    assert data["areaServed"]["name"] == "乌鲁木齐市"
    assert data["subjectOf"]["identifier"]["value"] == fp
    links = {a["class"][0]: a["href"] for a in page.select(".guide-links a, .site-footer a[class]")}
    assert links["guide-print"] == f"/g/{CODE}/print"
    # open data is for machines: it sits in the footer, not among the citizen's links
    assert not page.select(".guide-links .guide-json, .guide-links .guide-md")
    assert links["guide-json"] == f"/g/{CODE}/guide.json"
    assert links["guide-md"] == f"/g/{CODE}/guide.md"
    for href in (links["guide-print"], links["guide-json"], links["guide-md"], links["guide-qr"]):
        assert (await small_client.get(href)).status_code == 200, href


# ---- print ------------------------------------------------------------------------------------


async def test_print_page_is_standalone_a4_with_qr_and_fingerprint(small_client):
    response = await small_client.get(f"/g/{CODE}/print")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = soup(response)
    assert page.html["lang"] == "zh-CN"
    assert page.select_one(".site-header, .site-nav, .crumbs") is None
    fp = response.headers["x-content-fingerprint"]
    assert page.select_one("article.guide")["data-fingerprint"] == fp
    assert page.select_one(".print-foot code.check-code").get_text() == check_code(fp)
    assert page.select_one(".print-version").get_text() == "第 1 版"
    # Paper carries the stable address plus the printed version (version-aware paper).
    assert page.select_one(".print-address").get_text() == f"{ADDRESS}?v=1"
    inline = str(page.select_one(".print-qr svg"))
    assert page.select_one(".print-qr svg path")["d"] in qr_svg(f"{ADDRESS}?v=1").decode()
    assert "qr" in inline
    assert all(d.has_attr("open") for d in page.select("details.faq"))
    sheets = [link["href"] for link in page.select("link[rel=stylesheet]")]
    assert sheets == ["/static/css/site.css", "/static/css/print.css"]
    assert (await small_client.get(sheets[1])).status_code == 200


# ---- 404 and 410 ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", CHANNEL_PATHS)
async def test_unknown_code_is_a_chinese_404(small_client, path):
    response = await small_client.get(f"/g/650100-NOPE-999/{path}")
    assert response.status_code == 404
    assert "没有找到编码为“650100-NOPE-999”的服务事项" in response.text


async def test_withdrawn_item_is_a_410_on_every_channel(small_client):
    await ServiceItem.update({ServiceItem.withdrawn: True}).where(ServiceItem.code == "650100-SGSJ-002")
    for path in CHANNEL_PATHS:
        response = await small_client.get(f"/g/650100-SGSJ-002/{path}")
        assert response.status_code == 410, path
        assert "已取消" in response.text, path


# ---- every channel says the same thing ---------------------------------------------------------


def hall_facts(page: BeautifulSoup) -> tuple[str, list[str], int]:
    fingerprint = page.select_one("article.guide")["data-fingerprint"]
    materials = [li.select_one(".material-name").contents[0].strip() for li in page.select("li.material")]
    trips = int(page.select_one(".facts dd strong.big").get_text())
    return fingerprint, materials, trips


def markdown_facts(text: str) -> tuple[str, list[str], int]:
    (fingerprint,) = re.findall(r"`([0-9a-f]{64})`", text)
    section = text.split("\n## 申请材料")[1].split("\n## ")[0]
    materials = re.findall(r"^\d+\. \*\*(.+?)\*\*", section, re.M)
    trips = int(re.search(r"^- \*\*到办事现场次数\*\*：(\d+) 次", text, re.M).group(1))
    return fingerprint, materials, trips


async def test_every_channel_shows_the_same_guide_for_every_seeded_item(client):
    from datetime import UTC, datetime

    from registry import screens
    from registry.access import Actor

    items = read_seeds(SEEDS).items
    # One counter screen showing every seeded guide: its slides are the screen channel.
    await screens.save_window(
        Actor(None, "admin", "admin"),
        code="ALL",
        name="全部",
        hall="测试",
        interval_seconds=20,
        item_codes=[i.code for i in items],
        now=datetime.now(UTC),
    )
    screen = soup(await client.get("/screen/ALL", headers={"HX-Request": "true"}))
    slides = {s.select_one("article.guide")["data-fingerprint"]: s for s in screen.select("section.slide")}
    for item in items:
        code = item.code
        hall = soup(await client.get(f"/g/{code}"))
        printed_response = await client.get(f"/g/{code}/print")
        printed = soup(printed_response)
        data = await client.get(f"/g/{code}/guide.json")
        markdown = await client.get(f"/g/{code}/guide.md")
        guide = Guide.from_json(data.content)
        from_json = (
            hashlib.sha256(data.content).hexdigest(),
            [m.name for m in guide.materials],
            guide.trips,
        )
        assert hall_facts(hall) == from_json, code
        assert hall_facts(printed) == from_json, code
        assert hall_facts(slides[from_json[0]]) == from_json, code
        assert markdown_facts(markdown.text) == from_json, code
        assert printed.select_one(".print-foot code.check-code").get_text() == check_code(from_json[0]), code
        assert hall.select_one(".guide-meta .check-code").get_text() == check_code(from_json[0]), code
        ld = json.loads(hall.select_one('script[type="application/ld+json"]').string)
        assert ld["subjectOf"]["identifier"]["value"] == from_json[0], code
        assert {r.headers["x-content-fingerprint"] for r in (printed_response, data, markdown)} == {
            from_json[0]
        }, code
        assert from_json[2] == item.content.trips and len(from_json[1]) == len(item.content.materials)
