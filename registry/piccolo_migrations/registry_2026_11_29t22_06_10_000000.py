"""The engines' own search indexes over `search_entry` (issue 10). Hand-written raw SQL: Piccolo
knows neither FTS5 nor tsvector. Runs after the migration that creates `search_entry`.

- SQLite: an FTS5 table `search_fts` (rowid = search_entry.id) over the token columns, with the
  `unicode61` tokenizer (the tokens are computed in Python: jieba words and pinyin, separated by
  spaces) and prefix indexes for pinyin typed as a prefix. Written by registry.search.index in
  the same transaction as the row.
- PostgreSQL: generated `tsvector` columns — `document` (name A, summary B, the rest C) and
  `gram_document` (a name's characters and character pairs, for typos) — with GIN indexes.
  `to_tsvector('simple', …)` keeps the Python tokens as they are.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-29T22:06:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "Search index: FTS5 on SQLite, tsvector + GIN on PostgreSQL"

SQLITE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5("
    "name, summary, body, grams, tokenize = 'unicode61', prefix = '2 3 4')",
)
POSTGRES = (
    "ALTER TABLE search_entry ADD COLUMN IF NOT EXISTS document tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', name_tokens), 'A')"
    " || setweight(to_tsvector('simple', summary_tokens), 'B')"
    " || setweight(to_tsvector('simple', body_tokens), 'C')) STORED",
    "ALTER TABLE search_entry ADD COLUMN IF NOT EXISTS gram_document tsvector"
    " GENERATED ALWAYS AS (to_tsvector('simple', grams)) STORED",
    "CREATE INDEX IF NOT EXISTS search_entry_document ON search_entry USING GIN (document)",
    "CREATE INDEX IF NOT EXISTS search_entry_gram_document ON search_entry USING GIN (gram_document)",
)
BOTH = ("CREATE INDEX IF NOT EXISTS search_miss_hits ON search_miss (hits)",)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def create_search_index():
        from registry.tables import SearchEntry

        engine = SearchEntry._meta.db
        statements = SQLITE if engine.engine_type == "sqlite" else POSTGRES
        for sql in (*statements, *BOTH):
            await engine.run_ddl(sql)

    manager.add_raw(create_search_index)
    return manager
