"""The static export at scale: a first export, a re-export with nothing changed, and a re-export
after one publication (issue 14: ≤ 5× Hugo's 3.4 s for 10 000 pages, and ≤ 1 s after one change).

    .venv/bin/python bench/export.py [--sizes 10000] [--database-url URL] [--no-write]

The registry is the one bench/serve.py builds (cached SQLite in var/bench/, or a new PostgreSQL
database with --database-url / BENCH_DATABASE_URL). Each export is `registry.exporting.
export_site` timed in this process (loading the guides from the database, rendering, writing);
the `onetrip export` command adds its interpreter start. Appends a section to bench/results.md.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import resource
import shlex
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from msgspec.structs import replace

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_serve", ROOT / "bench" / "serve.py")
serve = sys.modules["bench_serve"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(serve)


async def one_change() -> str:
    """Publish a new edition of one item (its promised days change); return its code."""
    from registry.db import write_transaction
    from registry.editions import store
    from registry.editions.publication import publish_seed
    from registry.tables import ServiceItem

    row = await ServiceItem.select(ServiceItem.code).where(ServiceItem.current_edition.is_not_null()).first()
    async with write_transaction():
        item = await store.item_row(row["code"], lock=True)
        content = await store.edition_content(item["current_edition"])
        await publish_seed(
            item=item,
            version=await store.next_version(item["id"]),
            content=replace(content, promised_days=content.promised_days + 1),
            catalogue=await store.load_catalogue(),
            ids=await store.ref_ids(),
            now=datetime.now(UTC),
            change_note="bench/export.py: one change",
        )
    return row["code"]


async def measure(url: str, out: Path) -> list[tuple[str, float, tuple[int, int, int]]]:
    from registry.db import bind, engine_for
    from registry.exporting import export_site
    from registry.settings import Settings

    # The public address the registry was seeded for (bench/serve.py): its QR codes are stored.
    settings = Settings(database_url=url, public_url=serve.PUBLIC_URL)
    bind(engine_for(settings))
    rows = []
    for label in ("first export", "again, nothing changed", "after one change"):
        if label == "after one change":
            await one_change()
        start = time.perf_counter()
        report = await export_site(out, settings)
        rows.append((label, time.perf_counter() - start, report.counts))
        print(f"  {label}: {rows[-1][1]:.2f} s {report.counts}", file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "10000"))
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    engine = "PostgreSQL" if args.database_url else "SQLite"
    command = "python bench/export.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    out = [
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — static export, {engine}",
        "",
        f"Command: `BENCH_SIZES={args.sizes} {command.strip()}`; git `{serve._git_head()}`. Seconds of "
        "`export_site` in one process (load, render, write); target ≤ 17 s first (5× Hugo's 3.4 s "
        "for 10 000 pages here), ≤ 1 s after one change.",
        "",
        "| items | export | seconds | written | skipped | removed |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    env = {**os.environ, "PICCOLO_CONF": "registry.piccolo_conf", "ONETRIP_PUBLIC_URL": serve.PUBLIC_URL}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            print(f"{size} items: preparing the database", file=sys.stderr, flush=True)
            url, _seeding = serve.prepare(size, env, args.database_url, Path(tmp))
            rows = asyncio.run(measure(url, Path(tmp) / f"site-{size}"))
            for label, seconds, (written, skipped, removed) in rows:
                out.append(
                    f"| {size:,} | {label} | {seconds:.2f} | {written:,} | {skipped:,} | {removed:,} |"
                )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out += ["", f"Peak RSS of the exporting process: {peak:.0f} MB."]
    text = "\n".join(out) + "\n"
    print(text)
    if not args.no_write:
        with serve.RESULTS.open("a", encoding="utf-8") as f:
            f.write("\n" + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
