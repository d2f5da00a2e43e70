"""PostgreSQL: merge the search GIN indexes' pending lists (issue 10, search speed).

A GIN index with `fastupdate` (the default) keeps new entries in an unsorted pending list until a
VACUUM (or an insert that finds the list over `gin_pending_list_limit`, 4 MB by default) merges
them, and every search reads that whole list: at 100 000 items the name and summary indexes had
~400 and ~300 pending pages after seeding, ~6 ms and ~4 ms added to every query on them, even a
word that matches nothing (EXPLAIN (ANALYZE, BUFFERS), bench/results.md). The lists left now are
merged once here; from now on publications write with a small limit and bulk writes merge what
they leave (registry.search.index).

Nothing is rewritten: the rows, the tsvectors and the published data stay as they are. SQLite's
FTS5 table has no such list and is left alone.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T05:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Search: merge the GIN pending lists on PostgreSQL"

INDEXES = ("search_entry_document", "search_entry_name_document", "search_entry_summary_document")
POSTGRES = tuple(
    sql
    for index in INDEXES
    for sql in (
        f"SELECT gin_clean_pending_list(c.oid) FROM pg_class c WHERE c.relname = '{index}'"
        " AND c.relkind = 'i'",
    )
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def merge_pending_lists():
        from registry.tables import SearchEntry

        engine = SearchEntry._meta.db
        if engine.engine_type == "postgres":
            for sql in POSTGRES:
                await engine.run_ddl(sql)

    manager.add_raw(merge_pending_lists)
    return manager
