"""Stored QR codes (issue 14): `qr_code` keeps the SVG and PNG bytes of every QR code the
registry has drawn, keyed by the text it encodes (registry.qrcodes).

Hand-written raw SQL (a plain key-value table; bytes are BLOB on SQLite, BYTEA on PostgreSQL).
It is not filled here: the text of a QR code includes the public address
(ONETRIP_PUBLIC_URL, or where `onetrip serve` listens), which a migration does not know, and
drawing costs ≈ 40 ms a code (27 minutes for 20 000 codes). An existing registry's codes are
drawn on first read and stored then (registry.qrcodes.ensure); new publications draw theirs.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T00:40:14:000000"
VERSION = "1.38.0"
DESCRIPTION = "Stored QR codes, keyed by the text they encode"

SQLITE = "CREATE TABLE IF NOT EXISTS qr_code (text TEXT PRIMARY KEY, svg BLOB NOT NULL, png BLOB NOT NULL)"
POSTGRES = "CREATE TABLE IF NOT EXISTS qr_code (text TEXT PRIMARY KEY, svg BYTEA NOT NULL, png BYTEA NOT NULL)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def create_qr_code():
        from registry.tables import Edition

        engine = Edition._meta.db
        await engine.run_ddl(SQLITE if engine.engine_type == "sqlite" else POSTGRES)

    manager.add_raw(create_qr_code)
    return manager
