"""Attachments (issue 12): the bytes of blank forms, samples and result samples, one row per
SHA-256. Raw SQL (a text primary key, BLOB/BYTEA), the same shape on both engines."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T00:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Attachments stored by SHA-256"

SQLITE = (
    "CREATE TABLE IF NOT EXISTS attachment ("
    "sha256 VARCHAR(64) PRIMARY KEY NOT NULL, content BLOB NOT NULL, "
    "media_type VARCHAR(100) NOT NULL DEFAULT '', size INTEGER NOT NULL DEFAULT 0, "
    "created_at TIMESTAMPTZ NOT NULL)",
)
POSTGRES = (
    "CREATE TABLE IF NOT EXISTS attachment ("
    "sha256 VARCHAR(64) PRIMARY KEY NOT NULL, content BYTEA NOT NULL, "
    "media_type VARCHAR(100) NOT NULL DEFAULT '', size INTEGER NOT NULL DEFAULT 0, "
    "created_at TIMESTAMPTZ NOT NULL)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def create_attachment_table():
        from registry.tables import StoredFile

        engine = StoredFile._meta.db
        for sql in SQLITE if engine.engine_type == "sqlite" else POSTGRES:
            await engine.run_ddl(sql)

    manager.add_raw(create_attachment_table)
    return manager
