"""Every public route as a ratio to `/livez` (same app, no database) measured in the same run.

    .venv/bin/python bench/serve.py [--sizes 89,10000] [--workers 1,2] [--seconds 5]
                                    [--concurrency 32] [--database-url URL] [--no-write] [--reseed]

For each registry size it builds a database (89 = the real seeds/; any other N = `bench/generate.py
N` with its later editions loaded by `onetrip seed --update`), starts `onetrip serve` on a free
local port, and drives each route with wrk (Debian package `wrk`; -t2 -c{concurrency}, --latency).
The routes of one item are measured twice: for one item (what its caches hold) and over random
items (bench/random.lua picks a code from every published item for each request). Every request
says `Accept-Encoding: gzip, deflate, br`, as browsers do (stored pages are sent gzip-compressed);
the random-item routes are measured once more without it, as a client that takes no gzip. It reports
req/s, the ratio to /livez, p50, p99, the server's resident memory (all processes, peak over the
run), and the seeding time and the seeding processes' peak memory, and appends a dated section
with the exact command and git revision to bench/results.md.

/livez runs between every two routes, and each route's ratio is to the mean of the /livez runs
just before and after it: this shared 2-core machine's speed drifts by ±15 % within minutes, and
a single baseline at the start put that drift into every ratio. The /livez row shows the median
of those runs. A random-item route has a second ratio, to /livez driven by the same per-request
Lua script (`/livez?c={random code}`): wrk spends more of the machine's two cores building those
requests, and this ratio leaves that client cost out. Targets are judged on the first ratio.

Seeded SQLite files are kept in var/bench/ (keyed by size and the generator's source) so that a
second run skips seeding (`--reseed` seeds again, to measure it); `onetrip migrate` still runs on
them. With --database-url (or BENCH_DATABASE_URL), e.g.
postgresql://postgres@127.0.0.1:5432/onetrip_bench, each size gets a new PostgreSQL database
`onetrip_bench_{size}`, seeded on every run.
Sizes also come from BENCH_SIZES (e.g. BENCH_SIZES=89,10000,100000), workers from BENCH_WORKERS.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
import shlex
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CACHE = ROOT / "var" / "bench"
RESULTS = ROOT / "bench" / "results.md"
BASELINE = "/livez"
PUBLIC_URL = "http://onetrip.bench"
BROWSER_ENCODINGS = "Accept-Encoding: gzip, deflate, br"  # what Chromium and Firefox send
RANDOM_SCRIPT = ROOT / "bench" / "random.lua"
# The baseline driven by the random routes' own client script (a random code per request).
LUA_ROUTE, LUA_BASELINE = "/livez?c=%s", "/livez?c={random code}"
# Routes of one item measured over random codes too (issue 14): label -> wrk route format.
RANDOM_ROUTES = {
    "/g/{code}": "/g/%s",
    "/g/{code}/qr.svg": "/g/%s/qr.svg",
    "/g/{code}/print": "/g/%s/print",
    "/api/items/{code}": "/api/items/%s",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seconds(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(
    url: str,
    seconds: int,
    concurrency: int,
    random_route: tuple[str, Path] | None = None,
    *,
    gzip: bool = True,
) -> dict[str, float]:
    """wrk's figures: a C client, so the server is what is measured. With `random_route`
    (a route format such as "/g/%s" and a file of codes), bench/random.lua picks a random code
    for every request. `gzip`: ask as browsers do (else no Accept-Encoding at all)."""
    cmd = ["wrk", "-t2", f"-c{concurrency}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if gzip:
        cmd += ["-H", BROWSER_ENCODINGS]
    if random_route is not None:
        cmd += ["-s", str(RANDOM_SCRIPT), url, "--", random_route[0], str(random_route[1])]
    else:
        cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for name, pct in (("p50", "50"), ("p99", "99")):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s|m)\b", out)
        figures[name] = _seconds(*m.groups()) if m else float("nan")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    figures["non2xx"] = int(bad.group(1)) if bad else 0
    errors = re.search(r"Socket errors:.*timeout (\d+)", out)
    figures["timeouts"] = int(errors.group(1)) if errors else 0
    return figures


def process_tree(pid: int) -> list[int]:
    """A process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def _status_kb(path: str, field: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def process_tree_rss(pid: int) -> int:
    """Resident memory in bytes of a process and all its descendants (Linux /proc)."""
    return sum(_status_kb(f"/proc/{p}/status", "VmRSS:") for p in process_tree(pid)) * 1024


def process_tree_pss(pid: int) -> int:
    """The memory a process and its descendants use together, in bytes: each one's proportional
    set size (pages shared by n processes count 1/n in each), so shared pages count once."""
    return sum(_status_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in process_tree(pid)) * 1024


@dataclass
class Peak:
    largest: int = 0  # bytes: the peak resident memory of the largest process
    together: int = 0  # bytes: the peak of all the processes together (PSS), sampled twice a second


def run(cmd: list[str], env: dict[str, str]) -> Peak:
    """Run a command (its progress on our stderr); return its peak memory."""
    peak = Peak()
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(cmd, env=env, stdout=log, stderr=sys.stderr)
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.5):
                peak.together = max(peak.together, process_tree_pss(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _pid, status, usage = os.wait4(process.pid, 0)
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            log.seek(0)
            sys.stderr.write(log.read())
            raise SystemExit(f"failed: {' '.join(cmd)}")
    peak.largest = usage.ru_maxrss * 1024  # Linux reports kilobytes
    return peak


def cache_version() -> str:
    """What a cached seeded database depends on: the generator, and the page size new SQLite
    databases get (a file seeded with other pages is not what a new installation has)."""
    from registry.db import SQLITE_PAGE_SIZE

    generator = hashlib.sha256((ROOT / "bench" / "generate.py").read_bytes()).hexdigest()[:10]
    return f"{generator}-p{SQLITE_PAGE_SIZE}"


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


@dataclass
class Seeding:
    seconds: float = 0.0  # 0 when a cached database was used
    peak_rss: int = 0  # bytes, the largest of the seeding processes
    peak_together: int = 0  # bytes, all the seeding processes together (PSS)
    render_seconds: float = 0.0  # `onetrip render` after migrating: pages the database lacks
    render_peak_rss: int = 0
    render_peak_together: int = 0


def prepare(
    size: int, env: dict[str, str], database_url: str | None, work: Path, *, reseed: bool = False
) -> tuple[str, Seeding]:
    """A migrated, seeded database of `size` items: (url, how seeding went). `reseed`: seed
    again (and replace the cached SQLite file) even when one is cached, to measure seeding."""
    onetrip = [sys.executable, "-m", "registry"]
    cached = CACHE / f"registry-{size}-{cache_version()}.sqlite"
    url = (
        postgres_database(database_url, size)
        if database_url
        else f"sqlite:///{work / f'bench-{size}.sqlite'}"
    )
    env = {**env, "ONETRIP_DATABASE_URL": url}
    seeding = Seeding()
    if database_url is None and cached.exists() and not reseed:
        shutil.copyfile(cached, work / f"bench-{size}.sqlite")
    else:
        folders = seed_folders(size)
        run([*onetrip, "migrate"], env)
        start = time.perf_counter()
        for i, folder in enumerate(folders):
            print(f"  seeding {folder} …", file=sys.stderr, flush=True)
            # The data of each folder, then the pages and QR codes once for all (`render` below).
            peak = run(
                [*onetrip, "seed", "--no-render", *(["--update"] if i else [])],
                {**env, "ONETRIP_SEEDS_DIR": str(folder)},
            )
            seeding.peak_rss = max(seeding.peak_rss, peak.largest)
            seeding.peak_together = max(seeding.peak_together, peak.together)
        seeding.seconds = time.perf_counter() - start
    run([*onetrip, "migrate"], env)
    # Stored pages are stamped with the code that rendered them: a cached database rendered by an
    # older revision gets this revision's pages here (a no-op when they are stored already).
    start = time.perf_counter()
    rendering = run([*onetrip, "render"], env)
    seeding.render_seconds = time.perf_counter() - start
    seeding.render_peak_rss, seeding.render_peak_together = rendering.largest, rendering.together
    # Kept with its pages (a later run renders only what this revision renders differently);
    # `onetrip render` takes a second or two when no page was missing.
    if database_url is None and (seeding.seconds or seeding.render_seconds > 5):
        CACHE.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(work / f"bench-{size}.sqlite") as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copyfile(work / f"bench-{size}.sqlite", cached)
        forget(cached)  # kept for later runs: its pages must not crowd the served copy's out
    return url, seeding


def forget(path: Path) -> None:
    """Ask the OS to drop a file's cached pages: a copy kept on disk, not served now. (This
    machine's OS page cache holds ≈ 4–6 GB whatever is free; a 100 000-item database is 4.2 GB.)"""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def warm(path: Path) -> None:
    """Read a file once, so that the OS page cache holds it as it does on a server that has run
    for a while (a copy just made may be partly on disk only)."""
    with path.open("rb") as f:
        while f.read(1 << 20):
            pass


def cached_share(path: Path) -> float | None:
    """The share of a file the OS page cache holds (util-linux `fincore`), None without it."""
    if shutil.which("fincore") is None or not path.exists():
        return None
    done = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--output", "RES,SIZE", str(path)],
        capture_output=True,
        text=True,
    )
    try:
        resident, size = (int(v) for v in done.stdout.split())
    except ValueError:
        return None
    return resident / size if size else None


def postgres_database(url: str, size: int) -> str:
    """A new, empty PostgreSQL database for `size` items, named after the one in `url`."""
    import asyncpg  # piccolo[postgres]

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'onetrip_bench'}_{size}"

    async def create() -> None:
        admin = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()

    asyncio.run(create())
    return urlunsplit(parts._replace(path=f"/{name}"))


def published_codes(url: str, path: Path) -> Path:
    """Write the code of every item with a public guide to `path`, one a line (for random.lua)."""
    from registry.db import bind, engine_for
    from registry.settings import Settings
    from registry.tables import ServiceItem

    async def read() -> list[str]:
        bind(engine_for(Settings(database_url=url)))
        rows = await ServiceItem.select(ServiceItem.code).where(
            ServiceItem.current_edition.is_not_null() & (ServiceItem.withdrawn == False)  # noqa: E712
        )
        return [r["code"] for r in rows]

    path.write_text("".join(f"{code}\n" for code in asyncio.run(read())), encoding="utf-8")
    return path


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
    # A life event (一件事) of the real seeds; synthetic registries have none.
    event = "/e/YJS-KBQY"
    events = []
    if httpx.get(base + event, timeout=60).status_code == 200:
        events = [
            ("/e/{code}", event),
            ("/e/{code}/print", f"{event}/print"),
            ("/search?q=开公司", "/search?q=%E5%BC%80%E5%85%AC%E5%8F%B8"),
        ]
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
        *events,
        ("/api/metrics", "/api/metrics"),
        ("/laws", "/laws"),
        ("/api/laws", "/api/laws"),
        ("/materials", "/materials"),
        ("/materials/reduction", "/materials/reduction"),
    ]


@dataclass
class Run:
    """One route's wrk figures and the baseline they are a ratio to: the mean of the /livez runs
    just before and just after it (this machine's speed drifts by ±15 % over minutes, so one
    /livez run at the start would carry that drift into every ratio). A random-item route is
    also held against /livez driven by the same per-request script (`lua`), which takes the
    client's own cost of picking codes out of the comparison."""

    label: str
    figures: dict[str, float]
    baseline: float = 0.0  # req/s of /livez around it
    lua_baseline: float = 0.0  # req/s of /livez?c={random code} around it (random routes only)

    @property
    def ratio(self) -> float:
        return self.figures["rps"] / self.baseline if self.baseline else float("nan")

    @property
    def lua_ratio(self) -> float:
        return self.figures["rps"] / self.lua_baseline if self.lua_baseline else float("nan")


def bench_server(
    env: dict[str, str], workers: int, seconds: int, concurrency: int, codes: Path
) -> tuple[list[Run], int, dict[str, float]]:
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
    peak = 0

    def measure(
        label: str, path: str, random_route: str | None = None, *, gzip: bool = True
    ) -> dict[str, float]:
        """wrk on `path`, or with a random code in `random_route` for every request."""
        nonlocal peak
        chosen = (random_route, codes) if random_route else None
        figures = wrk(base + path, seconds, concurrency, chosen, gzip=gzip)
        peak = max(peak, process_tree_rss(server.pid))
        print(f"  {label}: {figures['rps']:,.0f} req/s", file=sys.stderr, flush=True)
        return figures

    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}{BASELINE}", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        routes = routes_for(base)
        peak = process_tree_rss(server.pid)
        baselines = [measure(BASELINE, BASELINE)["rps"]]
        runs: list[Run] = []
        for label, path in routes[1:]:
            t = time.perf_counter()
            httpx.get(base + path, timeout=120)
            first[label] = (time.perf_counter() - t) * 1000
            run_ = Run(label, measure(label, path))
            baselines.append(measure(BASELINE, BASELINE)["rps"])
            run_.baseline = (baselines[-2] + baselines[-1]) / 2
            runs.append(run_)
            if label in RANDOM_ROUTES:  # the same route over random items, next to it
                random_label = label.replace("{code}", "{random code}")
                lua = [measure(LUA_BASELINE, BASELINE, LUA_ROUTE)["rps"]]
                for gzip, suffix in ((True, ""), (False, " (no gzip)")):
                    figures = measure(random_label + suffix, BASELINE, RANDOM_ROUTES[label], gzip=gzip)
                    run_ = Run(random_label + suffix, figures)
                    baselines.append(measure(BASELINE, BASELINE)["rps"])
                    lua.append(measure(LUA_BASELINE, BASELINE, LUA_ROUTE)["rps"])
                    run_.baseline = (baselines[-2] + baselines[-1]) / 2
                    run_.lua_baseline = (lua[-2] + lua[-1]) / 2
                    runs.append(run_)
        livez = Run(BASELINE, {**wrk_median(baselines)}, baseline=statistics.median(baselines))
        return [livez, *runs], peak, first
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def wrk_median(rates: list[float]) -> dict[str, float]:
    """The baseline's row: the median of its runs (p50 and p99 are not kept per run)."""
    nan = float("nan")
    return {"rps": statistics.median(rates), "p50": nan, "p99": nan, "non2xx": 0, "timeouts": 0}


def table(results: list[Run], first: dict[str, float]) -> list[str]:
    lines = [
        "| route | ratio to /livez | ratio, same client script | req/s | p50 ms | p99 ms | first ms |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run_ in results:
        f = run_.figures
        note = ""
        if f["non2xx"] or f["timeouts"]:
            note = f" ({f['non2xx']:.0f} non-2xx, {f['timeouts']:.0f} timeouts)"
        lua = f"{run_.lua_ratio:.2f}" if run_.lua_baseline else ""
        lines.append(
            f"| `{run_.label}` | {run_.ratio:.2f}{note} | {lua} | {f['rps']:,.0f} | {f['p50']:.1f} | "
            f"{f['p99']:.1f} | {first.get(run_.label, float('nan')):.0f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "89,10000"))
    parser.add_argument("--workers", default=os.environ.get("BENCH_WORKERS", "1,2"))
    parser.add_argument("--seconds", type=int, default=5, help="per route")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="PostgreSQL server and base name: a new database NAME_{size} is made for each size",
    )
    parser.add_argument("--no-write", action="store_true", help="print, do not append to results.md")
    parser.add_argument(
        "--reseed", action="store_true", help="seed SQLite again even when a seeded file is cached"
    )
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
    # One public address for seeding and serving, as an installation has (ONETRIP_PUBLIC_URL):
    # the stored QR codes and pages are made for it.
    base_env = {**os.environ, "PICCOLO_CONF": "registry.piccolo_conf", "ONETRIP_PUBLIC_URL": PUBLIC_URL}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            print(f"{size} items: preparing the database", file=sys.stderr, flush=True)
            url, seeding = prepare(size, base_env, args.database_url, Path(tmp), reseed=args.reseed)
            env = {**base_env, "ONETRIP_DATABASE_URL": url}
            codes = published_codes(url, Path(tmp) / f"codes-{size}.txt")
            served = Path(tmp) / f"bench-{size}.sqlite" if args.database_url is None else None
            for w in workers:
                print(f"{size} items, {w} worker(s)", file=sys.stderr, flush=True)
                if served is not None:
                    warm(served)
                results, peak, first = bench_server(env, w, args.seconds, args.concurrency, codes)
                share = cached_share(served) if served is not None else None
                seeded = (
                    f"; seeding the data (base and history) took {seeding.seconds:.0f} s, peak RSS "
                    f"{seeding.peak_rss / 2**20:.0f} MB (largest process), "
                    f"{seeding.peak_together / 2**20:.0f} MB (all its processes together, PSS)"
                    if seeding.seconds
                    else ""
                )
                seeded += (
                    f"; `onetrip render` (pages and QR codes) {seeding.render_seconds:.0f} s, peak RSS "
                    f"{seeding.render_peak_rss / 2**20:.0f} MB, together "
                    f"{seeding.render_peak_together / 2**20:.0f} MB"
                )
                if share is not None:
                    seeded += (
                        f"; database file {served.stat().st_size / 2**30:.1f} GB, read once before "
                        f"serving, {share:.0%} of it in the OS page cache after the run"
                    )
                out += [
                    "",
                    f"### {size:,} items, {w} worker{'s' if w > 1 else ''} — server RSS peak "
                    f"{peak / 2**20:.0f} MB{seeded}",
                    "",
                    *table(results, first),
                ]
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
