"""Load the public pages of a freshly seeded registry and report throughput as ratios against
`/healthz` measured in the same run (same server, same client, same machine).

    .venv/bin/python bench/serve.py [--requests 2000] [--concurrency 32] [--database-url URL]

With `wrk` on the PATH (Debian package) it drives the load with wrk; otherwise with httpx, whose
own cost then dominates. It migrates and seeds a throwaway SQLite file (or the PostgreSQL database
you name), starts
`onetrip serve` on a free local port, and sends a bounded number of requests to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def hammer(url: str, total: int, concurrency: int) -> tuple[float, float]:
    latencies: list[float] = []
    queue = iter(range(total))

    async def worker(client: httpx.AsyncClient) -> None:
        for _ in queue:
            t = time.perf_counter()
            r = await client.get(url)
            latencies.append(time.perf_counter() - t)
            r.raise_for_status()

    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=concurrency)) as c:
        start = time.perf_counter()
        await asyncio.gather(*(worker(c) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000
    return total / elapsed, p99


def wrk(url: str, seconds: int, concurrency: int) -> tuple[float, float]:
    """wrk's figures (req/s, p99 ms): a C client, so the server is what is measured."""
    out = subprocess.run(
        ["wrk", "-t2", f"-c{concurrency}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return rps, p99


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seconds", type=int, default=5, help="per route, with wrk")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp()
    env = {
        **os.environ,
        "ONETRIP_DATABASE_URL": args.database_url or f"sqlite:///{tmp}/bench.sqlite",
        "PICCOLO_CONF": "registry.piccolo_conf",
    }
    onetrip = [sys.executable, "-m", "registry"]
    subprocess.run([*onetrip, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([*onetrip, "seed"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [*onetrip, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        code = httpx.get(f"{base}/api/items").json()["items"][0]["code"]
        routes = ["/healthz", f"/g/{code}", "/items", "/", "/api/items", f"/api/items/{code}"]
        results = {}
        use_wrk = shutil.which("wrk") is not None
        for route in routes:
            asyncio.run(hammer(base + route, 100, 8))  # warm up
            if use_wrk:
                results[route] = wrk(base + route, args.seconds, args.concurrency)
            else:
                results[route] = asyncio.run(hammer(base + route, args.requests, args.concurrency))
        baseline = results["/healthz"][0]
        client = f"wrk {args.seconds}s" if use_wrk else f"httpx {args.requests} requests"
        print(
            f"{client} per route, concurrency {args.concurrency}, "
            f"database {env['ONETRIP_DATABASE_URL'].split(':')[0]}"
        )
        print("| route | req/s | ratio to /healthz | p99 ms |\n| --- | --- | --- | --- |")
        for route, (rps, p99) in results.items():
            print(f"| `{route}` | {rps:,.0f} | {rps / baseline:.2f} | {p99:.1f} |")
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
