"""/materials, the 减证 report (as of any date, sortable, exported) and catalogue upkeep."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from registry import catalogue
from registry.access import Actor, PermissionDenied
from registry.editions import commands, store
from registry.errors import ValidationError
from registry.tables import Department, Edition, EditionMaterial, Material, ServiceItem

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
ADMIN = Actor(None, "root", "admin")
EDITOR = Actor(None, "li", "editor", frozenset({"SGSJ"}))
CODE = "650100-SGSJ-001"


async def test_materials_page_lists_entries_with_the_items_asking(small_client):
    page = await small_client.get("/materials")
    assert page.status_code == 200
    data = (await small_client.get("/api/materials")).json()
    counts = {m["code"]: m["items"] for m in data["materials"]}
    assert counts == {"application-form": 2, "id-card": 2, "power-of-attorney": 1}
    id_card = next(m for m in data["materials"] if m["code"] == "id-card")
    assert [i["code"] for i in id_card["first_items"]] == [CODE, "650102-TSQ-001"]


async def test_reduction_as_of_a_date_sorted_and_exported(small_client):
    # The small registry has no police department: let 天山区 issue identity cards. id-card is
    # waived by SGSJ-001 and still asked by TSQ-001 (in force from 2019-03-01). 授权委托书 has no
    # issuing department: never in the report.
    tsq = await Department.select(Department.id).where(Department.code == "TSQ").first()
    await Material.update({Material.issuer_department: tsq["id"]}).where(Material.code == "id-card")
    before = await small_client.get("/materials/reduction?as_of=2019-02-28")
    assert "没有仍要求提交的政府核发材料" in before.text
    after = await small_client.get("/materials/reduction?as_of=2019-03-01&sort=name&order=asc")
    assert after.status_code == 200
    assert "居民身份证" in after.text and "公司设立帮办服务" in after.text
    assert "授权委托书" not in after.text
    rows = list(
        csv.reader(io.StringIO((await small_client.get("/materials/reduction.csv?as_of=2019-03-01")).text))
    )
    assert rows[0][0].lstrip("\ufeff") == "材料编码"
    assert [(r[0], r[5]) for r in rows[1:]] == [("id-card", "650102-TSQ-001")]
    xlsx = await small_client.get("/materials/reduction.xlsx?as_of=2019-03-01")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in sheet[2]][:1] == ["id-card"]
    for bad in ("sort=price", "order=up", "as_of=2019-02-30"):
        response = await small_client.get(f"/materials/reduction?{bad}")
        assert response.status_code == 400, bad


async def test_the_reduction_summary_is_the_full_report_cut_to_its_first_items(small_db):
    """The page's summary (three SQL aggregates) says what the full report says: per material
    the same count and departments, and the same first items."""
    from datetime import date

    issuer = (await Department.select(Department.id).first())["id"]
    await Material.update({Material.issuer_department: issuer}, force=True)
    day = date(2026, 11, 30)
    full = {r.material: r for r in await catalogue.reduction(day)}
    assert full and any(len(r.asking) > 1 for r in full.values())
    summary = await catalogue.reduction_summary(day, shown=1)
    assert [r.material for r in summary] == list(full)
    for r in summary:
        whole = full[r.material]
        assert (r.name, r.kind, r.issuer, r.sharer) == (whole.name, whole.kind, whole.issuer, whole.sharer)
        assert r.items == whole.items and r.departments == whole.departments
        assert r.asking == whole.asking[:1]


async def test_reduction_sorting():
    rows = [
        catalogue.Reduction("a", "乙", "证照", "x", "", [catalogue.AskingItem("1", "一", "甲")]),
        catalogue.Reduction("b", "甲", "证照", "y", "", [catalogue.AskingItem(c, c, c) for c in "12"]),
    ]
    assert [r.material for r in catalogue.sorted_reduction(rows, "items", True)] == ["b", "a"]
    assert [r.material for r in catalogue.sorted_reduction(rows, "issuer", False)] == ["a", "b"]
    assert [r.material for r in catalogue.sorted_reduction(rows, "departments", False)] == ["a", "b"]


async def test_merge_moves_drafts_and_leaves_published_snapshots(small_db):
    item = await ServiceItem.select().where(ServiceItem.code == CODE).first()
    published = (
        await Edition.select(Edition.snapshot, Edition.fingerprint)
        .where(Edition.id == item["current_edition"])
        .first()
    )
    content = await store.edition_content(item["current_edition"])
    draft = await commands.save_draft(EDITOR, CODE, content, base_lock_version=None, now=NOW)
    assert [m.material for m in content.materials] == ["application-form", "id-card", "power-of-attorney"]

    with pytest.raises(PermissionDenied):
        await catalogue.merge(EDITOR, "power-of-attorney", "id-card")
    with pytest.raises(ValidationError):
        await catalogue.merge(ADMIN, "power-of-attorney", "no-such-entry")
    assert await catalogue.merge(ADMIN, "power-of-attorney", "id-card") == 1

    followed = await store.edition_content(draft["id"])
    assert [m.material for m in followed.materials] == [
        "application-form",
        "id-card",
    ]  # the duplicate dropped
    refs = await EditionMaterial.select(EditionMaterial.material.code).where(
        EditionMaterial.edition == draft["id"]
    )
    assert sorted(r["material.code"] for r in refs) == ["application-form", "id-card"]
    still = (
        await Edition.select(Edition.snapshot, Edition.fingerprint)
        .where(Edition.id == item["current_edition"])
        .first()
    )
    assert still == published
    old = await Material.select().where(Material.code == "power-of-attorney").first()
    assert old["retired"] and old["merged_into"] == "id-card"
    # A published guide's next draft starts from its content with the merge followed.
    followed_current = catalogue.follow_merges(content, await catalogue.merged_codes())
    assert [m.material for m in followed_current.materials] == ["application-form", "id-card"]


async def test_rename_and_retire(small_db):
    await catalogue.rename(ADMIN, "id-card", "居民身份证（含临时身份证）")
    assert (await Material.select().where(Material.code == "id-card").first())[
        "name"
    ] == "居民身份证（含临时身份证）"
    with pytest.raises(ValidationError):
        await catalogue.rename(ADMIN, "id-card", "授权委托书")  # another entry's name
    with pytest.raises(ValidationError):
        await catalogue.rename(ADMIN, "id-card", "  ")
    await catalogue.retire(ADMIN, "power-of-attorney")
    assert (await Material.select().where(Material.code == "power-of-attorney").first())["retired"]
