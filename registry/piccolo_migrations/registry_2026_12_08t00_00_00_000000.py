"""A partial index for the change log's head: the count of items flagged for review.

Every process reads the head (`registry.reads.public.HEAD_SQL`) four times a second. Its count
of items whose cited law changed (`review_flag <> ''`) scanned every service item: 9.4 ms a read
at 100 000 items (≈ 4 % of a core per process, and ≈ 3 000 page reads each time, which pushed the
pages of the guides themselves out of SQLite's cache). Over this index, which holds only the
flagged items (normally none), it costs what the other counts cost: ≈ 0.02 ms.
Plain SQL, the same on SQLite and PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-08T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Partial index of the items flagged for review"

DDL = "CREATE INDEX IF NOT EXISTS service_item_flagged ON service_item (id) WHERE review_flag <> ''"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def create_index():
        from registry.tables import ServiceItem

        await ServiceItem._meta.db.run_ddl(DDL)

    manager.add_raw(create_index)
    return manager
