"""EXPLAIN every query of every public page, and flag full scans of the big tables.

    .venv/bin/python bench/explain.py [--size 100000] [--database-url URL] [--no-write]

It builds (or reuses) the SQLite registry bench/serve.py builds for `--size` items, or uses the
seeded database --database-url names (SQLite or PostgreSQL), serves each public
page once from a fresh app in this process with every cache cold, records each SQL statement the
database engine runs, and asks the database for its plan: `EXPLAIN QUERY PLAN` on SQLite,
`EXPLAIN` on PostgreSQL. A plan that reads a whole `edition`, `service_item` or `change_record`
table (SQLite `SCAN t` without an index; PostgreSQL `Seq Scan on t`) is flagged. The summary (and
every flagged plan) is printed and appended to bench/results.md; the exit status is 1 when a
page's query scans a big table.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import os
import re
import sqlite3
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_serve", ROOT / "bench" / "serve.py")
serve = sys.modules["bench_serve"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(serve)

BIG_TABLES = ("edition", "service_item", "change_record")
SQLITE_SCAN = re.compile(r"^SCAN (\w+)(?: AS \w+)?$")  # no "USING INDEX": the whole table
PG_SCAN = re.compile(r"Seq Scan on (\w+)")


@dataclass
class Statement:
    sql: str
    args: tuple[Any, ...]
    pages: set[str] = field(default_factory=set)
    plan: list[str] = field(default_factory=list)
    scans: list[str] = field(default_factory=list)


def pages(code: str, unit: str, last_page: int) -> list[str]:
    """Every public page, with a real item and unit of the registry."""
    return [
        "/",
        "/items",
        f"/items?page={last_page}",
        "/items?level=district&trips=1",
        "/items?department=" + unit,
        f"/g/{code}",
        f"/g/{code}/print",
        f"/g/{code}/qr.svg",
        f"/g/{code}/guide.json",
        f"/g/{code}/guide.md",
        f"/g/{code}/history",
        "/changes.atom",
        "/api/items",
        f"/api/items?page={last_page}",
        f"/api/items/{code}",
        "/api/departments",
        "/search?q=%E8%BA%AB%E4%BB%BD%E8%AF%81",
        "/search?q=jiehun&level=district",
        "/metrics",
        "/metrics?as_of=2020-01-01",
        f"/metrics/unit/{unit}",
        "/api/metrics",
    ]


async def collect(url: str) -> tuple[dict[str, Statement], dict[str, int]]:
    """(statements by SQL, status by page), each page served by a fresh app with cold caches."""
    from litestar.testing import AsyncTestClient  # noqa: TID251 (a bench drives the app as the tests do)

    from registry.app import create_app
    from registry.db import engine_for
    from registry.settings import Settings

    settings = Settings(database_url=url, publish_interval=0)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    statements: dict[str, Statement] = {}
    statuses: dict[str, int] = {}
    current: list[str] = [""]

    def recording(engine: Any) -> Any:
        """The engine, made to note every statement it runs (engines have __slots__: the
        instance changes class to a subclass that adds nothing but the note)."""
        base = type(engine)

        async def run_querystring(self: Any, querystring: Any, *args: Any, **kwargs: Any) -> Any:
            sql, values = querystring.compile_string(engine_type=self.engine_type)
            statement = statements.setdefault(sql, Statement(sql, tuple(values)))
            statement.pages.add(current[0])
            return await base.run_querystring(self, querystring, *args, **kwargs)

        engine.__class__ = type(
            f"Recording{base.__name__}", (base,), {"__slots__": (), "run_querystring": run_querystring}
        )
        return engine

    async def serve_once(path: str) -> Any:
        engine = recording(engine_for(settings))
        app = create_app(settings, engine=engine, pool=False)
        async with AsyncTestClient(app=app) as client:
            current[0] = path
            response = await client.get(path)
            current[0] = ""
        statuses[path] = response.status_code
        return response

    listing = (await serve_once("/api/items")).json()
    last_page = max(1, -(-listing["total"] // max(1, len(listing["items"]))))
    middle = (await serve_once(f"/api/items?page={max(1, last_page // 2)}")).json()["items"][0]
    statements.clear()
    statuses.clear()
    for path in pages(middle["code"], middle["department"]["code"], last_page):
        await serve_once(path)
    for s in statements.values():
        s.pages.discard("")
    return {k: s for k, s in statements.items() if s.pages}, statuses


def explain_sqlite(path: str, statements: dict[str, Statement]) -> None:
    with sqlite3.connect(path) as conn:
        for s in statements.values():
            rows = conn.execute(f"EXPLAIN QUERY PLAN {s.sql}", _sqlite_args(s.args)).fetchall()
            s.plan = [row[3] for row in rows]
            s.scans = sorted(
                {
                    m.group(1)
                    for line in s.plan
                    if (m := SQLITE_SCAN.match(line.strip())) and m.group(1) in BIG_TABLES
                }
            )


def _sqlite_args(args: tuple[Any, ...]) -> tuple[Any, ...]:
    out = []
    for a in args:
        if hasattr(a, "isoformat"):  # dates and times as SQLite stores them
            a = a.isoformat()
        out.append(a)
    return tuple(out)


async def explain_postgres(url: str, statements: dict[str, Statement]) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        for s in statements.values():
            rows = await conn.fetch(f"EXPLAIN {s.sql}", *s.args)
            s.plan = [r[0] for r in rows]
            s.scans = sorted(
                {m.group(1) for line in s.plan for m in PG_SCAN.finditer(line) if m.group(1) in BIG_TABLES}
            )
    finally:
        await conn.close()


def report(
    size: int, engine: str, statements: dict[str, Statement], statuses: dict[str, int], command: str
) -> str:
    flagged = [s for s in statements.values() if s.scans]
    out = [
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — EXPLAIN of every public page's queries, "
        f"{engine}, {size:,} items",
        "",
        f"Command: `{command}`; git `{serve._git_head()}`. {len(statuses)} pages, "
        f"{len(statements)} distinct statements; full scans of {', '.join(BIG_TABLES)} flagged.",
        "",
        "| page | status | statements | full scans |",
        "| --- | --- | --- | --- |",
    ]
    for page, status in statuses.items():
        mine = [s for s in statements.values() if page in s.pages]
        scans = sorted({t for s in mine for t in s.scans})
        out.append(f"| `{page}` | {status} | {len(mine)} | {', '.join(scans) or '—'} |")
    if flagged:
        out += ["", "Flagged statements:", ""]
        for s in flagged:
            out += [
                f"- scans {', '.join(s.scans)} (pages: {', '.join(sorted(s.pages))}):",
                "",
                "  ```sql",
                "  " + " ".join(s.sql.split())[:600],
                "  ```",
                "",
                "  plan: " + " / ".join(line.strip() for line in s.plan),
                "",
            ]
    else:
        out += ["", "No statement reads a whole edition, service_item or change_record table."]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=int(os.environ.get("BENCH_SIZE", "100000")))
    parser.add_argument("--database-url", default=None, help="an existing, seeded database")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    command = "python bench/explain.py " + " ".join(argv if argv is not None else sys.argv[1:])
    env = {**os.environ, "PICCOLO_CONF": "registry.piccolo_conf"}
    with tempfile.TemporaryDirectory() as tmp:
        if args.database_url:  # an existing, seeded database
            url = args.database_url
        else:
            url, _seeding = serve.prepare(args.size, env, None, Path(tmp))
        statements, statuses = asyncio.run(collect(url))
        if url.startswith("sqlite:///"):
            explain_sqlite(url.removeprefix("sqlite:///"), statements)
            engine = "SQLite"
        else:
            asyncio.run(explain_postgres(url, statements))
            engine = "PostgreSQL"
    text = report(args.size, engine, statements, statuses, command.strip())
    print(text)
    if not args.no_write:
        with serve.RESULTS.open("a", encoding="utf-8") as f:
            f.write("\n" + text)
    return 1 if any(s.scans for s in statements.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
