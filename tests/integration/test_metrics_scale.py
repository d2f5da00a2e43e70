"""Issue 14: no request holds the server. At 10 000 items, /metrics and /metrics/unit/{code}
(computed fresh: a new `as_of` each time) run while /livez is probed every 10 ms from another
connection; a request that did its work on the event loop would hold every probe for as long as
it computes (the issue measured 9.7 s at 100 000 items, so ≈ 1 s at 10 000).

Threshold: the slowest /livez answer during the /metrics requests must stay under 250 ms, or
under twice the slowest answer of the same probe against the idle server when the machine
itself is that slow. The aim is 50 ms, but this machine is shared (two cores, several test
suites at once) and a scheduler stall alone holds a process for 100 ms or more; before this
test's fixes one cold dashboard at 10 000 items held the loop ≈ 0.6 s (the timeliness chart,
counted in Python) and the probe waited 1.7 s, so the test fails if such work comes back.
The median probe must stay under 50 ms. Memory: four simultaneous cold /metrics requests may
not grow the server's peak RSS by more than 100 MB.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from piccolo.engine.sqlite import SQLiteEngine

from registry.db import bind, bulk_insert, bulk_set, row_values, write_transaction
from registry.settings import PROJECT_ROOT
from registry.tables import ChangeRecord, Department, Edition, ServiceItem

ITEMS = 10_000
UNITS = 40  # city departments and districts, as in a real city: ≈ 250 items each
pytestmark = pytest.mark.slow


async def build_registry(n: int) -> None:
    """`n` synthetic items in `UNITS` more departments, each with two published editions a few
    months apart and a change record per publication: what the metrics read, written in bulk."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    async with write_transaction():
        await bulk_insert(
            Department,
            [
                row_values(
                    Department,
                    code=f"U{k:02d}",
                    name=f"测试单位{k}",
                    short_name=f"单位{k}",
                    level="city" if k % 2 else "district",
                    kind="部门" if k % 2 else "区",
                    region="乌鲁木齐市",
                    position=100 + k,
                )
                for k in range(UNITS)
            ],
        )
        departments = [
            d["id"] for d in await Department.select(Department.id).where(Department.code.like("U%"))
        ]
        await bulk_insert(
            ServiceItem,
            [
                row_values(
                    ServiceItem,
                    code=f"SCALE-{i:06d}",
                    department=departments[i % len(departments)],
                    item_type="公共服务",
                    created_at=start,
                )
                for i in range(n)
            ],
        )
        items = {
            r["code"]: r["id"]
            for r in await ServiceItem.select(ServiceItem.id, ServiceItem.code).where(
                ServiceItem.code.like("SCALE-%")
            )
        }
        editions, records = [], []
        for i, (code, item) in enumerate(sorted(items.items())):
            for version in (1, 2):
                published = start + timedelta(days=(i % 500) + 200 * (version - 1))
                editions.append(
                    row_values(
                        Edition,
                        item=item,
                        version=version,
                        status="published" if version == 2 else "superseded",
                        name=f"事项 {code}",
                        trips=(i + version) % 3,
                        effective_at=published.date(),
                        created_at=published,
                        approved_at=published,
                        publish_deadline=published + timedelta(days=1),
                        published_at=published,
                        fingerprint=f"{i:032d}{version:032d}",
                    )
                )
                records.append(
                    row_values(
                        ChangeRecord,
                        seq=1_000_000 + 2 * i + version,
                        item=item,
                        item_code=code,
                        kind="new" if version == 1 else "change",
                        version_before=None if version == 1 else 1,
                        version_after=version,
                        editor="editor",
                        reviewer="reviewer",
                        approved_at=published,
                        publish_deadline=published + timedelta(days=1),
                        published_at=published + timedelta(hours=(i % 40)),
                        effective_at=published.date(),
                        fingerprint=f"{i:032d}{version:032d}",
                        prev_hash="",
                        hash=f"scale-{i}-{version}",
                    )
                )
        await bulk_insert(Edition, editions)
        await bulk_insert(ChangeRecord, records)
        current = {
            r["item"]: r["id"]
            for r in await Edition.select(Edition.id, Edition.item).where(
                Edition.item.is_in(list(items.values())) & (Edition.version == 2)
            )
        }
        await bulk_set(ServiceItem, ServiceItem.current_edition, current)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss(pid: int) -> int:
    """The process's peak resident memory (VmHWM), bytes."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


async def probe(client: httpx.AsyncClient, url: str, stop: asyncio.Event) -> list[float]:
    """/livez every 10 ms until `stop`: each answer's latency, in seconds."""
    latencies = []
    while not stop.is_set():
        started = time.perf_counter()
        assert (await client.get(url)).status_code == 200
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(0.01)
    return latencies


async def test_metrics_at_10000_items_do_not_hold_the_server(templates, tmp_path):
    path = tmp_path / "scale.sqlite"
    shutil.copyfile(templates.get("sqlite", "small"), path)
    bind(SQLiteEngine(path=str(path), timeout=60))
    await build_registry(ITEMS)
    assert await ServiceItem.count() >= ITEMS

    port = _free_port()
    env = {
        **os.environ,
        "ONETRIP_DATABASE_URL": f"sqlite:///{path}",
        "ONETRIP_STATE_DIR": str(tmp_path / "state"),
        "ONETRIP_PUBLISH_INTERVAL": "0",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "registry", "serve", "--host", "127.0.0.1", "--port", str(port)),
        env=env,
        cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=60) as probe_client, httpx.AsyncClient(timeout=60) as client:
            for _ in range(300):
                try:
                    if (await probe_client.get(f"{base}/livez")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            else:
                pytest.fail("server did not start within 30 s")
            # The first /metrics warms what is computed once per process (templates, jieba …).
            assert (await client.get(f"{base}/metrics?as_of=2026-06-30")).status_code == 200
            before = peak_rss(proc.pid)
            # The machine's own noise: the same probe for a while with nothing else running.
            stop = asyncio.Event()
            probing = asyncio.create_task(probe(probe_client, f"{base}/livez", stop))
            await asyncio.sleep(3)
            stop.set()
            idle = await probing

            stop = asyncio.Event()
            probing = asyncio.create_task(probe(probe_client, f"{base}/livez", stop))
            days = [date(2026, 5, 31) - timedelta(days=7 * k) for k in range(8)]
            for round_start in range(0, len(days), 4):  # four cold dashboards at once, twice
                answers = await asyncio.gather(
                    *[client.get(f"{base}/metrics?as_of={d}") for d in days[round_start : round_start + 4]]
                )
                assert [a.status_code for a in answers] == [200] * 4
            unit = await client.get(f"{base}/metrics/unit/U00?as_of=2026-04-30")
            assert unit.status_code == 200
            # The other whole-registry pages, cold: computed and rendered off the event loop too.
            for path in ("/laws", "/api/laws", "/materials", "/materials/reduction", "/items?page=300"):
                assert (await client.get(f"{base}{path}")).status_code == 200, path
            stop.set()
            latencies = await probing
            grown = peak_rss(proc.pid) - before
    finally:
        proc.terminate()
        await proc.wait()

    assert "SCALE-0" in unit.text  # the drill-down lists the unit's synthetic items
    assert len(latencies) >= 10
    worst, median = max(latencies), statistics.median(latencies)
    print(
        f"/livez during /metrics: n={len(latencies)} median={median * 1000:.1f} ms max={worst * 1000:.1f} ms"
    )
    print(f"peak RSS grew {grown / 2**20:.0f} MB")
    print(f"/livez idle: n={len(idle)} max={max(idle) * 1000:.1f} ms")
    # 250 ms, or twice what the machine alone caused while idle if that is more.
    limit = max(0.25, 2 * max(idle))
    assert worst < limit, (
        f"/livez waited {worst * 1000:.0f} ms during /metrics (idle: {max(idle) * 1000:.0f} ms)"
    )
    assert median < 0.05
    assert grown < 100 * 2**20
