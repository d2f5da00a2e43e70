"""PostgreSQL: the name and the summary get their own tsvector columns and GIN indexes (issue 10,
search speed). A weight-restricted tsquery on the one `document` column (`'登记':A`) cannot be
answered by GIN alone: every match's whole document was read again to check the weight, which
made a common word cost hundreds of milliseconds. The typo grams column is dropped: typos are
found in the distinct names (registry.search.names). SQLite's FTS5 table already has a column
per field and is left as it is. Generated columns: `onetrip reindex` needs nothing more."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T01:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Search: name and summary tsvectors on PostgreSQL"

POSTGRES = (
    "ALTER TABLE search_entry ADD COLUMN IF NOT EXISTS name_document tsvector"
    " GENERATED ALWAYS AS (to_tsvector('simple', name_tokens)) STORED",
    "ALTER TABLE search_entry ADD COLUMN IF NOT EXISTS summary_document tsvector"
    " GENERATED ALWAYS AS (to_tsvector('simple', summary_tokens)) STORED",
    "CREATE INDEX IF NOT EXISTS search_entry_name_document ON search_entry USING GIN (name_document)",
    "CREATE INDEX IF NOT EXISTS search_entry_summary_document ON search_entry USING GIN (summary_document)",
    "DROP INDEX IF EXISTS search_entry_gram_document",
    "ALTER TABLE search_entry DROP COLUMN IF EXISTS gram_document",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def split_documents():
        from registry.tables import SearchEntry

        engine = SearchEntry._meta.db
        if engine.engine_type == "postgres":
            for sql in POSTGRES:
                await engine.run_ddl(sql)

    manager.add_raw(split_documents)
    return manager
