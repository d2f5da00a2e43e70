"""Issue 14: QR codes drawn once and stored; SQLite reads on kept connections; a guide page
costs at most one query once its snapshot is cached."""

from __future__ import annotations

import asyncio
import shutil

import pytest
from bs4 import BeautifulSoup
from litestar.testing import AsyncTestClient

from guides.qr import qr_png, qr_svg
from registry import qrcodes, rendered
from registry.app import create_app
from registry.db import KeptReadsSQLiteEngine, bind, prepare, write_transaction
from registry.exporting import export_site
from registry.reads.public import PublicReads
from registry.settings import Settings
from registry.tables import Department
from tests.integration.test_channels import publish_new_edition

CODE = "650100-SGSJ-001"  # tests/fixtures/small_seeds
ADDRESS = f"http://localhost:8000/g/{CODE}"
PATHS = ("", "/print", "/qr.svg", "/qr.png", "/guide.json", "/guide.md")


def no_drawing(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make drawing a QR code fail loudly; returns the texts someone tried to draw."""
    asked: list[str] = []

    def refuse(text: str):
        asked.append(text)
        raise AssertionError(f"drew a QR code: {text}")

    monkeypatch.setattr(qrcodes, "draw", refuse)
    return asked


async def test_publication_draws_and_stores_both_addresses(small_db, monkeypatch):
    monkeypatch.delenv("ONETRIP_PUBLIC_URL", raising=False)
    # Bulk-seeded items are not drawn at load time (too slow for 100 000 items).
    assert await qrcodes.stored([ADDRESS]) == {}
    guide = await publish_new_edition(CODE, promised_days=3)
    printed = f"{ADDRESS}?v={guide.version}"
    found = await qrcodes.stored([ADDRESS, printed])
    assert set(found) == {ADDRESS, printed}
    assert found[ADDRESS].svg == qr_svg(ADDRESS) and found[ADDRESS].png == qr_png(ADDRESS)
    assert found[printed].svg == qr_svg(printed)
    # Serving only reads them now: the QR routes and the print page draw nothing.
    asked = no_drawing(monkeypatch)
    app = create_app(small_db.settings, engine=small_db.engine, pool=False)
    async with AsyncTestClient(app=app) as client:
        svg = await client.get(f"/g/{CODE}/qr.svg")
        png = await client.get(f"/g/{CODE}/qr.png")
        page = await client.get(f"/g/{CODE}/print")
    assert asked == []
    assert svg.content == found[ADDRESS].svg and png.content == found[ADDRESS].png
    path = BeautifulSoup(page.text, "html.parser").select_one(".print-qr svg path")["d"]
    assert path in found[printed].svg.decode()


async def test_first_read_draws_once_and_stores(small_db, monkeypatch):
    before = await qrcodes.count()
    app = create_app(small_db.settings, engine=small_db.engine, pool=False)
    async with AsyncTestClient(app=app) as client:
        first = await client.get(f"/g/{CODE}/qr.svg")
    assert first.content == qr_svg(ADDRESS)
    assert await qrcodes.count() == before + 1
    # A new process (new app, empty caches) reads the stored bytes and draws nothing.
    asked = no_drawing(monkeypatch)
    app = create_app(small_db.settings, engine=small_db.engine, pool=False)
    async with AsyncTestClient(app=app) as client:
        again = await client.get(f"/g/{CODE}/qr.svg")
    assert asked == [] and again.content == first.content


async def test_another_public_url_never_gets_a_stale_code(small_db):
    before = await qrcodes.count()
    codes = {}
    for base in ("https://a.example.cn", "https://b.example.cn"):
        settings = Settings(database_url=small_db.settings.database_url, public_url=base, publish_interval=0)
        app = create_app(settings, engine=small_db.engine, pool=False)
        async with AsyncTestClient(app=app) as client:
            codes[base] = (await client.get(f"/g/{CODE}/qr.svg")).content
        assert codes[base] == qr_svg(f"{base}/g/{CODE}")
    assert codes["https://a.example.cn"] != codes["https://b.example.cn"]
    assert await qrcodes.count() == before + 2


async def test_export_reads_stored_codes(small_db, tmp_path, monkeypatch):
    settings = small_db.settings
    await export_site(tmp_path / "first", settings)  # fills what was never drawn
    asked = no_drawing(monkeypatch)
    await export_site(tmp_path / "second", settings)
    assert asked == []
    svg = (tmp_path / "second" / "g" / CODE / "qr.svg").read_bytes()
    assert svg == qr_svg(ADDRESS) == (tmp_path / "first" / "g" / CODE / "qr.svg").read_bytes()


# ---- SQLite: kept read connections ---------------------------------------------------------


@pytest.fixture
async def kept(templates, tmp_path):
    """The small seeds in a SQLite file, bound to the engine `onetrip serve` uses (SQLite only:
    PostgreSQL has its own pool)."""
    path = tmp_path / "kept.sqlite"
    shutil.copyfile(templates.get("sqlite", "small"), path)
    engine = KeptReadsSQLiteEngine(path=str(path), readers=2, timeout=60)
    bind(engine)
    await prepare(engine)
    yield engine
    engine.close_readers()


async def test_reads_on_kept_connections_see_each_committed_write(kept):
    for i in range(30):
        async with write_transaction():
            await Department.insert(
                Department(code=f"K{i}", name=f"测试{i}", short_name=f"测{i}", level="city", position=100 + i)
            )
        # Read right after the commit, on a kept connection (never a new one).
        assert await Department.exists().where(Department.code == f"K{i}")
        assert await Department.count().where(Department.code.like("K%")) == i + 1
    assert 1 <= len(kept._kept) <= 2


async def test_concurrent_reads_and_writes_on_kept_connections(kept):
    async def write(i: int) -> None:
        async with write_transaction():
            await Department.insert(
                Department(code=f"C{i}", name=f"并发{i}", short_name=f"并{i}", level="city", position=200 + i)
            )

    async def read() -> int:
        return await Department.count().where(Department.code.like("C%"))

    results = await asyncio.gather(*[write(i) for i in range(20)], *[read() for _i in range(40)])
    assert all(0 <= n <= 20 for n in results[20:])
    assert await read() == 20


# ---- one query for a guide page whose snapshot is cached -----------------------------------


class QueryCounter:
    def __init__(self, engine, monkeypatch: pytest.MonkeyPatch) -> None:
        self.queries: list[str] = []
        original = engine.run_querystring

        async def counting(engine_self, querystring, in_pool: bool = False):
            self.queries.append(str(querystring))
            return await original(querystring, in_pool=in_pool)

        # Engines have __slots__: count on the class (only this engine runs queries here).
        monkeypatch.setattr(type(engine), "run_querystring", counting)


async def test_cached_guide_page_costs_at_most_one_query(small_db, monkeypatch):
    made: list[PublicReads] = []

    def reads_without_polling() -> PublicReads:
        # The head is read on the first request, then not again during the counted ones.
        made.append(PublicReads(interval=3600.0))
        return made[-1]

    monkeypatch.setattr("registry.app.PublicReads", reads_without_polling)
    app = create_app(small_db.settings, engine=small_db.engine, pool=False)
    (reads,) = made
    async with AsyncTestClient(app=app) as client:
        for path in PATHS * 2:  # snapshot and documents cached (a stored page once asked for twice)
            assert (await client.get(f"/g/{CODE}{path}")).status_code == 200
        await rendered.flushed()  # the pages those requests rendered are stored
        counter = QueryCounter(small_db.engine, monkeypatch)
        assert (await client.get(f"/g/{CODE}")).status_code == 200
        assert counter.queries == []  # everything cached
        reads.lookups.clear()  # as for a code not looked up since the head moved
        assert (await client.get(f"/g/{CODE}")).status_code == 200
        assert len(counter.queries) == 1, counter.queries
        for path in PATHS:
            counter.queries.clear()
            reads.lookups.clear()
            assert (await client.get(f"/g/{CODE}{path}")).status_code == 200
            assert len(counter.queries) == 1, (path, counter.queries)


@pytest.mark.parametrize("small_db", ["postgres"], indirect=True)
async def test_point_reads_on_the_postgresql_pool_give_what_piccolo_gives(small_db):
    """A served process's point reads go straight to asyncpg's pool (registry.db.point_read):
    the same rows, as plain dicts, as Piccolo's raw query of the same SQL."""
    from registry.db import point_read
    from registry.reads.public import CURRENT_STORED_SQL

    engine = small_db.engine
    await engine.start_connection_pool()
    try:
        assert engine.pool is not None
        for kind, day in (("hall", "2026-12-08"), ("print", ""), ("api", "")):
            args = (kind, day, kind) * 2 + (CODE,)
            fast = await point_read(CURRENT_STORED_SQL, *args)
            assert fast and all(type(row) is dict for row in fast)
            assert fast == await Department.raw(CURRENT_STORED_SQL, *args)
        assert await point_read(CURRENT_STORED_SQL, *args[:-1], "NO-SUCH-CODE") == []
    finally:
        await engine.close_connection_pool()
