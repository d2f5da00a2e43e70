"""An index on search entries' names (issue 10, search speed): typo search lists the items of a
few names (`name IN (…)`, registry.search.query) and reads the distinct names once per change-log
head (registry.search.names) — on the index instead of every entry's wide row. Raw SQL, the same
on both engines; `onetrip reindex` needs nothing more (an index follows its table)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T01:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Search: index on search_entry (name, code)"

STATEMENTS = ("CREATE INDEX IF NOT EXISTS search_entry_name ON search_entry (name, code)",)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def create_name_index():
        from registry.tables import SearchEntry

        for sql in STATEMENTS:
            await SearchEntry._meta.db.run_ddl(sql)

    manager.add_raw(create_name_index)
    return manager
