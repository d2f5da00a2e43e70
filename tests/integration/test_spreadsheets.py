"""Spreadsheets against the registry (SQLite and PostgreSQL): export, checked import into drafts,
the staff page and the command line. Fixture workbooks are built here with openpyxl
(tests/unit/test_spreadsheets.py: `make_workbook`, `item_row`, `material_row`)."""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, datetime

import openpyxl
import pytest
from bs4 import BeautifulSoup
from litestar.testing import AsyncTestClient

from registry import spreadsheets as ss
from registry.access import SYSTEM
from registry.app import create_app
from registry.editions import commands, store
from registry.editions.commands import ConflictError
from registry.tables import Edition, ServiceItem
from registry.users import actor, create_user
from tests.conftest import SMALL_SEEDS
from tests.integration.test_cli import onetrip
from tests.unit.test_spreadsheets import ERROR_REPORT, error_workbook, item_row, make_workbook, material_row

PASSWORD = "correct horse battery"
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
NEW = "650100-SGSJ-101"
XLSX = ss.XLSX_MEDIA_TYPE


@pytest.fixture
async def people(small_db):
    async def make(name, role, departments=None):
        return await actor(
            await create_user(name, role=role, password=PASSWORD, departments=departments, now=NOW)
        )

    return {
        "li": await make("li", "editor", ["SGSJ"]),
        "wang": await make("wang", "editor", ["TSQ"]),
        "zhao": await make("zhao", "reviewer"),
    }


async def exported() -> bytes:
    buffer = io.BytesIO()
    await ss.export_items_xlsx(buffer)
    return buffer.getvalue()


def edit(data: bytes, sheet: str, code: str, **cells) -> bytes:
    """Change cells of the row whose 事项编码 is `code`, found by header as an editor would."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[sheet]
    headers = {c.value: c.column for c in ws[1]}
    for row in ws.iter_rows(min_row=2):
        if row[headers["事项编码"] - 1].value == code:
            for header, value in cells.items():
                ws.cell(row=row[0].row, column=headers[header], value=value)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def append(data: bytes, sheet: str, *rows: dict) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[sheet]
    headers = [c.value for c in ws[1]]
    for row in rows:
        ws.append([row.get(h) for h in headers])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


async def run(data: bytes, who, *, dry_run: bool = False) -> ss.ImportReport:
    plan = await ss.read_workbook(io.BytesIO(data))
    return await ss.apply_import(plan, who, NOW, dry_run=dry_run)


async def counts() -> tuple[int, int]:
    return await ServiceItem.count(), await Edition.count()


def outcomes(report: ss.ImportReport) -> list[tuple[int, str, str]]:
    return [(o.row, o.code, o.action) for o in report.outcomes]


# ---- import into drafts -------------------------------------------------------------------


async def test_the_file_with_each_kind_of_error_reports_exactly_and_writes_nothing(people):
    before = await counts()
    report = await run(error_workbook(), people["li"])
    assert [p.as_tuple() for p in report.problems] == ERROR_REPORT
    assert not report.applied
    assert await counts() == before


async def test_a_valid_file_creates_drafts_never_publishes_and_a_second_apply_changes_nothing(
    people, small_client
):
    data = edit(await exported(), "事项", "650100-SGSJ-002", 承诺办结时限=0)
    data = append(data, "事项", item_row(NEW))
    data = append(data, "材料", material_row(NEW, 1, "id-card"))
    editions = await Edition.count()

    report = await run(data, people["li"])
    assert report.problems == []
    assert report.applied
    assert outcomes(report) == [
        (2, "650100-SGSJ-001", "unchanged"),
        (3, "650100-SGSJ-002", "update"),
        (4, "650102-TSQ-001", "unchanged"),  # another department's row, unchanged: not an edit
        (5, NEW, "new"),
    ]
    assert (
        report.summary()
        == "已导入为草稿（未发布，提交审核批准后才会发布）：新增 1 项，更新 1 项，未变 2 项。"
    )
    assert await Edition.count() == editions + 2

    new = await ServiceItem.select().where(ServiceItem.code == NEW).first()
    assert new["current_edition"] is None  # a draft only
    (draft,) = await Edition.select().where(Edition.item == new["id"])
    assert (draft["status"], draft["version"], draft["editor"]) == ("draft", 1, people["li"].id)
    content = await store.edition_content(draft["id"])
    assert content.name == "股权出质设立登记"
    assert [m.material for m in content.materials] == ["id-card"]

    old = await ServiceItem.select().where(ServiceItem.code == "650100-SGSJ-002").first()
    open_draft = await store.open_edition(old["id"])
    assert (open_draft["status"], open_draft["version"], open_draft["promised_days"]) == ("draft", 2, 0)

    # Nothing public changed.
    assert (await small_client.get(f"/g/{NEW}")).status_code == 404
    assert (await small_client.get("/api/items/650100-SGSJ-002")).json()["promised_days"] == 1

    again = await run(data, people["li"])
    assert again.problems == []
    assert [o.action for o in again.outcomes] == ["unchanged"] * 4
    assert await Edition.count() == editions + 2
    assert (await store.open_edition(old["id"]))["lock_version"] == open_draft["lock_version"]


async def test_one_bad_row_means_nothing_is_written(people):
    data = append(
        await exported(),
        "事项",
        item_row(NEW),
        item_row("650100-SGSJ-102", 到办事现场次数=3),
    )
    before = await counts()
    report = await run(data, people["li"])
    assert [p.as_tuple() for p in report.problems] == [
        ("事项", 6, "跑动原因", "到办事现场次数超过 1 次时，必须说明原因（跑多次是例外）")
    ]
    assert await counts() == before


async def test_a_failure_while_writing_rolls_back_the_rows_already_written(people, monkeypatch):
    data = edit(await exported(), "事项", "650100-SGSJ-002", 承诺办结时限=0)  # row 3: written first
    data = append(data, "事项", item_row(NEW))  # row 5: fails half-way through create_item
    original = commands.save_draft

    async def conflicting(who, code, content, **kwargs):
        if code == NEW:
            raise ConflictError(7, {})
        return await original(who, code, content, **kwargs)

    monkeypatch.setattr(commands, "save_draft", conflicting)
    before = await counts()
    report = await run(data, people["li"])
    assert [p.as_tuple() for p in report.problems] == [
        ("事项", 5, "", "草稿已被他人修改（当前版本号 7），请核对后再保存。")
    ]
    assert not report.applied
    assert await counts() == before  # neither row 3's draft nor row 5's item survived
    item = await ServiceItem.select().where(ServiceItem.code == "650100-SGSJ-002").first()
    assert await store.open_edition(item["id"]) is None


async def test_an_editor_of_another_department_is_refused_row_by_row(people):
    data = edit(await exported(), "事项", "650100-SGSJ-002", 承诺办结时限=0)
    data = edit(data, "事项", "650102-TSQ-001", 承诺办结时限=1)
    data = append(data, "事项", item_row(NEW))
    before = await counts()

    report = await run(data, people["wang"])
    assert [p.as_tuple() for p in report.problems] == [
        ("事项", 3, "实施主体编码", "无权编辑该实施主体的事项"),
        ("事项", 5, "实施主体编码", "无权编辑该实施主体的事项"),
    ]
    assert await counts() == before  # not even wang's own row: all or nothing

    reviewer = await run(data, people["zhao"], dry_run=True)
    assert [p.row for p in reviewer.problems] == [3, 4, 5]  # reviewers edit nothing


async def test_drafts_are_updated_in_place_and_items_in_review_are_left_alone(people):
    li = people["li"]
    base = await exported()
    code = "650100-SGSJ-002"
    assert outcomes(await run(edit(base, "事项", code, 承诺办结时限=2), li))[1] == (3, code, "update")
    item = await ServiceItem.select().where(ServiceItem.code == code).first()
    first = await store.open_edition(item["id"])

    assert outcomes(await run(edit(base, "事项", code, 承诺办结时限=3), li))[1] == (3, code, "update")
    second = await store.open_edition(item["id"])
    assert (second["id"], second["lock_version"], second["promised_days"]) == (first["id"], 2, 3)

    await commands.submit(li, code, change_note="压缩时限", effective_at=None, now=NOW)
    refused = await run(edit(base, "事项", code, 承诺办结时限=4), li)
    assert [p.as_tuple() for p in refused.problems] == [
        ("事项", 3, "事项编码", "该版本已提交审核，审核退回后才能修改。")
    ]
    same = await run(edit(base, "事项", code, 承诺办结时限=3), li, dry_run=True)
    assert outcomes(same)[1] == (3, code, "unchanged")

    moved = await run(edit(base, "事项", code, 实施主体编码="TSQ", 事项类型="公共服务"), SYSTEM, dry_run=True)
    assert [p.as_tuple() for p in moved.problems] == [
        ("事项", 3, "实施主体编码", "该事项属于“乌鲁木齐市工商行政管理局”（SGSJ），导入不能变更实施主体"),
        ("事项", 3, "事项类型", "该事项的类型是“行政许可”，导入不能变更事项类型"),
    ]


# ---- export -------------------------------------------------------------------------------


async def test_export_then_import_of_the_real_registry_changes_nothing(seeded_db, tmp_path):
    path = tmp_path / "items.xlsx"
    count = await ss.export_items_xlsx(path)
    assert count >= 80
    before = await counts()
    plan = await ss.read_workbook(path)
    assert plan.problems == []
    report = await ss.apply_import(plan, SYSTEM, NOW)
    assert report.problems == []
    assert [o.action for o in report.outcomes] == ["unchanged"] * count
    assert await counts() == before

    materials = sum(1 for _ in openpyxl.load_workbook(path, read_only=True)["材料"].iter_rows(min_row=2))
    items_csv, materials_csv = tmp_path / "items.csv", tmp_path / "materials.csv"
    assert await ss.export_items_csv(items_csv, materials_csv) == count
    assert items_csv.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(items_csv.read_text(encoding="utf-8-sig"))))
    assert rows[0] == list(ss.ITEM_HEADERS)
    assert len(rows) == count + 1
    assert len(list(csv.reader(io.StringIO(materials_csv.read_text(encoding="utf-8-sig"))))) == materials + 1


async def test_export_leaves_out_withdrawn_items_and_drafts(people):
    await commands.create_item(
        people["li"],
        code=NEW,
        department_code="SGSJ",
        item_type="行政许可",
        content=(await ss.read_workbook(io.BytesIO(make_workbook([item_row(NEW)])))).items[0].content,
        now=NOW,
    )
    await ServiceItem.update({ServiceItem.withdrawn: True}).where(ServiceItem.code == "650102-TSQ-001")
    wb = openpyxl.load_workbook(io.BytesIO(await exported()))
    assert [r[0] for r in wb["事项"].iter_rows(min_row=2, values_only=True)] == [
        "650100-SGSJ-001",
        "650100-SGSJ-002",
    ]
    assert [r[:4] for r in wb["材料"].iter_rows(min_row=2, values_only=True)] == [
        ("650100-SGSJ-001", 1, "application-form", "公司登记（备案）申请书"),
        ("650100-SGSJ-001", 2, "id-card", "居民身份证"),
        ("650100-SGSJ-001", 3, "power-of-attorney", "授权委托书"),
        ("650100-SGSJ-002", 1, "application-form", "公司登记（备案）申请书"),
    ]
    first = dict(zip(ss.ITEM_HEADERS, next(wb["事项"].iter_rows(min_row=2, values_only=True)), strict=True))
    assert first["设定依据"] == "company-law 第六条"
    assert first["办理流程"] == "网上申请｜申请人｜即时\n审核｜登记机关｜3个工作日\n发照｜登记机关｜即时"
    assert first["收费"] == "不收费"
    assert first["实施日期"] == datetime(2018, 6, 1)  # a real date cell


# ---- the staff page -----------------------------------------------------------------------


@pytest.fixture
async def web(people, small_db):
    app = create_app(small_db.settings, engine=small_db.engine, pool=False)
    async with AsyncTestClient(app=app) as client:
        yield client


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


async def login(client, username: str) -> str:
    page = await client.get("/login")
    token = soup(page).select_one("input[name=_csrf_token]")["value"]
    response = await client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "next": "/staff", "_csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303)
    form = await client.get("/staff/import")
    return soup(form).select_one("form.import-form input[name=_csrf_token]")["value"]


async def upload(client, token: str, data: bytes, action: str, name: str = "清单.xlsx"):
    return await client.post(
        "/staff/import",
        data={"_csrf_token": token, "action": action},
        files={"file": (name, data, XLSX)},
    )


async def test_the_staff_page_checks_then_imports_an_upload(web):
    assert (await web.get("/staff/import", follow_redirects=False)).status_code in (302, 303, 307)
    token = await login(web, "li")
    page = soup(await web.get("/staff/import"))
    links = {a["href"] for a in page.select("a")}
    assert {"/staff/import/template.xlsx", "/staff/export/items.xlsx", "/staff/export/items.csv"} <= links

    bad = await upload(web, token, error_workbook(), "apply")
    assert bad.status_code == 400
    rows = [
        tuple(td.get_text() for td in tr.select("td")) for tr in soup(bad).select(".import-problems tbody tr")
    ]
    assert rows == [(s, str(r), c, m) for s, r, c, m in ERROR_REPORT]
    assert "发现 10 个问题，未导入任何内容。" in soup(bad).select_one(".import-summary").get_text()
    assert not await ServiceItem.exists().where(ServiceItem.code == NEW)

    good = make_workbook([item_row(NEW)], [material_row(NEW, 1, "id-card")])
    checked = await upload(web, token, good, "dry_run")
    assert checked.status_code == 200
    assert "检查通过（试运行，未写入任何内容）：新增 1 项" in checked.text
    assert not await ServiceItem.exists().where(ServiceItem.code == NEW)

    applied = await upload(web, token, good, "apply")
    assert applied.status_code == 200
    assert "已导入为草稿" in soup(applied).select_one(".import-summary").get_text()
    assert soup(applied).select_one(f".import-outcomes a[href='/staff/items/{NEW}']") is not None
    assert await ServiceItem.exists().where(ServiceItem.code == NEW)
    assert (await web.get(f"/g/{NEW}")).status_code == 404  # a draft, not published


async def test_the_staff_page_refuses_other_departments_and_large_or_missing_files(web):
    token = await login(web, "wang")
    refused = await upload(web, token, make_workbook([item_row(NEW)]), "apply")
    assert refused.status_code == 400
    cells = [td.get_text() for td in soup(refused).select(".import-problems td")]
    assert cells == ["事项", "2", "实施主体编码", "无权编辑该实施主体的事项"]

    over = await upload(web, token, b"x" * (5 * 1024 * 1024 + 1), "dry_run")
    assert over.status_code == 413
    assert "文件过大：导入文件最大 5 MB" in soup(over).select_one(".import-error").get_text()
    huge = await upload(web, token, b"x" * (6 * 1024 * 1024), "dry_run")
    assert huge.status_code == 413
    assert "文件过大：导入文件最大 5 MB" in huge.text

    empty = await web.post("/staff/import", data={"_csrf_token": token, "action": "dry_run"})
    assert empty.status_code == 400
    assert "请选择要导入的 Excel 文件" in empty.text
    not_xlsx = await upload(web, token, b"code,name\n", "dry_run", name="list.csv")
    assert "无法读取文件：应为 Excel 工作簿（.xlsx）" in not_xlsx.text

    no_token = await web.post("/staff/import", files={"file": ("a.xlsx", b"x", XLSX)})
    assert no_token.status_code == 403


async def test_the_staff_downloads(web):
    await login(web, "zhao")
    template = await web.get("/staff/import/template.xlsx")
    assert template.status_code == 200
    assert template.headers["content-type"].startswith(XLSX)
    assert "attachment" in template.headers["content-disposition"]
    assert openpyxl.load_workbook(io.BytesIO(template.content)).sheetnames == ["事项", "材料", "说明"]

    items = openpyxl.load_workbook(io.BytesIO((await web.get("/staff/export/items.xlsx")).content))
    assert [r[0] for r in items["事项"].iter_rows(min_row=2, values_only=True)] == [
        "650100-SGSJ-001",
        "650100-SGSJ-002",
        "650102-TSQ-001",
    ]
    items_csv = await web.get("/staff/export/items.csv")
    assert items_csv.content.startswith(b"\xef\xbb\xbf")
    assert items_csv.content.decode("utf-8-sig").splitlines()[0] == ",".join(ss.ITEM_HEADERS)
    materials_csv = (await web.get("/staff/export/materials.csv")).content.decode("utf-8-sig")
    assert len(materials_csv.splitlines()) == 1 + 5


# ---- the command line ---------------------------------------------------------------------


def test_the_import_and_export_commands(tmp_path):
    db = tmp_path / "cli.sqlite"
    assert onetrip("migrate", db=db, cwd=tmp_path).returncode == 0
    assert onetrip("seed", "--dir", str(SMALL_SEEDS), db=db, cwd=tmp_path).returncode == 0
    os.environ["ONETRIP_NEW_PASSWORD"] = PASSWORD
    try:
        assert (
            onetrip(
                "user", "add", "li", "--role", "editor", "--department", "SGSJ", db=db, cwd=tmp_path
            ).returncode
            == 0
        )
    finally:
        os.environ.pop("ONETRIP_NEW_PASSWORD")

    errors = tmp_path / "errors.xlsx"
    errors.write_bytes(error_workbook())
    checked = onetrip("import", str(errors), db=db, cwd=tmp_path)
    assert checked.returncode == 1
    assert checked.stdout.splitlines() == [
        "发现 10 个问题，未导入任何内容。",
        "事项 第 1 行「常见问题」：缺少该列",
        "事项 第 3 行「实施主体编码」：未知的实施主体编码“SGXJ”",
        "事项 第 4 行「到办事现场次数」：应为整数",
        "事项 第 5 行「事项编码」：与第 2 行的事项编码重复",
        "事项 第 6 行「跑动原因」：到办事现场次数超过 1 次时，必须说明原因（跑多次是例外）",
        "事项 第 7 行「实施日期」：日期格式应为 YYYY-MM-DD",
        "事项 第 7 行「设定依据」：第 1 条：法律依据中没有“no-such-law”",
        "材料 第 3 行「材料编码」：材料目录中没有“birth-certificate”",
        "材料 第 4 行「事项编码」：「事项」表中没有编码为“650100-SGSJ-999”的事项",
        "材料 第 5 行「需要情形」：非必需材料必须写明何种情形下需要提交",
    ]

    good = tmp_path / "good.xlsx"
    good.write_bytes(make_workbook([item_row(NEW)], [material_row(NEW, 1, "id-card")]))
    dry = onetrip("import", str(good), db=db, cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines()[:2] == [
        "检查通过（试运行，未写入任何内容）：新增 1 项，更新 0 项，未变 0 项。",
        f"新增  {NEW}  股权出质设立登记",
    ]
    assert onetrip("import", "--apply", str(good), db=db, cwd=tmp_path).returncode == 2  # who?
    nobody = onetrip("import", "--apply", "--user", "nobody", str(good), db=db, cwd=tmp_path)
    assert nobody.returncode == 2
    assert "没有启用的工作人员账号“nobody”" in nobody.stderr
    applied = onetrip("import", "--apply", "--user", "li", str(good), db=db, cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.startswith("已导入为草稿（未发布，提交审核批准后才会发布）：新增 1 项")
    again = onetrip("import", "--apply", "--user", "li", str(good), db=db, cwd=tmp_path)
    assert again.stdout.startswith(
        "已导入为草稿（未发布，提交审核批准后才会发布）：新增 0 项，更新 0 项，未变 1 项"
    )

    template = tmp_path / "template.xlsx"
    assert onetrip("import", "--template", str(template), db=db, cwd=tmp_path).returncode == 0
    assert openpyxl.load_workbook(template).sheetnames == ["事项", "材料", "说明"]

    assert onetrip("items-export", str(tmp_path / "items.xlsx"), db=db, cwd=tmp_path).returncode == 0
    round_trip = onetrip("import", str(tmp_path / "items.xlsx"), db=db, cwd=tmp_path)
    assert round_trip.returncode == 0
    assert round_trip.stdout.startswith(
        "检查通过（试运行，未写入任何内容）：新增 0 项，更新 0 项，未变 3 项。"
    )
    exported = onetrip("items-export", str(tmp_path / "items.csv"), db=db, cwd=tmp_path)
    assert exported.returncode == 0
    assert (tmp_path / "items.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert (tmp_path / "items-materials.csv").is_file()
    assert onetrip("items-export", str(tmp_path / "items.ods"), db=db, cwd=tmp_path).returncode == 2
