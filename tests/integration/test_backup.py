"""`onetrip backup` and `onetrip restore` round-trip a registry with history, on both databases:
after the restore the change log verifies and every guide's fingerprint is the one backed up."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

from registry.settings import PROJECT_ROOT
from registry.tables import ChangeRecord, Edition
from registry.users import create_token, create_user

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
CODE = "650100-SGSJ-001"


def onetrip(*args: str, database_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "registry", *args],
        env={**os.environ, "ONETRIP_DATABASE_URL": database_url},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def publish(client, editor, reviewer, promised_days: int) -> None:
    body = (await client.get(f"/api/items/{CODE}")).json()
    body["promised_days"] = promised_days
    assert (await client.put(f"/api/items/{CODE}/draft", json=body, headers=editor)).status_code == 200
    url = f"/api/items/{CODE}/draft"
    assert (await client.post(f"{url}/submit", json={"change_note": "改"}, headers=editor)).status_code == 200
    approved = await client.post(f"{url}/approve", json={}, headers=reviewer)
    assert approved.json()["status"] == "published", approved.text


async def state() -> tuple[list, int]:
    rows = await Edition.select(
        Edition.item.code, Edition.version, Edition.status, Edition.fingerprint
    ).order_by(Edition.id)
    return rows, await ChangeRecord.count()


async def test_backup_and_restore_round_trip(small_client, small_db, tmp_path):
    await create_user("li", role="editor", password="x" * 12, departments=["SGSJ"], now=NOW)
    await create_user("zhao", role="reviewer", password="x" * 12, now=NOW)
    editor = {"Authorization": f"Bearer {await create_token('li', now=NOW)}"}
    reviewer = {"Authorization": f"Bearer {await create_token('zhao', now=NOW)}"}
    await publish(small_client, editor, reviewer, 2)
    url = small_db.settings.database_url
    saved = await state()
    assert saved[1] >= 4  # seeds and one change: history to keep

    target = tmp_path / "backups" / "registry.backup"
    done = onetrip("backup", str(target), database_url=url)
    assert done.returncode == 0, done.stderr
    assert target.stat().st_size > 0

    await publish(small_client, editor, reviewer, 1)  # life goes on after the backup
    assert await state() != saved

    done = onetrip("restore", str(target), database_url=url)
    assert done.returncode == 0, done.stderr
    assert await state() == saved
    verified = onetrip("verify-log", database_url=url)
    assert verified.returncode == 0, verified.stderr
    assert (await small_client.get(f"/api/items/{CODE}")).json()["promised_days"] == 2


def test_restore_refuses_what_is_not_a_backup(tmp_path):
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a database at all" * 100)
    done = onetrip("restore", str(junk), database_url=f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert done.returncode == 1
    assert "恢复失败" in done.stderr
    missing = onetrip("restore", str(tmp_path / "nope"), database_url=f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert missing.returncode == 1
