"""The public site and the open-data API, over the real seeds/ and a small known fixture."""

from __future__ import annotations

from bs4 import BeautifulSoup

from registry.seeding import read_seeds
from registry.tables import ServiceItem
from tests.conftest import SEEDS


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


async def test_every_seeded_item_has_a_complete_guide(client):
    bundle = read_seeds(SEEDS)
    materials = {m.code: m.name for m in bundle.materials}
    documents = {d.code: d.title for d in bundle.documents}
    for item in bundle.items:
        response = await client.get(f"/g/{item.code}")
        assert response.status_code == 200, item.code
        page = soup(response)
        assert page.html["lang"] == "zh-CN"
        assert page.select_one("h1.guide-title").get_text(strip=True) == item.content.name
        shown = [li.select_one(".material-name").contents[0].strip() for li in page.select("li.material")]
        assert shown == [materials[m.material] for m in item.content.materials], item.code
        cited = page.select_one("#legal-basis").get_text()
        for ref in item.content.legal_basis:
            assert f"《{documents[ref.document]}》" in cited, item.code


async def test_guide_shows_facts_and_fingerprint(small_client):
    response = await small_client.get("/g/650100-SGSJ-001")
    page = soup(response)
    article = page.select_one("article.guide")
    fingerprint = article["data-fingerprint"]
    assert len(fingerprint) == 64
    # citizens compare a short 校验码 (the fingerprint's first 8 hex digits), explained beside it
    assert page.select_one(".guide-meta code.check-code").get_text() == (
        f"{fingerprint[:4].upper()}-{fingerprint[4:8].upper()}"
    )
    assert fingerprint not in page.select_one(".guide-meta").get_text()
    assert "校验码相同" in page.select_one(".check-note").get_text()
    facts = page.select_one(".facts").get_text(" ", strip=True)
    assert "0 次" in facts and "3 个工作日" in facts and "不收费" in facts
    assert page.select_one(".tag-waive") is not None  # 居民身份证 can be waived
    assert "委托他人办理的" in page.select_one("#materials").get_text()
    api = (await small_client.get("/api/items/650100-SGSJ-001")).json()
    assert api["fingerprint"] == fingerprint


async def test_unknown_item_is_a_chinese_404(small_client):
    response = await small_client.get("/g/650100-NOPE-999")
    assert response.status_code == 404
    assert "没有找到编码为“650100-NOPE-999”的服务事项" in response.text
    assert soup(response).html["lang"] == "zh-CN"


async def test_lower_case_code_redirects_to_the_stable_address(small_client):
    response = await small_client.get("/g/650100-sgsj-001", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == "/g/650100-SGSJ-001"


async def test_withdrawn_item_is_a_410_notice(small_client):
    await ServiceItem.update({ServiceItem.withdrawn: True}).where(ServiceItem.code == "650100-SGSJ-002")
    response = await small_client.get("/g/650100-SGSJ-002")
    assert response.status_code == 410
    assert "已取消" in response.text and "企业名称预先核准" in response.text
    listed = (await small_client.get("/api/items")).json()
    assert "650100-SGSJ-002" not in [i["code"] for i in listed["items"]]


async def test_item_list_filters_by_department_level_and_trips(small_client):
    def codes(response):
        return [a["href"].rsplit("/", 1)[-1] for a in soup(response).select("a.item-name")]

    assert codes(await small_client.get("/items")) == [
        "650100-SGSJ-001",
        "650100-SGSJ-002",
        "650102-TSQ-001",
    ]
    assert codes(await small_client.get("/items?department=TSQ")) == ["650102-TSQ-001"]
    assert codes(await small_client.get("/items?level=city")) == [
        "650100-SGSJ-001",
        "650100-SGSJ-002",
    ]
    assert codes(await small_client.get("/items", params={"trips": "2+"})) == ["650102-TSQ-001"]
    assert codes(await small_client.get("/items?trips=0&level=city")) == ["650100-SGSJ-001"]


async def test_item_list_htmx_request_gets_only_the_results(small_client):
    full = await small_client.get("/items?trips=1")
    partial = await small_client.get("/items?trips=1", headers={"HX-Request": "true"})
    assert "<html" in full.text and "<html" not in partial.text
    assert soup(partial).select("a.item-name")[0]["href"] == "/g/650100-SGSJ-002"
    assert "HX-Request" in partial.headers["vary"]
    # Without JavaScript the same filter is a plain GET form.
    form = soup(full).select_one("form.filters")
    assert form["method"] == "get" and form["action"] == "/items"


async def test_bad_filters_get_a_clear_message_not_a_500(small_client):
    page = await small_client.get("/items?level=province&trips=9&department=NOPE&page=x")
    assert page.status_code == 400
    alert = soup(page).select_one(".alert").get_text()
    assert "层级应为" in alert and "到现场次数应为" in alert and "NOPE" in alert
    api = await small_client.get("/api/items?level=province")
    assert api.status_code == 400
    assert api.json()["error"]["fields"][0]["field"] == "level"


async def test_api_items_paginates_with_next_links(small_client, small_db):
    small_client.app.state.settings = small_db.settings
    first = (await small_client.get("/api/items?level=city")).json()
    assert first["total"] == 2
    item = first["items"][0]
    assert item["code"] == "650100-SGSJ-001"
    assert item["department"] == {
        "code": "SGSJ",
        "name": "乌鲁木齐市工商行政管理局",
        "level": "city",
    }
    assert item["trips"] == 0 and item["online_depth"] == 4 and len(item["fingerprint"]) == 64


async def test_api_pagination_walks_every_seeded_item(client):
    seen: list[str] = []
    url: str | None = "/api/items"
    while url:
        page = (await client.get(url)).json()
        seen += [i["code"] for i in page["items"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == page["total"] >= 80


async def test_api_departments_and_home_counts(small_client):
    departments = {d["code"]: d for d in (await small_client.get("/api/departments")).json()}
    assert departments["SGSJ"]["items"] == 2 and departments["SGSJ"]["at_most_once"] == 2
    assert departments["TSQ"]["items"] == 1 and departments["TSQ"]["at_most_once"] == 0
    home = soup(await small_client.get("/"))
    stats = [s.get_text(strip=True) for s in home.select(".stat strong")]
    assert stats == ["3", "67%", "1"]


async def test_openapi_schema_and_health(small_client):
    schema = (await small_client.get("/schema/openapi.json")).json()
    assert {"/api/items", "/api/items/{code}", "/api/departments"} <= set(schema["paths"])
    ui = await small_client.get("/schema")
    assert ui.status_code == 200
    assert "cdn" not in ui.text.lower()  # the halls' networks are closed: vendored assets only
    assert (await small_client.get("/healthz")).json() == {"status": "ok"}


async def test_public_pages_set_no_cookies(small_client):
    for path in ("/", "/items", "/g/650100-SGSJ-001", "/api/items"):
        response = await small_client.get(path)
        assert "set-cookie" not in response.headers, path
    login = await small_client.get("/login")
    assert "onetrip_csrf" in login.headers.get("set-cookie", "")
