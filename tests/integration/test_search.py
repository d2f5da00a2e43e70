"""Search over the real seeds and the small fixture, on both databases: every seeded item is
found by its name, its pinyin initials and a colloquial term; the index follows every kind of
change; misses are counted; bad parameters are a 400 in Chinese; highlighting adds no markup."""

from __future__ import annotations

import io
import tomllib
from datetime import date, datetime, timedelta, timezone

import pytest
from bs4 import BeautifulSoup
from pypinyin import Style, lazy_pinyin

from guides.snapshot import replace
from registry import spreadsheets
from registry.access import SYSTEM
from registry.editions import commands, publication, store
from registry.search import index as search_index
from registry.search import vocabulary
from registry.search.query import PAGE_SIZE, SearchParams, search
from registry.seeding import load_seeds, read_seeds
from registry.tables import Department, SearchEntry, SearchMiss, ServiceItem
from registry.users import actor, create_user
from registry.workdays import Calendar
from tests.conftest import SEEDS, SMALL_SEEDS

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=CST)
CALENDAR = Calendar.load()
CODE = "650100-SGSJ-001"  # small_seeds: 有限责任公司设立登记


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def codes(response) -> list[str]:
    return [a["href"].rsplit("/", 1)[-1] for a in soup(response).select("a.hit-name")]


def initials(name: str) -> str:
    """What a person types for a name in pinyin initials (pypinyin on the whole name, not the
    index's own per-word computation)."""
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()


def colloquial_terms() -> dict[str, list[str]]:
    """item name -> what citizens call it (a term of seeds/synonyms.toml whose meaning is part
    of the name and which is not itself part of the name)."""
    data = tomllib.loads((SEEDS / "synonyms.toml").read_text(encoding="utf-8"))
    names = [i.content.name for i in read_seeds(SEEDS).items]
    found: dict[str, list[str]] = {}
    for entry in data["synonym"]:
        for name in names:
            if any(m.lower() in name.lower() for m in entry["means"]):
                found.setdefault(name, []).extend(t for t in entry["terms"] if t not in name)
    return found


# ---- every seeded item ---------------------------------------------------------------------


async def test_every_seeded_item_is_found_by_name_initials_and_a_colloquial_term(client):
    items = read_seeds(SEEDS).items
    terms = colloquial_terms()
    missed: dict[str, list[str]] = {"name": [], "initials": [], "colloquial": []}
    for item in items:
        name = item.content.name
        if item.code not in codes(await client.get("/search", params={"q": name})):
            missed["name"].append(name)
        if item.code not in codes(await client.get("/search", params={"q": initials(name)})):
            missed["initials"].append(f"{name} ({initials(name)})")
        said = terms.get(name, [])
        if not said or item.code not in codes(await client.get("/search", params={"q": said[0]})):
            missed["colloquial"].append(f"{name} ({said[:1]})")
    assert missed == {"name": [], "initials": [], "colloquial": []}


async def test_words_people_type(client):
    expectations = {
        "身份证": "650100-SGAJ-001",
        "户口": "650100-SGAJ-002",
        "驾照": "650100-SGAJ-006",
        "开个体户": "650100-SGSJ-002",
        "社保": "650104-XSQ-001",
        "医保": "650109-MDQ-001",
        "结婚": "650102-TSQ-001",
        "jiehun": "650102-TSQ-001",
        "gsdj": "650100-SGSJ-001",
        "怎么换驾照": "650100-SGAJ-006",
        "生孩子": "650104-XSQ-002",
        "650100-sgaj-004": "650100-SGAJ-004",
        "SGAJ-004": "650100-SGAJ-004",
    }
    for query, code in expectations.items():
        found = codes(await client.get("/search", params={"q": query}))
        assert code in found[:5], (query, found[:5])


async def test_name_matches_rank_before_summary_and_materials(client):
    found = codes(await client.get("/search", params={"q": "身份证"}))
    assert found[0] == "650100-SGAJ-001"  # the name; dozens of items ask for a 居民身份证
    assert len(found) == PAGE_SIZE


@pytest.mark.parametrize("q", ["登记", "身份证"])
async def test_tiers_beyond_the_count_cap_page_without_gaps_or_repeats(seeded_db, monkeypatch, q):
    """At 100 000 items a common word's tier holds thousands of entries: beyond COUNT_CAP they
    are listed in table order on PostgreSQL, read by a walk of the table or by the GIN bitmap,
    whichever is cheaper. Small caps make the seeds such a registry: either way the same pages,
    each continuing where the last stopped, name matches first (on both engines)."""
    from registry.search import query

    monkeypatch.setattr(query, "COUNT_CAP", 8)
    monkeypatch.setattr(query, "RANK_CAP", 3)
    v = await vocabulary.load()
    listed = {}
    for walk in (True, False):
        monkeypatch.setattr(query, "_walk_is_cheaper", lambda need, block, blocks, walk=walk: walk)
        hits = []
        for page in range(1, 6):
            results = await search(SearchParams(q=q, page=page), v, page_size=4)
            assert results.total > 8 and results.total_label == "8+"
            hits += results.hits
        listed[walk] = [h.code for h in hits]
        assert len(set(listed[walk])) == len(hits) >= 12
        in_name = [q in h.name for h in hits]
        assert in_name == sorted(in_name, reverse=True) and in_name[0]
    assert listed[True] == listed[False]


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("结昏登记", "650102-TSQ-001"),  # a wrong character
        ("居民身证换领", "650100-SGAJ-001"),  # a missing character
        ("居住正申领", "650100-SGAJ-004"),
    ],
)
async def test_a_wrong_or_missing_character_is_tolerated(client, typed, code):
    response = await client.get("/search", params={"q": typed})
    assert code in codes(response)[:3]
    if typed == "结昏登记":  # found by its characters, and said so
        assert "名称相近" in response.text


async def test_filters_combine_with_the_query(client):
    assert set(codes(await client.get("/search", params={"q": "结婚登记", "department": "TSQ"}))) == {
        "650102-TSQ-001"
    }
    district = codes(await client.get("/search", params={"q": "企业投资项目备案", "level": "district"}))
    assert district and all(not c.startswith("650100-") for c in district)
    for code in codes(await client.get("/search", params={"q": "登记", "trips": "0"})):
        assert (await client.get(f"/api/items/{code}")).json()["trips"] == 0
    marriage = codes(await client.get("/search", params={"topic": "marriage"}))
    assert set(marriage) == {"650102-TSQ-001", "650106-TTHQ-001", "650104-XSQ-003"}
    people = codes(await client.get("/search", params={"audience": "organisation", "type": "行政确认"}))
    assert "650100-SGTJ-001" in people and "650100-SGAJ-001" not in people


async def test_results_are_shareable_and_htmx_gets_the_same_block(client):
    full = await client.get("/search", params={"q": "驾照"})
    assert full.headers["vary"] == "HX-Request"
    form = soup(full).select_one("form#search-form")
    assert form["action"] == "/search" and form["hx-get"] == "/search" and form["method"] == "get"
    partial = await client.get("/search", params={"q": "驾照"}, headers={"HX-Request": "true"})
    assert partial.headers["vary"] == "HX-Request"
    assert "<html" not in partial.text
    assert codes(partial) == codes(full) == ["650100-SGAJ-006"]
    page2 = soup(await client.get("/search", params={"q": "登记"})).select_one("a[rel=next]")["href"]
    assert page2.startswith("/search?") and "page=2" in page2
    assert codes(await client.get(page2))


async def test_every_public_page_has_the_search_box(client):
    for path in ("/items", "/g/650100-SGAJ-001", "/metrics", "/g/650100-SGAJ-001/history"):
        box = soup(await client.get(path)).select_one("header form[role=search]")
        assert box is not None and box["action"] == "/search" and box.select_one("input[name=q]"), path
    home = soup(await client.get("/"))
    assert home.select_one("main form[role=search] input[name=q]") is not None
    assert [a.get_text() for a in home.select(".audiences a")] == ["个人办事", "法人办事"]
    assert len(home.select(".topic-grid a")) >= 10
    assert home.select_one("details.departments-all") is not None  # no longer fills the phone


# ---- highlighting and bad input --------------------------------------------------------------


async def test_highlighting_cannot_inject_markup(client):
    for query in ("<script>alert(1)</script>身份证", '"><img src=x onerror=alert(1)>', "<mark>驾照</mark>"):
        response = await client.get("/search", params={"q": query})
        page = soup(response)
        assert page.select("main script, main img") == []
        for mark in page.select("mark"):
            assert mark.find() is None  # a mark holds text only
        assert "<img src=x" not in response.text and "<script>alert" not in response.text
    marked = soup(await client.get("/search", params={"q": "驾照"})).select_one("a.hit-name mark")
    assert marked.get_text() == "机动车驾驶证"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"q": "身份\x00证"}, "q"),
        ({"q": "字" * 101}, "q"),
        ({"page": "²"}, "page"),
        ({"page": "0"}, "page"),
        ({"page": "99999999999999999999999"}, "page"),
        ({"level": "province"}, "level"),
        ({"trips": "3"}, "trips"),
        ({"type": "行政<b>"}, "type"),
        ({"department": "NOPE"}, "department"),
        ({"topic": "nope"}, "topic"),
    ],
)
async def test_bad_parameters_are_a_400_naming_the_field(client, query, field):
    response = await client.get("/search", params=query)
    assert response.status_code == 400
    assert soup(response).html["lang"] == "zh-CN"
    if "\x00" in query.get("q", ""):
        return  # refused app-wide before any handler (registry.web.params.check_request_input)
    errors = soup(response).select(".alert li")
    assert [e["data-field"] for e in errors] == [field]
    assert errors[0].get_text().strip()
    htmx = await client.get("/search", params=query, headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and soup(htmx).select(".alert li")


async def test_unknown_parameters_are_ignored(client):
    response = await client.get("/search", params={"q": "驾照", "utm_source": "wechat"})
    assert response.status_code == 200 and codes(response) == ["650100-SGAJ-006"]


# ---- what people could not find ----------------------------------------------------------


async def test_queries_without_result_are_counted(client):
    for _ in range(3):
        response = await client.get("/search", params={"q": "  火星签证 "})
        assert response.status_code == 200 and codes(response) == []
    await client.get("/search", params={"q": "驾照"})  # found: not counted
    await client.get("/search", params={"q": "火星签证", "level": "city"})  # filtered: not counted
    rows = await SearchMiss.select(SearchMiss.query, SearchMiss.hits)
    assert rows == [{"query": "火星签证", "hits": 3}]


async def test_a_miss_becomes_a_synonym(client, seeded_db):
    await client.get("/search", params={"q": "耍朋友证"})
    v = await vocabulary.load()
    assert (await search(SearchParams(q="耍朋友证"), v)).total == 0
    await vocabulary.save_synonym(vocabulary.SynonymForm(term="耍朋友证", means="结婚登记"), NOW)
    response = await client.get("/search", params={"q": "耍朋友证"})  # the head moved: not cached
    assert "650102-TSQ-001" in codes(response)


# ---- the index follows every change ------------------------------------------------------


@pytest.fixture
async def people(small_db):
    async def make(name, role, departments=None):
        uid = await create_user(
            name, role=role, password="correct horse battery", departments=departments, now=NOW
        )
        return await actor(uid)

    return {"editor": await make("li", "editor", ["SGSJ"]), "reviewer": await make("zhao", "reviewer")}


async def found(q: str, **filters) -> list[str]:
    results = await search(SearchParams(q=q, **filters), await vocabulary.load())
    return [h.code for h in results.hits] if results.found else []  # not "related" items


TODAY = NOW.date()


async def renamed(name: str, effective_at: date = TODAY):
    item = await ServiceItem.select().where(ServiceItem.code == CODE).first()
    content = await store.edition_content(item["current_edition"])
    return replace(content, name=name, effective_at=effective_at)


async def publish(people, content) -> dict:
    await commands.save_draft(people["editor"], CODE, content, base_lock_version=None, now=NOW)
    await commands.submit(people["editor"], CODE, change_note="更名", effective_at=None, now=NOW)
    return await commands.approve(
        people["reviewer"], CODE, effective_at=content.effective_at, now=NOW, calendar=CALENDAR
    )


async def test_seeding_indexes_every_current_item(small_db):
    assert await SearchEntry.count() == await ServiceItem.count() == 3
    assert await found("有限责任公司") == [CODE]


async def test_publication_updates_the_index(people):
    await commands.save_draft(
        people["editor"], CODE, await renamed("股份有限公司设立登记"), base_lock_version=None, now=NOW
    )
    assert await found("股份有限公司") == []  # a draft is not public
    await commands.submit(people["editor"], CODE, change_note="更名", effective_at=None, now=NOW)
    await commands.approve(people["reviewer"], CODE, effective_at=None, now=NOW, calendar=CALENDAR)
    assert await found("股份有限公司") == [CODE]
    assert await found("gfyxgs") == [CODE]
    assert await SearchEntry.count().where(SearchEntry.code == CODE) == 1


async def test_withdrawal_removes_the_item(people):
    await commands.request_withdrawal(people["editor"], CODE, now=NOW)
    await commands.submit(people["editor"], CODE, change_note="职能调整", effective_at=None, now=NOW)
    await commands.approve(people["reviewer"], CODE, effective_at=None, now=NOW, calendar=CALENDAR)
    assert await found("有限责任公司设立登记") == []
    assert await SearchEntry.count().where(SearchEntry.code == CODE) == 0


async def test_a_scheduled_edition_is_indexed_on_its_date(people):
    approved = await publish(people, await renamed("股份有限公司设立登记", date(2026, 12, 1)))
    assert approved["status"] == "scheduled"
    assert await found("股份有限公司") == []
    assert await found("有限责任公司") == [CODE]  # the current guide until then
    await publication.publish_due(now=datetime(2026, 12, 1, 0, 0, 30, tzinfo=CST))
    assert await found("股份有限公司") == [CODE]
    entry = await SearchEntry.select(SearchEntry.name).where(SearchEntry.code == CODE).first()
    assert entry["name"] == "股份有限公司设立登记"


async def test_a_failed_publication_leaves_the_index_as_it_was(people, monkeypatch):
    async def broken(**kwargs):
        raise RuntimeError("the change log is unavailable")

    monkeypatch.setattr(publication.changelog, "append", broken)
    with pytest.raises(RuntimeError):
        await publish(people, await renamed("股份有限公司设立登记"))
    assert await found("股份有限公司") == []  # rolled back with the publication
    assert await found("有限责任公司") == [CODE]


async def test_an_import_writes_drafts_and_leaves_the_index_alone(small_db, tmp_path):
    path = tmp_path / "items.xlsx"
    await spreadsheets.export_items_xlsx(path)
    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb["事项"]
    headers = {c.value: c.column for c in ws[1]}
    for row in ws.iter_rows(min_row=2):
        if row[headers["事项编码"] - 1].value == CODE:
            ws.cell(row=row[0].row, column=headers["事项名称"], value="股份有限公司设立登记")
    buffer = io.BytesIO()
    wb.save(buffer)
    plan = await spreadsheets.read_workbook(io.BytesIO(buffer.getvalue()))
    report = await spreadsheets.apply_import(plan, SYSTEM, NOW)
    assert report.problems == [] and any(o.action != "unchanged" for o in report.outcomes)
    assert await found("股份有限公司") == []  # imported drafts are not public
    assert await found("有限责任公司") == [CODE]


async def test_seed_update_and_department_rename_reach_the_index(small_db, tmp_path):
    import shutil

    folder = tmp_path / "seeds"
    shutil.copytree(SMALL_SEEDS, folder)
    items = folder / "items"
    for path in items.glob("*.toml"):
        path.write_text(
            path.read_text(encoding="utf-8").replace("有限责任公司设立登记", "股份有限公司设立登记"),
            encoding="utf-8",
        )
    departments = folder / "departments.toml"
    text = departments.read_text(encoding="utf-8")
    old = (await Department.select(Department.short_name).where(Department.code == "SGSJ").first())[
        "short_name"
    ]
    departments.write_text(
        text.replace(f'short_name = "{old}"', 'short_name = "市场监管局"'), encoding="utf-8"
    )
    await load_seeds(folder, update=True, now=NOW)
    assert await found("股份有限公司") == [CODE]
    entry = await SearchEntry.select(SearchEntry.department_name).where(SearchEntry.code == CODE).first()
    assert entry["department_name"] == "市场监管局"
    assert CODE in await found("市场监管局")


async def test_reindex_rebuilds_the_same_index(small_db):
    before = await SearchEntry.select(SearchEntry.code, SearchEntry.name_tokens).order_by(SearchEntry.code)
    await SearchEntry.delete(force=True)  # lost rows; the FTS table on SQLite keeps stale ones
    assert await search_index.rebuild() == 3
    after = await SearchEntry.select(SearchEntry.code, SearchEntry.name_tokens).order_by(SearchEntry.code)
    assert after == before
    assert await found("有限责任公司") == [CODE]
