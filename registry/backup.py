"""`onetrip backup FILE` / `onetrip restore FILE`: the whole registry, history included.

SQLite: the online-backup API (a consistent copy while the server keeps running). PostgreSQL:
`pg_dump --format=custom` and `pg_restore --clean` (the client tools must be installed).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

from guides.i18n import _
from registry.errors import DomainError
from registry.settings import Settings


class BackupError(DomainError):
    pass


def _sqlite_path(settings: Settings) -> Path:
    return Path(settings.database_url.removeprefix("sqlite:///"))


def _pg_args(settings: Settings) -> tuple[list[str], dict[str, str]]:
    parts = urlsplit(settings.database_url)
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    args = [
        "--host",
        parts.hostname or "127.0.0.1",
        "--port",
        str(parts.port or 5432),
        "--username",
        unquote(parts.username or "postgres"),
        "--dbname",
        parts.path.lstrip("/") or "onetrip",
    ]
    return args, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(_("找不到 {tool}：请安装 PostgreSQL 客户端工具。", tool=name))
    return found


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(result.stderr.strip() or _("命令失败：{cmd}", cmd=command[0]))


def backup(settings: Settings, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if settings.is_postgres:
        args, env = _pg_args(settings)
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target), *args], env)
        return
    source = _sqlite_path(settings)
    if not source.exists():
        raise BackupError(_("数据库文件不存在：{path}", path=source))
    partial = target.with_name(target.name + ".partial")
    with sqlite3.connect(source) as src, sqlite3.connect(partial) as dst:
        src.backup(dst)
    dst.close()
    src.close()
    partial.replace(target)


def restore(settings: Settings, source: Path) -> None:
    """Replace the registry with the backup in `source` (stop the servers first)."""
    if not source.is_file():
        raise BackupError(_("找不到备份文件：{path}", path=source))
    if settings.is_postgres:
        args, env = _pg_args(settings)
        _run(
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                *args,
                str(source),
            ],
            env,
        )
        return
    try:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src:
            src.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(_("不是有效的 SQLite 备份文件：{error}", error=exc)) from None
    target = _sqlite_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    dst.close()
    src.close()
