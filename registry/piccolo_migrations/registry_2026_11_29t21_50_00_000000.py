"""Indexes for the public read side at 100 000 items (issue 9), found with EXPLAIN.

Hand-written: Piccolo's auto migrations know only single-column indexes. Plain
CREATE INDEX IF NOT EXISTS works the same on SQLite and PostgreSQL.

- service_item (department, code): /items and /api/items read one department at a time in code
  order with LIMIT/OFFSET; without it every page sorted the department in a temporary B-tree.
- edition (item, version, published_at, effective_at, withdraw, trips): "the edition in force on
  a date" (metrics and their 24-month trend) is answered from this index alone, without reading
  the edition rows (each holds its whole snapshot); it also finds an item's scheduled edition.
- change_record (item_code, seq): an item's public history (/g/{code}/history, the notice on an
  outdated printout) was a scan of the whole change log.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-29T21:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Indexes for the public read side"

INDEXES = (
    "CREATE INDEX IF NOT EXISTS service_item_department_code ON service_item (department, code)",
    "CREATE INDEX IF NOT EXISTS edition_in_force"
    " ON edition (item, version, published_at, effective_at, withdraw, trips)",
    "CREATE INDEX IF NOT EXISTS change_record_item_code_seq ON change_record (item_code, seq)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def create_indexes():
        from registry.tables import Edition

        for sql in INDEXES:
            await Edition._meta.db.run_ddl(sql)

    manager.add_raw(create_indexes)
    return manager
