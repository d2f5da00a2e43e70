"""Every public route as a ratio to `/livez` (same app, no database) measured in the same run.

    .venv/bin/python bench/serve.py [--sizes 89,10000] [--workers 1,2] [--seconds 5]
                                    [--concurrency 32] [--database-url URL] [--no-write]

For each registry size it builds a database (89 = the real seeds/; any other N = `bench/generate.py
N` with its later editions loaded by `onetrip seed --update`), starts `onetrip serve` on a free
local port, and drives each route with wrk (Debian package `wrk`; -t2 -c{concurrency}, --latency).
It reports req/s, the ratio to /livez, p50, p99 and the server's resident memory (all processes,
peak over the run), and appends a dated section with the exact command to bench/results.md.

Seeded SQLite files are kept in var/bench/ (keyed by size and the generator's source) so that a
second run skips seeding; `onetrip migrate` still runs on them. With --database-url (PostgreSQL)
the database named is migrated and seeded on every run: give it an empty database.
Sizes also come from BENCH_SIZES (e.g. BENCH_SIZES=89,10000,100000).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shlex
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "var" / "bench"
RESULTS = ROOT / "bench" / "results.md"
BASELINE = "/livez"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seconds(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(url: str, seconds: int, concurrency: int) -> dict[str, float]:
    """wrk's figures: a C client, so the server is what is measured."""
    out = subprocess.run(
        ["wrk", "-t2", f"-c{concurrency}", f"-d{seconds}s", "--latency", "--timeout", "10s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for name, pct in (("p50", "50"), ("p99", "99")):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s|m)\b", out)
        figures[name] = _seconds(*m.groups()) if m else float("nan")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    figures["non2xx"] = int(bad.group(1)) if bad else 0
    errors = re.search(r"Socket errors:.*timeout (\d+)", out)
    figures["timeouts"] = int(errors.group(1)) if errors else 0
    return figures


def process_tree_rss(pid: int) -> int:
    """Resident memory in bytes of a process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def run(cmd: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")


def seed_folders(size: int) -> list[Path]:
    """The seed folders to load in order: the base, then each later edition."""
    if size == 89:
        return [ROOT / "seeds"]
    folder = CACHE / f"seeds-{size}"
    if not (folder / "items").is_dir():
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "generate.py"), str(size), str(folder)], check=True
        )
    history = sorted((folder / "history").glob("*"), key=lambda p: int(p.name))
    return [folder, *history]


def prepare(size: int, env: dict[str, str], database_url: str | None, work: Path) -> tuple[str, float]:
    """A migrated, seeded database of `size` items; (url, seconds spent seeding or 0 if cached)."""
    onetrip = [sys.executable, "-m", "registry"]
    generator = hashlib.sha256((ROOT / "bench" / "generate.py").read_bytes()).hexdigest()[:10]
    cached = CACHE / f"registry-{size}-{generator}.sqlite"
    url = database_url or f"sqlite:///{work / f'bench-{size}.sqlite'}"
    env = {**env, "ONETRIP_DATABASE_URL": url}
    spent = 0.0
    if database_url is None and cached.exists():
        shutil.copyfile(cached, work / f"bench-{size}.sqlite")
    else:
        folders = seed_folders(size)
        run([*onetrip, "migrate"], env)
        start = time.perf_counter()
        for i, folder in enumerate(folders):
            print(f"  seeding {folder} …", file=sys.stderr, flush=True)
            run([*onetrip, "seed", *(["--update"] if i else [])], {**env, "ONETRIP_SEEDS_DIR": str(folder)})
        spent = time.perf_counter() - start
        if database_url is None:
            CACHE.mkdir(parents=True, exist_ok=True)
            with sqlite3.connect(work / f"bench-{size}.sqlite") as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copyfile(work / f"bench-{size}.sqlite", cached)
    run([*onetrip, "migrate"], env)
    return url, spent


def serve_supports_workers() -> bool:
    out = subprocess.run(
        [sys.executable, "-m", "registry", "serve", "--help"], capture_output=True, text=True
    ).stdout
    return "--workers" in out


def routes_for(base: str) -> list[tuple[str, str]]:
    """(label, path) of every public route, with a real item and unit of this registry."""
    first = httpx.get(f"{base}/api/items", timeout=60).json()
    total = first["total"]
    page_size = max(1, len(first["items"]))
    last_page = max(1, -(-total // page_size))
    page = min(500, last_page)
    # A guide in the middle of the list, not the first one the caches happen to warm.
    middle = httpx.get(f"{base}/api/items", params={"page": max(1, last_page // 2)}, timeout=60).json()
    item = middle["items"][0]
    code, unit = item["code"], item["department"]["code"]
    return [
        (BASELINE, BASELINE),
        ("/", "/"),
        ("/items", "/items"),
        (f"/items?page={page}", f"/items?page={page}"),
        ("/items?level=district&trips=1", "/items?level=district&trips=1"),
        ("/g/{code}", f"/g/{code}"),
        ("/g/{code}/qr.svg", f"/g/{code}/qr.svg"),
        ("/g/{code}/print", f"/g/{code}/print"),
        ("/api/items", "/api/items"),
        (f"/api/items?page={page}", f"/api/items?page={page}"),
        ("/api/items/{code}", f"/api/items/{code}"),
        ("/search?q=身份证", "/search?q=%E8%BA%AB%E4%BB%BD%E8%AF%81"),
        ("/search?q=jiehun&level=district", "/search?q=jiehun&level=district"),
        ("/metrics", "/metrics"),
        ("/metrics/unit/{code}", f"/metrics/unit/{unit}"),
        ("/api/metrics", "/api/metrics"),
        ("/laws", "/laws"),
        ("/api/laws", "/api/laws"),
        ("/materials", "/materials"),
        ("/materials/reduction", "/materials/reduction"),
    ]


def bench_server(
    env: dict[str, str], workers: int, seconds: int, concurrency: int
) -> tuple[list[tuple[str, dict[str, float]]], int, dict[str, float]]:
    port = free_port()
    cmd = [sys.executable, "-m", "registry", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    server = subprocess.Popen(
        cmd,
        env={**env, "ONETRIP_PUBLISH_INTERVAL": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    first: dict[str, float] = {}
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}{BASELINE}", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        routes = routes_for(base)
        results, peak = [], process_tree_rss(server.pid)
        for label, path in routes:
            t = time.perf_counter()
            httpx.get(base + path, timeout=120)
            first[label] = (time.perf_counter() - t) * 1000
            figures = wrk(base + path, seconds, concurrency)
            results.append((label, figures))
            peak = max(peak, process_tree_rss(server.pid))
            print(f"  {label}: {figures['rps']:,.0f} req/s", file=sys.stderr, flush=True)
        return results, peak, first
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def table(results: list[tuple[str, dict[str, float]]], first: dict[str, float]) -> list[str]:
    baseline = results[0][1]["rps"]
    lines = [
        "| route | ratio to /livez | req/s | p50 ms | p99 ms | first request ms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label, f in results:
        note = ""
        if f["non2xx"] or f["timeouts"]:
            note = f" ({f['non2xx']:.0f} non-2xx, {f['timeouts']:.0f} timeouts)"
        lines.append(
            f"| `{label}` | {f['rps'] / baseline:.2f}{note} | {f['rps']:,.0f} | {f['p50']:.1f} | "
            f"{f['p99']:.1f} | {first.get(label, float('nan')):.0f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "89,10000"))
    parser.add_argument("--workers", default=os.environ.get("BENCH_WORKERS", "1,2"))
    parser.add_argument("--seconds", type=int, default=5, help="per route")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", default=None, help="PostgreSQL: an empty database to fill")
    parser.add_argument("--no-write", action="store_true", help="print, do not append to results.md")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    notes = []
    if any(w > 1 for w in workers) and not serve_supports_workers():
        notes.append("`onetrip serve` has no --workers yet: one worker only.")
        workers = [1]
    engine = "PostgreSQL" if args.database_url else "SQLite"
    command = "python bench/serve.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    if not (argv or sys.argv[1:]) or "--sizes" not in " ".join(argv or sys.argv[1:]):
        command = f"BENCH_SIZES={','.join(map(str, sizes))} {command}".strip()
    out = [
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {engine}, wrk -t2 -c{args.concurrency}, "
        f"{args.seconds} s per route",
        "",
        f"Command: `{command}` (`make bench`); git `{_git_head()}`.",
        "",
        *notes,
    ]
    base_env = {**os.environ, "PICCOLO_CONF": "registry.piccolo_conf"}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            print(f"{size} items: preparing the database", file=sys.stderr, flush=True)
            url, spent = prepare(size, base_env, args.database_url, Path(tmp))
            env = {**base_env, "ONETRIP_DATABASE_URL": url}
            for w in workers:
                print(f"{size} items, {w} worker(s)", file=sys.stderr, flush=True)
                results, peak, first = bench_server(env, w, args.seconds, args.concurrency)
                out += [
                    "",
                    f"### {size:,} items, {w} worker{'s' if w > 1 else ''} — server RSS peak "
                    f"{peak / 2**20:.0f} MB" + (f"; seeding took {spent:.0f} s" if spent else ""),
                    "",
                    *table(results, first),
                ]
            if args.database_url:
                break  # one PostgreSQL database holds one size
    text = "\n".join(out) + "\n"
    print(text)
    if not args.no_write:
        with RESULTS.open("a", encoding="utf-8") as f:
            f.write("\n" + text)
    return 0


def _git_head() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True)
    return done.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


if __name__ == "__main__":
    raise SystemExit(main())
