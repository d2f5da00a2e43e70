"""`onetrip check` over a whole registry: per rule, per department, exit 1 on an error."""

from __future__ import annotations

import sqlite3

from registry import attachments
from tests.conftest import SMALL_SEEDS
from tests.integration.test_cli import onetrip
from tests.integration.test_staff_pages import login, people, soup  # noqa: F401


def test_check_reports_per_rule_and_department_and_fails_on_an_error(tmp_path):
    db = tmp_path / "check.sqlite"
    assert onetrip("migrate", db=db, cwd=tmp_path).returncode == 0
    assert onetrip("seed", "--dir", str(SMALL_SEEDS), db=db, cwd=tmp_path).returncode == 0
    clean = onetrip("check", db=db, cwd=tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "已检查 3 个现行事项" in clean.stdout
    assert "Q015 [错误] 超过 12 个月未审核: 0 / 0" in clean.stdout
    # One item last reviewed years ago: an error, named by rule and department.
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE service_item SET reviewed_on = '2020-01-01' WHERE code = '650102-TSQ-001'")
    stale = onetrip("check", "--verbose", db=db, cwd=tmp_path)
    assert stale.returncode == 1
    assert "Q015 [错误] 超过 12 个月未审核: 1 / 1" in stale.stdout
    assert "650102-TSQ-001 Q015" in stale.stdout
    assert "TSQ 天山区: 1 /" in stale.stdout
    assert "发现 1 处错误" in stale.stderr


async def test_quality_pages_and_board_counts_per_department(small_client, people):  # noqa: F811
    from datetime import date

    from registry.quality import check_registry

    report = await check_registry(date.today())
    expected = report.per_department()["SGSJ"]
    assert expected["warning"] >= 1  # 营业执照 without a result sample (Q009)
    await login(small_client, "li")
    overview = soup(await small_client.get("/staff/quality"))
    row = next(r for r in overview.select("table.quality-departments tbody tr") if "市工商局" in r.get_text())
    assert [c.get_text() for c in row.select("td")][1:] == [str(expected["error"]), str(expected["warning"])]
    board = soup(await small_client.get("/staff/board"))
    assert any("市工商局" in r.get_text() for r in board.select("table.quality-departments tbody tr"))
    page = await small_client.get("/staff/quality/SGSJ")
    assert page.status_code == 200
    item = next(s for s in soup(page).select("section.quality-item") if "650100-SGSJ-001" in s.get_text())
    assert "Q009" in item.get_text()
    assert (await small_client.get("/staff/quality/NOPE")).status_code == 404


async def test_stored_findings_follow_each_publication(small_db):
    from datetime import UTC, date, datetime

    from guides.snapshot import replace
    from registry.access import Actor
    from registry.editions import commands, store
    from registry.quality import check_registry, department_findings, summary

    def stored(rows):
        return {(r.code, f.code, f.field) for r in rows for f in r.findings}

    today = date.today()
    full = await check_registry(today)
    assert stored(await department_findings("SGSJ", today)) == stored(full.of_department("SGSJ"))
    assert (await summary(today)).per_rule == full.per_rule()

    class Calendar:
        def publish_deadline(self, approved_at):
            return approved_at

    now = datetime.now(UTC)
    code = "650100-SGSJ-001"
    item = await store.item_row(code)
    content = await store.edition_content(item["current_edition"])
    assert ("650100-SGSJ-001", "Q009", "result_sample") in stored(full.of_department("SGSJ"))
    sample = await attachments.store(b"%PDF-1.4\n% a licence sample\n%%EOF\n", now=now)
    fixed = replace(content, result_sample=replace(sample, name="营业执照样本.pdf"))
    editor, reviewer = Actor(None, "li", "editor", frozenset({"SGSJ"})), Actor(None, "zhao", "reviewer")
    await commands.save_draft(editor, code, fixed, base_lock_version=None, now=now)
    await commands.submit(editor, code, change_note="结果样本", effective_at=None, now=now)
    await commands.approve(reviewer, code, effective_at=None, now=now, calendar=Calendar())
    after = stored(await department_findings("SGSJ", today))
    assert ("650100-SGSJ-001", "Q009", "result_sample") not in after
    assert after == stored((await check_registry(today)).of_department("SGSJ"))
