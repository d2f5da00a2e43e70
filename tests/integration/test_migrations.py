"""The committed migrations create every table and column the code uses (no drift)."""

from __future__ import annotations

from registry.tables import TABLES


async def test_migrations_create_every_column(db):
    for table in TABLES:
        # Selecting every column fails if a migration is missing one.
        assert await table.select().limit(1) == []
        assert await table.count() == 0


async def test_a_new_sqlite_database_has_8k_pages_and_an_old_one_keeps_its_own(tmp_path):
    """registry.db.prepare: a new file gets SQLITE_PAGE_SIZE pages (a stored page fits in its
    row's page); an existing database is never rewritten."""
    import sqlite3

    from registry.db import SQLITE_PAGE_SIZE, KeptReadsSQLiteEngine, prepare

    fresh = tmp_path / "fresh.sqlite"
    await prepare(KeptReadsSQLiteEngine(path=str(fresh)))
    old = tmp_path / "old.sqlite"
    with sqlite3.connect(old) as connection:
        connection.execute("CREATE TABLE t (x)")
    await prepare(KeptReadsSQLiteEngine(path=str(old)))
    for path, size in ((fresh, SQLITE_PAGE_SIZE), (old, 4096)):
        with sqlite3.connect(path) as connection:
            assert connection.execute("PRAGMA page_size").fetchone()[0] == size, path
            assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal", path
