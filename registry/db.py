"""Database engines from settings, and binding the tables to one."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from piccolo.columns import JSON, Column
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType, dict_factory
from piccolo.table import Table

from registry.settings import Settings
from registry.tables import TABLES, Department


def engine_for(settings: Settings) -> Engine:
    url = settings.database_url
    if settings.is_postgres:
        parts = urlsplit(url)
        config: dict[str, object] = {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 5432,
            "user": unquote(parts.username or "postgres"),
            "database": parts.path.lstrip("/") or "onetrip",
        }
        if parts.password:
            config["password"] = unquote(parts.password)
        return PostgresEngine(config=config)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return KeptReadsSQLiteEngine(path=str(path), timeout=60)
    raise ValueError(f"unsupported database URL: {url!r}")


READERS = 4  # kept read connections (and threads) per SQLite engine


class KeptReadsSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLiteEngine, with reads outside a transaction on kept connections.

    Piccolo opens a new aiosqlite connection, and a new thread, for every query outside a
    transaction (≈ 430 µs; a query on an open connection takes a few µs). Here a `SELECT` outside
    a transaction runs on one of `READERS` worker threads, each keeping its own connection, so
    the event loop never waits for SQLite. The connections are in autocommit mode and each
    statement reads the latest committed state (WAL: readers never block the writer, nor it them),
    so a read right after a write has committed sees it. Everything else — writes, DDL, and every
    statement inside a transaction (`write_transaction`, IMMEDIATE) — goes Piccolo's way.
    """

    def __init__(self, path: str, readers: int = READERS, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="sqlite-read")
        self._local = threading.local()
        self._kept: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def _reader(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            # One connection per reader thread; only `close_readers` touches it from elsewhere.
            connection = sqlite3.connect(**self.connection_kwargs, check_same_thread=False)
            connection.row_factory = dict_factory
            self._local.connection = connection
            with self._lock:
                self._kept.append(connection)
        return connection

    def _read(self, query: str, args: list[Any]) -> list[dict[str, Any]]:
        cursor = self._reader().execute(query, args)
        try:
            return cursor.fetchall()
        finally:
            cursor.close()  # ends the statement's read snapshot

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        if not self._closed and query_type == "generic" and query.lstrip()[:6].upper() == "SELECT":
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._readers, self._read, query, args or [])
        return await super()._run_in_new_connection(query, args, query_type, table)

    def read_inline(self, query: str, args: list[Any]) -> list[dict[str, Any]]:
        """Run a point read (one row on an index, a few µs) on the calling thread's own kept
        connection: for the hottest lookups, handing the query to a reader thread and back costs
        ≈ 95 µs, twenty times the query. Only for queries that read a handful of rows by key."""
        return self._read(query, args)

    def close_readers(self) -> None:
        """Close the kept connections and stop their threads (the app's shutdown calls it);
        later reads open a connection each, as Piccolo does."""
        self._closed = True
        self._readers.shutdown(wait=True)
        with self._lock:
            for connection in self._kept:
                connection.close()
            self._kept.clear()


def bind(engine: Engine) -> None:
    """Point every table at `engine` (the app and the tests call this; no global magic)."""
    for table in TABLES:
        table._meta.db = engine


SQLITE_PAGE_SIZE = 8192  # bytes; a new database's pages (an existing one keeps its own)


async def prepare(engine: Engine) -> None:
    """Per-engine setup for SQLite files: WAL, and for a new database 8 KiB pages — a stored
    guide page (≈ 5 KB compressed) then fits in its row's page instead of spilling to overflow
    pages, and a snapshot spans half as many (each page is a read on a cold lookup)."""
    if isinstance(engine, SQLiteEngine):
        connection = sqlite3.connect(engine.connection_kwargs["database"], timeout=60)
        try:  # on one connection: the first write (WAL's header) fixes a new file's page size
            connection.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
            connection.execute("PRAGMA journal_mode=WAL")
        finally:
            connection.close()


_after_commit: ContextVar[list[Callable[[], None]] | None] = ContextVar("after_commit", default=None)


@asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """A transaction for read-then-write work: IMMEDIATE on SQLite (no 'database is locked'
    half-way through), the default on PostgreSQL. Nested calls join the outer transaction.
    What `after_commit` registered inside runs once the outermost transaction has committed."""
    engine = Department._meta.db
    if _after_commit.get() is not None:  # joining an outer transaction
        async with _transaction(engine):
            yield
        return
    token = _after_commit.set([])
    try:
        async with _transaction(engine):
            yield
        callbacks = _after_commit.get() or []
    finally:
        _after_commit.reset(token)
    for callback in callbacks:
        callback()


def _transaction(engine: Engine) -> Any:
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` after the current write transaction commits (at once outside one):
    cache invalidation and notifications never see what might still roll back."""
    pending = _after_commit.get()
    if pending is None:
        callback()
    else:
        pending.append(callback)


def _connection(engine: Engine) -> Any:
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise RuntimeError("bulk writes run inside write_transaction()")
    return transaction.connection


@cache
def _columns(table: type[Table]) -> tuple[tuple[str, str, Column, bool], ...]:
    """(attribute, column name, column, is JSON) of every column but the id."""
    return tuple(
        (c._meta.name, c._meta.db_column_name, c, isinstance(c, JSON))
        for c in table._meta.non_default_columns
    )


def row_values(table: type[Table], **values: Any) -> dict[str, Any]:
    """A full row of `table` (defaults filled in, as Piccolo would), keyed by column name, with
    JSON columns as text: what `bulk_insert` takes."""
    unknown = set(values) - {name for name, *_rest in _columns(table)}
    if unknown:
        raise TypeError(f"{table.__name__} has no column {sorted(unknown)}")
    row = {}
    for name, column_name, column, is_json in _columns(table):
        value = values[name] if name in values else column.get_default_value()
        if is_json and not isinstance(value, str):
            value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        row[column_name] = value
    return row


async def bulk_insert(table: type[Table], rows: list[dict[str, Any]]) -> None:
    """Insert many rows in one round trip per batch (executemany on the transaction's own
    connection): what loading 100 000 items needs. Rows come from `row_values`."""
    if not rows:
        return
    engine = table._meta.db
    names = list(rows[0])
    columns = ", ".join(f'"{n}"' for n in names)
    if isinstance(engine, SQLiteEngine):
        marks = ", ".join("?" for _ in names)
    else:
        marks = ", ".join(f"${i}" for i in range(1, len(names) + 1))
    sql = f'INSERT INTO "{table._meta.tablename}" ({columns}) VALUES ({marks})'
    await _connection(engine).executemany(sql, [tuple(r[n] for n in names) for r in rows])


async def bulk_set(table: type[Table], column: Column, values: dict[int, Any]) -> None:
    """Set one column of many rows, by id, in one round trip per batch."""
    if not values:
        return
    engine = table._meta.db
    name, tablename = column._meta.db_column_name, table._meta.tablename
    if isinstance(engine, SQLiteEngine):
        sql = f'UPDATE "{tablename}" SET "{name}" = ? WHERE "id" = ?'
    else:
        sql = f'UPDATE "{tablename}" SET "{name}" = $1 WHERE "id" = $2'
    await _connection(engine).executemany(sql, [(v, k) for k, v in values.items()])


async def execute_many(sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Run one statement (`{}` placeholders, as Piccolo's raw queries write them) for many rows
    in one round trip, on the current write transaction's connection."""
    if not rows:
        return

    engine = Department._meta.db
    sql = _qmarks(sql) if isinstance(engine, SQLiteEngine) else _dollars(sql)
    await _connection(engine).executemany(sql, rows)


@cache
def _qmarks(sql: str) -> str:
    """A raw query's `{}` placeholders as SQLite's `?` (converted once per statement)."""
    return sql.replace("{}", "?")


@cache
def _dollars(sql: str) -> str:
    """A raw query's `{}` placeholders as PostgreSQL's `$1`, `$2` … (converted once per statement)."""
    parts = sql.split("{}")
    return "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], start=1)) + parts[-1]


async def point_read(sql: str, *args: Any) -> list[dict[str, Any]]:
    """A read of a few rows by key (`{}` placeholders): on SQLite, on the event loop's own kept
    connection (WAL: it never waits for a writer); on PostgreSQL, straight on the pool's asyncpg
    connection (a statement it has prepared before), without Piccolo's query object; in a
    transaction, a raw query of it."""
    engine = Department._meta.db
    if engine.current_transaction.get() is None:  # a transaction reads its own writes
        if isinstance(engine, KeptReadsSQLiteEngine) and not engine._closed:
            return engine.read_inline(_qmarks(sql), list(args))
        if isinstance(engine, PostgresEngine) and engine.pool is not None:
            return [dict(r.items()) for r in await engine.pool.fetch(_dollars(sql), *args)]
    return await Department.raw(sql, *args)
