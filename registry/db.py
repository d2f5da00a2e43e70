"""Database engines from settings, and binding the tables to one."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from piccolo.columns import JSON, Column
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

from registry.settings import Settings
from registry.tables import TABLES


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
        return SQLiteEngine(path=str(path), timeout=60)
    raise ValueError(f"unsupported database URL: {url!r}")


def bind(engine: Engine) -> None:
    """Point every table at `engine` (the app and the tests call this; no global magic)."""
    for table in TABLES:
        table._meta.db = engine


async def prepare(engine: Engine) -> None:
    """Per-engine setup: WAL for SQLite files."""
    if isinstance(engine, SQLiteEngine):
        await engine.run_ddl("PRAGMA journal_mode=WAL")


_after_commit: ContextVar[list[Callable[[], None]] | None] = ContextVar("after_commit", default=None)


@asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """A transaction for read-then-write work: IMMEDIATE on SQLite (no 'database is locked'
    half-way through), the default on PostgreSQL. Nested calls join the outer transaction.
    What `after_commit` registered inside runs once the outermost transaction has committed."""
    from registry.tables import Department

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
