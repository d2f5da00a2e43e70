"""PostgreSQL: the search filters inside one GIN index (issue 10, search speed).

A filtered search (`level`, `trips`, `department`, `type`, `audience`) matched words through a
GIN index and then read every match's row to check the filters: a name word in 9 000 entries of
which a quarter pass the filters meant ~2 000 heap pages per count. With `btree_gin` the filter
columns go into the same GIN index as the tsvectors, so the bitmap holds only the entries that
pass every condition and the table is read for those alone.

One index over the three tsvectors (`document`, `name_document`, `summary_document`) and the
filter columns replaces the three indexes on the tsvectors: with one index per tsvector, each
also holding the filters, the planner (no statistics on these columns: it takes `level = …` as
very selective) answered the filters alone on the smallest of them and read 30 000 rows to test
the words. With one index every condition it can answer goes into the same index scan.

Raw SQL, PostgreSQL only; nothing is rewritten (the rows and published data stay as they are)
and `onetrip reindex` needs nothing more (an index follows its table). Without `btree_gin` (it
ships with PostgreSQL's contrib modules and is a trusted extension: a database owner may create
it) or without the right to create it, the old indexes are kept and searches work as before.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T06:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Search: one GIN index over the tsvectors and the filter columns on PostgreSQL"

FILTERS = "level, trips, department_code, item_type, person, organisation"
POSTGRES = (
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    "CREATE INDEX IF NOT EXISTS search_entry_search ON search_entry USING GIN"
    f" (document, name_document, summary_document, {FILTERS})",
    "DROP INDEX IF EXISTS search_entry_document",
    "DROP INDEX IF EXISTS search_entry_name_document",
    "DROP INDEX IF EXISTS search_entry_summary_document",
)
CAN_CREATE = (
    "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'btree_gin')"
    " OR (EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'btree_gin')"
    " AND has_database_privilege(current_database(), 'CREATE')) AS ok"
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def filters_in_gin():
        from registry.tables import SearchEntry

        engine = SearchEntry._meta.db
        if engine.engine_type != "postgres":
            return
        (row,) = await SearchEntry.raw(CAN_CREATE)
        if not row["ok"]:
            return
        for sql in POSTGRES:
            await engine.run_ddl(sql)

    manager.add_raw(filters_in_gin)
    return manager
