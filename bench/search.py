"""Search speed at registry scale: server-side latency of the query interface, and the /search
page as a ratio to /livez of the same server in the same run.

    .venv/bin/python bench/search.py [--sizes 10000] [--database-url URL] [--queries 300]
                                     [--seconds 5] [--concurrency 32] [--no-write]
    .venv/bin/python bench/search.py --prepared URL [--prepared URL …]

For each size it builds (or reuses) a seeded registry — the generator's items without their
later editions (history is irrelevant to search and slow to load), cached per generator version
under var/bench/ for SQLite — or takes registries already seeded (`--prepared`), then:

1. **server-side**: calls `registry.search.query.search()` in-process — the code a request runs
   between parsing parameters and rendering, caches bypassed — for a deterministic sample of
   items: each item's name, its pinyin initials, a colloquial term from seeds/synonyms.toml, the
   name with one character dropped (a typo), a code prefix, the name with filters, and a very
   common word (登记, 许可, 证明 …: thousands of matches). Reports p50 / p95 / max per kind and
   overall. The typo names (registry.search.names) are built once, as a server does once per
   change-log head; their build time is reported.
2. **HTTP**: starts `onetrip serve` and drives `/livez` and `/search?q=…` with wrk, rotating over
   the same queries (a Lua script), so the ratio covers the page as citizens fetch it (results
   are cached per change-log head after their first request; the first pass is timed too).

Appends a dated section with the exact command to bench/results.md. A measurement, never a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve import BASELINE, CACHE, RESULTS, ROOT, _git_head, cache_version, free_port, wrk

KINDS = ("name", "initials", "colloquial", "typo", "code", "filtered", "common")
COMMON = ("登记", "许可", "证明", "申请", "变更", "身份证", "营业执照", "社保", "备案", "企业")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def sample_queries(n: int) -> list[tuple[str, dict[str, str]]]:
    """(kind, params) for a deterministic sample of current items."""
    from pypinyin import Style, lazy_pinyin

    from registry.tables import SearchEntry

    rows = await SearchEntry.select(SearchEntry.code, SearchEntry.name, SearchEntry.level).order_by(
        SearchEntry.id
    )
    rng = random.Random(2018)
    picked = rng.sample(rows, min(n, len(rows)))
    data = tomllib.loads((ROOT / "seeds" / "synonyms.toml").read_text(encoding="utf-8"))
    terms = [t for entry in data["synonym"] for t in entry["terms"]]
    queries: list[tuple[str, dict[str, str]]] = []
    for i, row in enumerate(picked):
        name = row["name"]
        queries.append(("name", {"q": name}))
        letters = lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")
        queries.append(("initials", {"q": "".join(letters)}))
        queries.append(("colloquial", {"q": terms[i % len(terms)]}))
        if len(name) >= 4:
            cut = rng.randrange(1, len(name) - 1)
            queries.append(("typo", {"q": name[:cut] + name[cut + 1 :]}))
        queries.append(("code", {"q": row["code"].rsplit("-", 1)[0]}))
        queries.append(("filtered", {"q": name[:4], "level": row["level"], "trips": "1"}))
        queries.append(("common", {"q": COMMON[i % len(COMMON)]}))
    return queries


async def server_side(url: str, n: int) -> tuple[dict[str, list[float]], list[tuple[str, dict[str, str]]]]:
    from piccolo.engine.postgres import PostgresEngine

    from registry.db import bind, engine_for
    from registry.search import names, tokens, vocabulary
    from registry.search.query import SearchParams, search
    from registry.settings import Settings

    engine = engine_for(Settings(database_url=url))
    bind(engine)
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool()
    try:
        tokens.warm_up()
        vocab = await vocabulary.load()
        start = time.perf_counter()
        index = await names.load()
        timings: dict[str, list[float]] = {k: [] for k in KINDS}
        timings["names"] = [(time.perf_counter() - start) * 1000]
        queries = await sample_queries(n)
        for _kind, params in queries[:20]:  # warm the engine's caches as a running server would be
            await search(SearchParams(**params), vocab, names=index)
        for kind, params in queries:
            start = time.perf_counter()
            await search(SearchParams(**params), vocab, names=index)
            timings[kind].append((time.perf_counter() - start) * 1000)
        timings["distinct names"] = [float(len(index.keys))]
        return timings, queries
    finally:
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()


def http_ratio(env: dict[str, str], queries, seconds: int, concurrency: int, work: Path) -> dict[str, float]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "registry", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**env, "ONETRIP_PUBLISH_INTERVAL": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(base + BASELINE, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        paths = ["/search?" + urlencode(params) for _kind, params in queries]
        first = []
        with httpx.Client(base_url=base, timeout=60) as client:
            for path in paths:
                start = time.perf_counter()
                client.get(path).raise_for_status()
                first.append((time.perf_counter() - start) * 1000)
        script = work / "search.lua"
        quoted = ", ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths)
        script.write_text(
            f"paths = {{{quoted}}}\ni = 0\nrequest = function()\n  i = i % #paths + 1\n"
            "  return wrk.format(nil, paths[i])\nend\n",
            encoding="utf-8",
        )
        livez = wrk(base + BASELINE, seconds, concurrency)
        out = subprocess.run(
            ["wrk", "-t2", f"-c{concurrency}", f"-d{seconds}s", "--latency", "-s", str(script), base],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        import re

        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        return {
            "livez_rps": livez["rps"],
            "search_rps": rps,
            "ratio": rps / livez["rps"],
            "first_p50": percentile(first, 50),
            "first_p95": percentile(first, 95),
        }
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def prepare(size: int, env: dict[str, str], database_url: str | None, work: Path) -> tuple[str, float]:
    """A migrated, seeded registry of `size` generated items without later editions; (url,
    seconds spent seeding, or 0 when the SQLite file came from the cache)."""
    onetrip = [sys.executable, "-m", "registry"]
    cached = CACHE / f"search-{size}-{cache_version()}.sqlite"
    url = database_url or f"sqlite:///{work / f'search-{size}.sqlite'}"
    env = {**env, "ONETRIP_DATABASE_URL": url}
    spent = 0.0
    if database_url is None and cached.exists():
        shutil.copyfile(cached, work / f"search-{size}.sqlite")
    else:
        folder = CACHE / f"search-seeds-{size}"
        if not (folder / "items").is_dir():
            subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "bench" / "generate.py"),
                    str(size),
                    str(folder),
                    "--history",
                    "0",
                ],
                check=True,
            )
        subprocess.run([*onetrip, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
        start = time.perf_counter()
        subprocess.run(
            [*onetrip, "seed", "--dir", str(folder)], env=env, check=True, stdout=subprocess.DEVNULL
        )
        spent = time.perf_counter() - start
        if database_url is None:
            CACHE.mkdir(parents=True, exist_ok=True)
            with sqlite3.connect(work / f"search-{size}.sqlite") as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copyfile(work / f"search-{size}.sqlite", cached)
    subprocess.run([*onetrip, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    return url, spent


async def _size_of(url: str) -> int:
    from piccolo.engine.postgres import PostgresEngine

    from registry.db import bind, engine_for
    from registry.settings import Settings
    from registry.tables import SearchEntry

    engine = engine_for(Settings(database_url=url))
    bind(engine)
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool()
    try:
        return await SearchEntry.count()
    finally:
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "10000"))
    parser.add_argument("--database-url", default=None, help="PostgreSQL: an empty database to fill")
    parser.add_argument(
        "--prepared", action="append", default=[], help="a registry already seeded (database URL); repeatable"
    )
    parser.add_argument("--queries", type=int, default=300, help="items sampled (7 queries each)")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--no-http", action="store_true", help="server-side timings only")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    command = "python bench/search.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    engines = {
        "PostgreSQL" if (u or "").startswith("postgres") else "SQLite"
        for u in (args.prepared or [args.database_url])
    }
    out = [
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — search, {' and '.join(sorted(engines))}",
        "",
        f"Command: `{command.strip()}`; git `{_git_head()}`.",
    ]
    base_env = {**os.environ, "PICCOLO_CONF": "registry.piccolo_conf"}
    with tempfile.TemporaryDirectory() as tmp:
        if args.prepared:
            runs = [(url, 0.0) for url in args.prepared]
        else:
            runs = []
            for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
                print(f"{size} items: preparing the database", file=sys.stderr, flush=True)
                runs.append(prepare(size, base_env, args.database_url, Path(tmp)))
                if args.database_url:
                    break
        for url, spent in runs:
            size = asyncio.run(_size_of(url))
            engine_name = "PostgreSQL" if url.startswith("postgres") else "SQLite"
            print(f"{size} items on {engine_name}: measuring", file=sys.stderr, flush=True)
            timings, queries = asyncio.run(server_side(url, args.queries))
            build = timings.pop("names")[0]
            distinct = int(timings.pop("distinct names")[0])
            everything = [t for ts in timings.values() for t in ts]
            out += [
                "",
                f"### {size:,} items, {engine_name}" + (f" (seeding took {spent:.0f} s)" if spent else ""),
                "",
                f"Server-side, `search()` in-process, page caches bypassed; typo names"
                f" ({distinct:,} distinct) built once per head in {build:.0f} ms:",
                "",
                "| queries | n | p50 ms | p95 ms | max ms |",
                "| --- | --- | --- | --- | --- |",
            ]
            for kind in (*KINDS, "all"):
                ts = everything if kind == "all" else timings[kind]
                if ts:
                    out.append(
                        f"| {kind} | {len(ts)} | {statistics.median(ts):.1f} | {percentile(ts, 95):.1f} | "
                        f"{max(ts):.1f} |"
                    )
            if not args.no_http:
                env = {**base_env, "ONETRIP_DATABASE_URL": url}
                h = http_ratio(env, queries, args.seconds, args.concurrency, Path(tmp))
                out += [
                    "",
                    f"HTTP (wrk -t2 -c{args.concurrency}, {args.seconds} s, {len(queries)} distinct "
                    f"queries in rotation): /livez {h['livez_rps']:,.0f} req/s, /search "
                    f"{h['search_rps']:,.0f} req/s — **ratio {h['ratio']:.2f}**; first (uncached) "
                    f"request of each query p50 {h['first_p50']:.1f} ms, p95 {h['first_p95']:.1f} ms.",
                ]
            print("\n".join(out), file=sys.stderr, flush=True)
    text = "\n".join(out) + "\n"
    print(text)
    if not args.no_write:
        with RESULTS.open("a", encoding="utf-8") as f:
            f.write("\n" + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
