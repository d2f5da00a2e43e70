"""The in-memory names behind typo search follow publication and withdrawal; as-you-type requests
are never counted as misses; staff search finds editions in the works (for those who may see
them); the topic links show how many items they list."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from bs4 import BeautifulSoup

from guides.snapshot import replace
from registry.editions import commands, store
from registry.search import names, vocabulary
from registry.search.query import SearchParams, search
from registry.tables import SearchMiss, SearchTopic, ServiceItem
from registry.users import actor, create_user
from registry.workdays import Calendar

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=CST)
CALENDAR = Calendar.load()
CODE = "650100-SGSJ-001"  # small_seeds: 有限责任公司设立登记
PASSWORD = "correct horse battery"
NEW_NAME = "高危险性体育项目游泳场所经营许可"
TYPO = "游永场所"  # 游泳场所 with a wrong character: no word of it is in any name


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def codes(response) -> list[str]:
    return [a["href"].rsplit("/", 1)[-1] for a in soup(response).select("a.hit-name")]


@pytest.fixture
async def people(small_db):
    async def make(name, role, departments=None):
        uid = await create_user(name, role=role, password=PASSWORD, departments=departments, now=NOW)
        return await actor(uid)

    return {
        "editor": await make("li", "editor", ["SGSJ"]),
        "other": await make("wang", "editor", ["TSQ"]),
        "reviewer": await make("zhao", "reviewer"),
    }


async def renamed(name: str):
    item = await ServiceItem.select().where(ServiceItem.code == CODE).first()
    return replace(await store.edition_content(item["current_edition"]), name=name, effective_at=NOW.date())


async def draft(people, name: str) -> None:
    await commands.save_draft(people["editor"], CODE, await renamed(name), base_lock_version=None, now=NOW)


async def publish_open(people) -> None:
    await commands.submit(people["editor"], CODE, change_note="更名", effective_at=None, now=NOW)
    await commands.approve(people["reviewer"], CODE, effective_at=None, now=NOW, calendar=CALENDAR)


# ---- typo names ----------------------------------------------------------------------------


async def test_a_typo_finds_a_name_once_published_and_not_after_withdrawal(small_client, people):
    async def typo_codes() -> list[str]:
        response = await small_client.get("/search", params={"q": TYPO})
        assert response.status_code == 200
        return codes(response) if "名称相近" in response.text else []

    assert await typo_codes() == []
    await draft(people, NEW_NAME)
    assert await typo_codes() == []  # a draft is not public
    await publish_open(people)
    assert await typo_codes() == [CODE]  # the page's cached names were rebuilt for the new head
    results = await search(SearchParams(q=TYPO), await vocabulary.load())  # without cached names
    assert results.mode == "typo" and [h.code for h in results.hits] == [CODE]
    assert NEW_NAME in (await names.load()).close(TYPO)

    await commands.request_withdrawal(people["editor"], CODE, now=NOW)
    await publish_open(people)
    assert await typo_codes() == []
    assert (await names.load()).close(TYPO) == []


async def test_typo_results_keep_the_filters(small_client, people):
    await draft(people, NEW_NAME)
    await publish_open(people)
    vocab = await vocabulary.load()
    index = await names.load()
    assert [h.code for h in (await search(SearchParams(q=TYPO, level="city"), vocab, names=index)).hits] == [
        CODE
    ]
    assert (await search(SearchParams(q=TYPO, level="district"), vocab, names=index)).total == 0


# ---- misses: only what people searched for, not what they were typing ------------------------------


async def test_live_searches_are_not_counted_as_misses(client):
    live = {"HX-Request": "true", "X-Search-Live": "1"}
    for partial in ("火星", "火星签", "火星签证"):
        response = await client.get("/search", params={"q": partial}, headers=live)
        assert response.status_code == 200 and "<html" not in response.text
    assert await SearchMiss.count() == 0
    await client.get("/search", params={"q": "火星签证"}, headers={"HX-Request": "true"})  # submitted (htmx)
    await client.get("/search", params={"q": "火星签证"})  # submitted without JavaScript, or shared
    rows = await SearchMiss.select(SearchMiss.query, SearchMiss.hits)
    assert rows == [{"query": "火星签证", "hits": 2}]


async def test_the_search_box_marks_its_as_you_type_requests(client):
    page = soup(await client.get("/search"))
    box = page.select_one("form#search-form input#q")
    assert box["hx-trigger"].startswith("input") and "X-Search-Live" in box["hx-headers"]
    form = page.select_one("form#search-form")
    assert "input" not in form["hx-trigger"]  # the form itself sends submitted searches only


# ---- staff search over editions in the works ------------------------------------------------------


async def login(client, username: str) -> None:
    page = await client.get("/login")
    token = soup(page).select_one("input[name=_csrf_token]")["value"]
    response = await client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "next": "/staff", "_csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303)


def draft_codes(response) -> list[str]:
    return [a["href"].rsplit("/", 1)[-1] for a in soup(response).select(".open-editions a.draft-name")]


async def test_staff_search_finds_drafts_for_those_who_may_see_them(small_client, people):
    await draft(people, NEW_NAME)
    assert codes(await small_client.get("/search", params={"q": "游泳场所"})) == []  # not public
    await login(small_client, "li")  # the department's editor
    for query in ("游泳场所", NEW_NAME, "游泳 许可", "yycs", CODE.lower()):
        response = await small_client.get("/staff/search/", params={"q": query})
        assert response.status_code == 200
        assert draft_codes(response) == [CODE], query
    assert (
        "草稿"
        in soup(await small_client.get("/staff/search/", params={"q": "游泳"}))
        .select_one(".open-editions .status")
        .get_text()
    )
    small_client.cookies.clear()
    await login(small_client, "wang")  # another department's editor
    assert draft_codes(await small_client.get("/staff/search/", params={"q": "游泳场所"})) == []
    small_client.cookies.clear()
    await login(small_client, "zhao")  # reviewers see every department's
    assert draft_codes(await small_client.get("/staff/search/", params={"q": "游泳场所"})) == [CODE]
    assert draft_codes(await small_client.get("/staff/search/", params={"q": "火星签证"})) == []


# ---- topics show their counts ------------------------------------------------------------------------


def count_line(response) -> str:
    return re.search(r"共 (\S+) 项", soup(response).select_one("p.count").get_text()).group(1)


TOPIC_LINKS = "ul.topic-grid:not(.event-row) a"  # the home page's life-event row is not a topic


async def test_topic_links_show_how_many_items_they_list(client):
    home = soup(await client.get("/"))
    topics = home.select(TOPIC_LINKS)
    links = {a["href"]: a.select_one(".topic-count").get_text() for a in topics}
    assert len(links) >= 10
    for href, count in links.items():
        assert count == f"{count_line(await client.get(href))} 项", href
    assert links["/search?topic=marriage"] == "3 项"


async def test_topic_counts_follow_publication(small_client, people):
    await SearchTopic.insert(SearchTopic(code="marriage", name="婚姻登记", terms="结婚|离婚", position=0))
    assert soup(await small_client.get("/")).select(TOPIC_LINKS) == []  # an empty topic is not offered
    await draft(people, "内地居民结婚登记")
    await publish_open(people)
    (link,) = soup(await small_client.get("/")).select(TOPIC_LINKS)
    assert link["href"] == "/search?topic=marriage" and link.select_one(".topic-count").get_text() == "1 项"
