"""情形引导 on the guide page, the one-time notice (HTML, JSON, QR) and counter mode, over the
real seeds."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup

from registry.seeding import read_seeds
from tests.conftest import SEEDS

CODE = "650100-SGSJ-002"  # 个体工商户设立登记: 是否委托他人办理？ → 授权委托书, 受托人身份证


def soup(response) -> BeautifulSoup:
    assert response.status_code == 200, response.text[:500]
    return BeautifulSoup(response.text, "html.parser")


def test_at_least_twenty_seeded_items_have_questions_that_change_their_materials():
    changing = 0
    for item in read_seeds(SEEDS).items:
        content = item.content
        if content.situations and any(m.when for m in content.materials):
            changing += 1
    assert changing >= 20


async def test_the_guide_asks_its_questions_in_a_plain_get_form(client):
    page = soup(await client.get(f"/g/{CODE}"))
    form = page.select_one("#situations form")
    assert form["method"] == "get" and form["action"] == f"/g/{CODE}/notice"
    assert form["hx-get"] == f"/g/{CODE}/notice" and form["hx-select"] == "#notice-list"
    radios = form.select("input[type=radio][name=agent]")
    assert [r["value"] for r in radios] == ["self", "agent"]
    assert page.select_one("#my-notice") is not None


async def test_the_notice_lists_only_what_my_answers_need(client):
    alone = soup(await client.get(f"/g/{CODE}/notice?agent=self"))
    agent = soup(await client.get(f"/g/{CODE}/notice?agent=agent"))
    names = lambda page: [s.get_text() for s in page.select("#notice-list .checklist li strong")]  # noqa: E731
    assert "授权委托书" not in names(alone)
    assert "授权委托书" in names(agent)
    assert len(names(agent)) == len(names(alone)) + 2
    assert all(box.find_next_sibling("label") for box in agent.select(".checklist input[type=checkbox]"))
    # its own QR code and printed address carry the answers
    address = agent.select_one(".print-address").get_text()
    assert urlsplit(address).path == f"/g/{CODE}/notice"
    assert parse_qs(urlsplit(address).query) == {"agent": ["agent"]}
    assert agent.select_one(".print-qr svg") is not None
    assert agent.select_one("button[data-print]") is not None
    assert re.fullmatch(r"[0-9A-F]{4}-[0-9A-F]{4}", agent.select_one(".check-code").get_text())


async def test_the_same_list_as_json(client):
    html = soup(await client.get(f"/g/{CODE}/notice?agent=agent&bogus=1"))
    response = await client.get(f"/g/{CODE}/notice.json?agent=agent&bogus=1")
    assert response.headers["content-type"].startswith("application/json")
    data = response.json()
    assert [m["name"] for m in data["materials"]] == [
        s.get_text() for s in html.select("#notice-list .checklist li strong")
    ]
    assert data["answers"] == [
        {"question": "agent", "text": "是否委托他人办理？", "answer": "agent", "label": "委托他人办理"}
    ]
    assert data["address"].endswith(f"/g/{CODE}/notice?agent=agent")  # unknown parameters dropped
    api = (await client.get(f"/api/items/{CODE}")).json()
    assert data["fingerprint"] == api["fingerprint"]


async def test_unanswered_questions_keep_every_material_and_ask_again(client):
    page = soup(await client.get(f"/g/{CODE}/notice"))
    assert "授权委托书" in page.select_one("#notice-list").get_text()
    assert page.select_one(".notice-answers form input[name=agent]") is not None


async def test_counter_mode_marks_missing_and_deferred_materials(client):
    counter = soup(await client.get(f"/g/{CODE}/counter?agent=agent"))
    form = counter.select_one("form.counter-form")
    assert form["action"] == f"/g/{CODE}/notice"
    select = form.select_one("select[name=m-power-of-attorney]")
    assert select["aria-label"].endswith("授权委托书")
    assert form.select_one("input[name=agent][value=agent]").has_attr("checked")
    query = (
        "agent=agent&m-id-card=brought&m-premises-proof=missing"
        "&m-power-of-attorney=deferred&due-power-of-attorney=2026-12-04"
    )
    notice = soup(await client.get(f"/g/{CODE}/notice?{query}"))
    alerts = notice.select(".notice-alert")
    assert "缺少 1 项" in alerts[0].get_text()
    assert "《授权委托书》2026-12-04 前" in alerts[1].get_text()
    assert notice.select_one(".mark-brought input")["checked"] is not None
    assert "m-premises-proof=missing" in notice.select_one(".print-address").get_text()


async def test_unknown_items_are_404_here_too(client):
    assert (await client.get("/g/650100-NOPE-999/notice")).status_code == 404
    assert (await client.get("/g/650100-NOPE-999/notice.json")).status_code == 404
