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


def test_seed_without_rendering_leaves_the_pages_to_render(tmp_path):
    import sqlite3

    db = tmp_path / "cli.sqlite"
    assert onetrip("migrate", db=db, cwd=tmp_path).returncode == 0

    def stored() -> tuple[int, int]:
        with sqlite3.connect(db) as conn:
            pages = conn.execute("SELECT COUNT(*) FROM rendered_document").fetchone()[0]
            return pages, conn.execute("SELECT COUNT(*) FROM qr_code").fetchone()[0]

    loaded = onetrip("seed", "--no-render", "--dir", str(SMALL_SEEDS), db=db, cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert "服务事项：新增 3" in loaded.stdout
    assert stored() == (0, 0)
    assert onetrip("render", db=db, cwd=tmp_path).returncode == 0
    pages, codes = stored()
    assert pages == 3 * 3 and codes == 3 * 2  # hall, print, API; the stable and the printed code


def test_settings_lists_every_variable(tmp_path):
    out = onetrip("settings", db=tmp_path / "x.sqlite", cwd=tmp_path).stdout
    assert "ONETRIP_DATABASE_URL" in out
    assert "ONETRIP_PUBLIC_URL" in out


def test_deadline_prints_the_deadline_alone_on_the_first_line(tmp_path):
    out = onetrip("deadline", "2026-09-30T18:00", db=tmp_path / "x.sqlite", cwd=tmp_path)
    assert out.returncode == 0
    assert out.stdout.splitlines()[0] == "2026-10-08T23:59:59+08:00"  # after the National Day holiday
    utc = onetrip("deadline", "2026-10-09T17:00:00Z", db=tmp_path / "x.sqlite", cwd=tmp_path)
    # 01:00 on Saturday 2026-10-10 in Beijing, a make-up workday: next working day is Monday 10-12.
    assert utc.stdout.splitlines()[0] == "2026-10-12T23:59:59+08:00"
    gap = onetrip("deadline", "2027-03-01T10:00", db=tmp_path / "x.sqlite", cwd=tmp_path)
    assert gap.returncode != 0
    assert "2027" in gap.stderr


def test_users_tokens_and_the_log_check(tmp_path):
    db = tmp_path / "cli.sqlite"
    onetrip("migrate", db=db, cwd=tmp_path)
    onetrip("seed", "--dir", str(SMALL_SEEDS), db=db, cwd=tmp_path)
    env_password = {"ONETRIP_NEW_PASSWORD": "a long enough password"}
    os.environ.update(env_password)
    try:
        added = onetrip("user", "add", "li", "--role", "editor", "--department", "SGSJ", db=db, cwd=tmp_path)
        assert added.returncode == 0, added.stderr
        bad = onetrip("user", "add", "wu", "--role", "editor", db=db, cwd=tmp_path)
        assert bad.returncode == 1
        assert "编辑人员至少需要一个所属部门" in bad.stderr
    finally:
        for key in env_password:
            os.environ.pop(key)
    token = onetrip("token", "create", "li", db=db, cwd=tmp_path).stdout.strip()
    assert token.startswith("ot_")
    assert len(token) > 30
    verified = onetrip("verify-log", db=db, cwd=tmp_path)
    assert verified.returncode == 0
    assert "共 3 条" in verified.stdout


def test_token_list_and_revoke(tmp_path):
    db = tmp_path / "cli.sqlite"
    assert onetrip("migrate", db=db, cwd=tmp_path).returncode == 0
    os.environ["ONETRIP_NEW_PASSWORD"] = "correct horse battery"
    try:
        added = onetrip("user", "add", "zhao", "--role", "reviewer", db=db, cwd=tmp_path)
    finally:
        del os.environ["ONETRIP_NEW_PASSWORD"]
    assert added.returncode == 0, added.stderr
    token = onetrip("token", "create", "zhao", "--name", "sync", db=db, cwd=tmp_path).stdout.strip()
    assert token.startswith("ot_")
    listed = onetrip("token", "list", "zhao", db=db, cwd=tmp_path).stdout
    assert listed.startswith("1\t有效\t") and listed.rstrip().endswith("sync")
    assert token not in listed  # only ids and names, never the token
    assert onetrip("token", "revoke", "1", db=db, cwd=tmp_path).returncode == 0
    assert "\t已吊销\t" in onetrip("token", "list", "zhao", db=db, cwd=tmp_path).stdout
    assert onetrip("token", "revoke", "99", db=db, cwd=tmp_path).returncode == 1
    assert onetrip("token", "list", "nobody", db=db, cwd=tmp_path).returncode == 1


def test_serve_tunes_malloc_for_itself_and_its_worker_processes(monkeypatch):
    from registry import cli

    for name in cli.MALLOC_TUNING:
        monkeypatch.delenv(f"MALLOC_{name}", raising=False)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")  # an operator's own choice is kept
    cli._tune_malloc()
    assert os.environ["MALLOC_ARENA_MAX"] == "4"
    assert os.environ["MALLOC_MMAP_THRESHOLD_"] == os.environ["MALLOC_TRIM_THRESHOLD_"] == "131072"


def test_the_bulk_commands_tune_malloc_before_they_start(monkeypatch, tmp_path):
    from registry import cli

    tuned: list[bool] = []
    monkeypatch.setattr(cli, "_tune_malloc", lambda: tuned.append(True))
    assert cli.main(["seed", "--dir", str(tmp_path / "missing")]) == 1  # no such folder: nothing written
    assert tuned == [True]
    assert cli.main(["deadline", "2026-12-08T10:00"]) == 0  # a short command is left alone
    assert tuned == [True]
    parser = cli.build_parser()
    for command in cli.MALLOC_TUNED_COMMANDS:  # every name is a command
        assert parser.parse_known_args([command])[0].command == command
