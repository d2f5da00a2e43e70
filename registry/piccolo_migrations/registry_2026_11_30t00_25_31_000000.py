"""Life events (一件事): the database refuses what the workflow must never produce, as it does for
items — a second (event, version), a second open edition of an event, and a second change record
for one published edition of an event (its records carry no item id: `item IS NULL`, keyed by the
event's code). Plain SQL that SQLite and PostgreSQL both run.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T00:25:31:000000"
VERSION = "1.38.0"
DESCRIPTION = "Life events: unique indexes for their workflow and change records"

UNIQUE_INDEXES = (
    "CREATE UNIQUE INDEX IF NOT EXISTS life_event_edition_version_unique"
    " ON life_event_edition (event, version)",
    "CREATE UNIQUE INDEX IF NOT EXISTS life_event_edition_one_open ON life_event_edition (event)"
    " WHERE status IN ('draft', 'in_review', 'approved')",
    "CREATE UNIQUE INDEX IF NOT EXISTS change_record_event_version_unique"
    " ON change_record (item_code, version_after) WHERE item IS NULL",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def add_unique_indexes():
        from registry.tables import LifeEventEdition

        for sql in UNIQUE_INDEXES:
            await LifeEventEdition._meta.db.run_ddl(sql)

    manager.add_raw(add_unique_indexes)
    return manager
