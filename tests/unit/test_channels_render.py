"""Rendering every channel of a guide, without a database: the guides/ library on its own."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup

from guides import Guide, canonical_json, fingerprint
from guides.channels import CHANNELS, json_ld, render
from guides.labels import check_code
from guides.qr import qr_svg
from guides.snapshot import replace
from guides.templating import make_environment
from guides.urls import StaticUrls, Urls
from registry.seeding import department_ref, read_seeds
from registry.snapshot import Catalogue, DocumentInfo, MaterialInfo, build_guide
from tests.conftest import SEEDS, SMALL_SEEDS

URLS = Urls("https://zwfw.example.cn")


def seeded_guides(root) -> list[Guide]:
    bundle = read_seeds(root)
    catalogue = Catalogue(
        materials={m.code: MaterialInfo(m.code, m.name, m.kind, m.issuer) for m in bundle.materials},
        documents={
            d.code: DocumentInfo(d.code, d.title, d.kind, d.issuer, d.number) for d in bundle.documents
        },
    )
    departments = {d.code: d for d in bundle.departments}
    guides = []
    for item in bundle.items:
        d = departments[item.department]
        ref = department_ref(
            {"code": d.code, "name": d.name, "short_name": d.short_name, "level": d.level, "region": d.region}
        )
        guides.append(
            build_guide(
                code=item.code,
                item_type=item.item_type,
                department=ref,
                version=1,
                content=item.content,
                catalogue=catalogue,
                published_at=datetime(2026, 11, 20, 2, 30, tzinfo=UTC),
            )
        )
    return guides


@pytest.fixture(scope="module")
def env():
    environment = make_environment()
    environment.globals["urls"] = URLS  # as the web app does
    return environment


@pytest.fixture(scope="module")
def guide() -> Guide:
    return seeded_guides(SMALL_SEEDS)[0]


def test_every_channel_renders_every_seeded_guide_under_strict_undefined(env):
    for g in seeded_guides(SEEDS):
        fp = fingerprint(g)
        for channel in CHANNELS.values():
            body = render(channel, g, fp, URLS, env)
            assert body, (channel.name, g.code)
            if channel.template:
                assert fp.encode() in body, (channel.name, g.code)


def test_json_channel_is_exactly_the_canonical_form(env, guide):
    body = render(CHANNELS["json"], guide, fingerprint(guide), URLS, env)
    assert body == canonical_json(guide)
    assert Guide.from_json(body) == guide


def test_qr_channels_encode_the_stable_address_only(env, guide):
    body = render(CHANNELS["qr_svg"], guide, fingerprint(guide), URLS, env)
    assert body == qr_svg("https://zwfw.example.cn/g/650100-SGSJ-001")
    newer = replace(guide, version=2, trips=1, name="新名称")
    assert render(CHANNELS["qr_svg"], newer, fingerprint(newer), URLS, env) == body
    assert render(CHANNELS["qr_png"], newer, fingerprint(newer), URLS, env) == render(
        CHANNELS["qr_png"], guide, fingerprint(guide), URLS, env
    )


def test_markdown_carries_fingerprint_materials_in_order_and_trips(env, guide):
    fp = fingerprint(guide)
    text = render(CHANNELS["markdown"], guide, fp, URLS, env).decode()
    assert text.startswith(f"# {guide.name}\n")
    assert f"`{fp}`" in text
    assert re.findall(r"^\d+\. \*\*(.+?)\*\*", text.split("## 申请材料")[1].split("\n## ")[0], re.M) == [
        m.name for m in guide.materials
    ]
    assert f"**到办事现场次数**：{guide.trips} 次" in text
    assert "<https://zwfw.example.cn/g/650100-SGSJ-001>" in text
    assert "&lt;" not in text and "&#" not in text  # Markdown is not HTML-escaped


def test_print_page_is_standalone_with_qr_and_open_faq(env, guide):
    fp = fingerprint(guide)
    page = BeautifulSoup(render(CHANNELS["print"], guide, fp, URLS, env), "html.parser")
    assert page.html["lang"] == "zh-CN"
    assert page.select_one(".site-header, .site-nav") is None  # no navigation
    assert page.select_one("article.guide")["data-fingerprint"] == fp
    assert all(d.has_attr("open") for d in page.select("details.faq"))
    assert page.select(".print-foot svg.qr path")
    foot = page.select_one(".print-foot").get_text(" ", strip=True)
    assert check_code(fp) in foot and "第 1 版" in foot and "2026-11-20 10:30" in foot
    assert "https://zwfw.example.cn/g/650100-SGSJ-001" in foot
    sheets = [link["href"] for link in page.select("link[rel=stylesheet]")]
    assert sheets == ["/static/css/site.css", "/static/css/print.css"]


def test_json_ld_describes_the_government_service(guide):
    fp = fingerprint(guide)
    data = json_ld(guide, fp, URLS)
    assert data["@context"] == "https://schema.org" and data["@type"] == "GovernmentService"
    assert data["name"] == guide.name
    assert data["serviceType"] == guide.item_type
    assert data["identifier"] == guide.code
    assert data["url"] == "https://zwfw.example.cn/g/650100-SGSJ-001"
    assert data["provider"]["@type"] == "GovernmentOrganization"
    assert data["provider"]["name"] == guide.department.name
    assert data["areaServed"]["name"] == "乌鲁木齐市"
    fingerprint_value = data["subjectOf"]["identifier"]
    assert fingerprint_value == {
        "@type": "PropertyValue",
        "propertyID": "SHA-256",
        "name": "内容指纹",
        "value": fp,
    }
    assert data["subjectOf"]["url"] == "https://zwfw.example.cn/g/650100-SGSJ-001/guide.json"
    # The static export's relative URL builder gives the same absolute data.
    assert json_ld(guide, fp, StaticUrls(URLS.public_url, root="../../")) == data


def test_editors_text_cannot_close_the_json_ld_script(env, guide):
    hostile = replace(guide, name='证明</script><script>alert("x")</script>', summary="a & b <!--")
    fp = fingerprint(hostile)
    html = render(CHANNELS["hall"], hostile, fp, URLS, env).decode()
    page = BeautifulSoup(html, "html.parser")
    assert not [s for s in page.find_all("script") if "alert" in s.get_text() and not s.get("type")]
    (ld,) = page.select('script[type="application/ld+json"]')
    assert "</" not in ld.string
    assert json.loads(ld.string) == json.loads(json.dumps(json_ld(hostile, fp, URLS)))


def test_static_urls_are_relative_and_mirror_every_method():
    site = StaticUrls("https://zwfw.example.cn").at(2)
    assert site.guide("650100-SGSJ-001") == "../../g/650100-SGSJ-001/index.html"
    assert site.print("650100-SGSJ-001") == "../../g/650100-SGSJ-001/print.html"
    assert site.qr_svg("X") == "../../g/X/qr.svg" and site.qr_png("X") == "../../g/X/qr.png"
    assert site.guide_json("X") == "../../g/X/guide.json" and site.guide_md("X") == "../../g/X/guide.md"
    assert site.static("css/site.css") == "../../static/css/site.css"
    assert site.items(department="SGSJ") == "../../departments/SGSJ.html"
    assert site.items(trips="0") == site.home() == "../../index.html"
    # What a QR code and a printed page carry stays absolute, and equal to the live site's.
    assert site.guide_absolute("X") == Urls("https://zwfw.example.cn").guide_absolute("X")
    live = {n for n in dir(Urls) if not n.startswith("_") and callable(getattr(Urls, n))}
    overridden = {n for n in live if getattr(StaticUrls, n) is not getattr(Urls, n)}
    # every site path has a relative twin; absolute addresses are the same everywhere
    assert live - overridden == {"guide_absolute", "guide_printed", "notice_absolute", "map"}
    # notices are made by the live site: a static page links there
    assert site.notice("X", {"agent": "yes"}) == "https://zwfw.example.cn/g/X/notice?agent=yes"


def test_live_urls_for_every_channel():
    assert URLS.print("A-1") == "/g/A-1/print"
    assert URLS.qr_svg("A-1") == "/g/A-1/qr.svg" and URLS.qr_png("A-1") == "/g/A-1/qr.png"
    assert URLS.guide_json("A-1") == "/g/A-1/guide.json" and URLS.guide_md("A-1") == "/g/A-1/guide.md"
    assert Urls("http://localhost:8000/").guide_absolute("A-1") == "http://localhost:8000/g/A-1"
