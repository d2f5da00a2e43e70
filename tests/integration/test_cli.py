"""The `onetrip` command as an operator runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from tests.conftest import SMALL_SEEDS


def onetrip(*args: str, db: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "ONETRIP_DATABASE_URL": f"sqlite:///{db}"}
    return subprocess.run(
        [sys.executable, "-m", "registry", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_migrate_then_seed_twice_then_a_bad_seed(tmp_path):
    db = tmp_path / "cli.sqlite"
    assert onetrip("migrate", db=db, cwd=tmp_path).returncode == 0
    first = onetrip("seed", "--dir", str(SMALL_SEEDS), db=db, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "服务事项：新增 3" in first.stdout
    second = onetrip("seed", "--dir", str(SMALL_SEEDS), db=db, cwd=tmp_path)
    assert "服务事项：新增 0，更新 0，未变 3" in second.stdout

    bad = tmp_path / "bad"
    shutil.copytree(SMALL_SEEDS, bad)
    item = bad / "items" / "TSQ.toml"
    item.write_text(item.read_text(encoding="utf-8").replace("trips = 2", "trips = 3x"), "utf-8")
    failed = onetrip("seed", "--dir", str(bad), db=db, cwd=tmp_path)
    assert failed.returncode == 1
    assert "未写入任何内容" in failed.stderr
    assert "TSQ.toml" in failed.stderr
    assert "不是有效的 TOML" in failed.stderr


def test_settings_lists_every_variable(tmp_path):
    out = onetrip("settings", db=tmp_path / "x.sqlite", cwd=tmp_path).stdout
    assert "ONETRIP_DATABASE_URL" in out
    assert "ONETRIP_PUBLIC_URL" in out
