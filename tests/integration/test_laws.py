"""/laws, /api/laws, and an admin's record of a repeal: tasks for editors, a notice on the guide."""

from __future__ import annotations

import pytest

from registry.tables import ServiceItem
from registry.users import create_user
from tests.integration.test_staff_pages import CODE, NOW, PASSWORD, csrf, login, people, soup  # noqa: F401


@pytest.fixture
async def admin(people):  # noqa: F811
    await create_user("root", role="admin", password=PASSWORD, now=NOW)
    return people


async def test_laws_page_and_json_list_documents_with_citing_items_and_articles(small_client):
    page = await small_client.get("/laws")
    assert page.status_code == 200
    law = soup(page).select_one("article#company-law")
    assert "中华人民共和国公司法" in law.get_text()
    cited = {a["href"].rsplit("/", 1)[-1] for a in law.select(".law-items a")}
    assert cited == {"650100-SGSJ-001", "650100-SGSJ-002", "650102-TSQ-001"}
    assert "第六条" in law.get_text()
    data = (await small_client.get("/api/laws")).json()
    doc = next(d for d in data["documents"] if d["code"] == "company-law")
    assert doc["kind"] == "法律" and doc["repealed_on"] is None
    assert sorted(i["code"] for i in doc["items"]) == sorted(cited)
    assert {i["articles"] for i in doc["items"] if i["code"] == "650102-TSQ-001"} == {"第六条"}
    assert doc["cited_by"] == 3
    one = (await small_client.get("/api/laws/company-law")).json()
    assert one["code"] == "company-law" and sorted(i["code"] for i in one["items"]) == sorted(cited)
    assert (await small_client.get("/api/laws/no-such-law")).status_code == 404


async def test_a_repeal_flags_citing_items_until_reviewed(small_client, admin):
    await login(small_client, "root")
    form = await small_client.get("/staff/laws/")
    bad = await small_client.post(
        "/staff/laws/company-law", data={"_csrf_token": csrf(form), "kind": "repealed", "on": "2026-13-01"}
    )
    assert bad.status_code == 400
    assert await ServiceItem.count().where(ServiceItem.review_flag != "") == 0
    done = await small_client.post(
        "/staff/laws/company-law",
        data={"_csrf_token": csrf(form), "kind": "repealed", "on": "2026-11-01"},
        follow_redirects=False,
    )
    assert done.status_code in (302, 303)
    assert await ServiceItem.count().where(ServiceItem.review_flag != "") == 3
    guide = await small_client.get(f"/g/{CODE}")
    assert "设定依据已修订或废止" in guide.text
    assert (await small_client.get("/api/laws")).json()["documents"][0]["repealed_on"] == "2026-11-01"

    await login(small_client, "li")
    inbox = await small_client.get("/staff/inbox")
    flagged = soup(inbox).select("tr.inbox-flagged")
    assert [r.select_one("small").get_text() for r in flagged] == ["650100-SGSJ-001", "650100-SGSJ-002"]
    assert "设定依据已修订/废止，请复核" in flagged[0].get_text()
    await small_client.post(f"/staff/items/{CODE}/reviewed", data={"_csrf_token": csrf(inbox)})
    assert "设定依据已修订或废止" not in (await small_client.get(f"/g/{CODE}")).text
    assert await ServiceItem.count().where(ServiceItem.review_flag != "") == 2


async def test_only_admins_record_law_changes(small_client, people):  # noqa: F811
    await login(small_client, "li")
    form = await small_client.get("/staff/laws/")
    refused = await small_client.post(
        "/staff/laws/company-law", data={"_csrf_token": csrf(form), "kind": "repealed", "on": "2026-11-01"}
    )
    assert refused.status_code == 403
    assert await ServiceItem.count().where(ServiceItem.review_flag != "") == 0
