"""Database engines from settings, and binding the tables to one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

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
