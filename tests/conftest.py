"""Fixtures named by what they give: `db` (an empty migrated database), `seeded_db` (the real
seeds/ loaded), `client` (an AsyncTestClient over the seeded registry).

Every database fixture is parametrized over SQLite and PostgreSQL. PostgreSQL tests skip when no
server answers at ONETRIP_TEST_PG (default postgresql://postgres@127.0.0.1:5432/postgres) — except
with CI=true, where a missing server is a failure. Each test gets its own database, copied from a
template migrated (and seeded) once per session.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from registry.app import create_app
from registry.db import bind
from registry.seeding import load_seeds
from registry.settings import PROJECT_ROOT, Settings
from registry.upgrade import migrate

os.environ.setdefault("PICCOLO_CONF", "registry.piccolo_conf")

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_URL = os.environ.get("ONETRIP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
SEEDS = PROJECT_ROOT / "seeds"
SMALL_SEEDS = Path(__file__).parent / "fixtures" / "small_seeds"
BACKENDS = ["sqlite", "postgres"]


def _pg_parts(database: str) -> dict[str, object]:
    u = urlsplit(PG_URL)
    return {
        "host": u.hostname or "127.0.0.1",
        "port": u.port or 5432,
        "user": u.username or "postgres",
        "database": database,
        **({"password": u.password} if u.password else {}),
    }


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(**_pg_parts(urlsplit(PG_URL).path.lstrip("/") or "postgres"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def run_in_thread(coro_fn, *args):
    """asyncio.run in a worker thread: session setup may be asked for from a running loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coro_fn(*args))).result()


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    try:
        run_in_thread(_pg_admin, "SELECT 1")
        return True
    except (OSError, asyncpg.PostgresError) as exc:
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL is not reachable at {PG_URL}: {exc}")
        return False


class Templates:
    """Migrated (and optionally seeded) template databases, made once per session."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.made: dict[tuple[str, str], str] = {}
        self.pg_names: list[str] = []

    def get(self, backend: str, seeds: str) -> str:
        key = (backend, seeds)
        if key not in self.made:
            self.made[key] = run_in_thread(self._make, backend, seeds)
        return self.made[key]

    async def _make(self, backend: str, seeds: str) -> str:
        if backend == "sqlite":
            path = self.tmp / f"template-{seeds}.sqlite"
            engine = SQLiteEngine(path=str(path))
            name = str(path)
        else:
            name = f"onetrip_tpl_{seeds}_{uuid.uuid4().hex[:8]}"
            await _pg_admin(f'CREATE DATABASE "{name}"')
            self.pg_names.append(name)
            engine = PostgresEngine(config=_pg_parts(name))
        bind(engine)
        await migrate(engine)
        if seeds != "empty":
            await load_seeds(SEEDS if seeds == "real" else SMALL_SEEDS)
        if backend == "sqlite":
            await engine.run_ddl("PRAGMA wal_checkpoint(TRUNCATE)")
        return name

    def drop_all(self) -> None:
        for name in self.pg_names:
            run_in_thread(_pg_admin, f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    t = Templates(tmp_path_factory.mktemp("templates"))
    yield t
    t.drop_all()


class TestDatabase:
    def __init__(self, backend: str, engine, url: str, state_dir: Path) -> None:
        self.backend = backend
        self.engine = engine
        self.settings = Settings(database_url=url, state_dir=str(state_dir), publish_interval=0)


async def _database(
    request: pytest.FixtureRequest, templates: Templates, tmp_path: Path, seeds: str
) -> AsyncIterator[TestDatabase]:
    backend = request.param
    if backend == "postgres" and not request.getfixturevalue("postgres_available"):
        pytest.skip("PostgreSQL not reachable (set CI=true to make this a failure)")
    template = templates.get(backend, seeds)
    if backend == "sqlite":
        path = tmp_path / "onetrip.sqlite"
        shutil.copyfile(template, path)
        engine = SQLiteEngine(path=str(path), timeout=60)
        bind(engine)
        yield TestDatabase(backend, engine, f"sqlite:///{path}", tmp_path)
        return
    name = f"onetrip_test_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    engine = PostgresEngine(config=_pg_parts(name))
    bind(engine)
    try:
        yield TestDatabase(backend, engine, PG_URL.rsplit("/", 1)[0] + f"/{name}", tmp_path)
    finally:
        if engine.pool is not None:
            await engine.close_connection_pool()
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
async def db(request, templates, tmp_path) -> AsyncIterator[TestDatabase]:
    """An empty, migrated database."""
    async for d in _database(request, templates, tmp_path, "empty"):
        yield d


@pytest.fixture(params=BACKENDS)
async def small_db(request, templates, tmp_path) -> AsyncIterator[TestDatabase]:
    """tests/fixtures/small_seeds loaded: 3 items whose numbers are known by hand."""
    async for d in _database(request, templates, tmp_path, "small"):
        yield d


@pytest.fixture(params=BACKENDS)
async def seeded_db(request, templates, tmp_path) -> AsyncIterator[TestDatabase]:
    """The real seeds/ loaded."""
    async for d in _database(request, templates, tmp_path, "real"):
        yield d


@pytest.fixture
async def client(seeded_db: TestDatabase) -> AsyncIterator[AsyncTestClient]:
    app = create_app(seeded_db.settings, engine=seeded_db.engine, pool=False)
    async with AsyncTestClient(app=app) as c:
        yield c


@pytest.fixture
async def small_client(small_db: TestDatabase) -> AsyncIterator[AsyncTestClient]:
    app = create_app(small_db.settings, engine=small_db.engine, pool=False)
    async with AsyncTestClient(app=app) as c:
        yield c
