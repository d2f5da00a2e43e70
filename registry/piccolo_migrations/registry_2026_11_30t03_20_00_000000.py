"""Stored renderings (issue 14): `rendered_document` keeps the hall page and the printout of
every current guide as rendered at publication (registry.rendered), so that serving a guide no
cache of this process holds is one indexed read, not a render.

Hand-written raw SQL (a plain key-value table; bytes are BLOB on SQLite, BYTEA on PostgreSQL).
It is not filled here: a rendering depends on the templates and the public address, which a
migration does not know. Guides published earlier are rendered on their first read and stored
then; `onetrip seed` fills the table for what it loads.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T03:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Stored renderings of published guides"

SQLITE = (
    "CREATE TABLE IF NOT EXISTS rendered_document"
    " (key TEXT PRIMARY KEY, stamp TEXT NOT NULL, body BLOB NOT NULL)"
)
POSTGRES = (
    "CREATE TABLE IF NOT EXISTS rendered_document"
    " (key TEXT PRIMARY KEY, stamp TEXT NOT NULL, body BYTEA NOT NULL)"
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def create_rendered_document():
        from registry.tables import Edition

        engine = Edition._meta.db
        await engine.run_ddl(SQLITE if engine.engine_type == "sqlite" else POSTGRES)

    manager.add_raw(create_rendered_document)
    return manager
