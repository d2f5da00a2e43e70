"""Stored renderings carry the CSP sources of their inline `<style>` blocks (issue 14).

A printout has one inline `<style>` (its page footer); the Content-Security-Policy must list its
SHA-256. Stored with the page, a request serving the stored bytes compressed never decompresses
them to find it. Rows stored before this column have '' here and a stamp that no longer matches
(registry/rendered.py changed with it), so they are rendered and stored again on first read.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T05:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Inline style sources of stored renderings"

DDL = "ALTER TABLE rendered_document ADD COLUMN styles TEXT NOT NULL DEFAULT ''"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def add_styles():
        from registry.tables import Edition

        await Edition._meta.db.run_ddl(DDL)

    manager.add_raw(add_styles)
    return manager
