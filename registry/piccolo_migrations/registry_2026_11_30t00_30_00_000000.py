"""Freshness, law changes and catalogue upkeep (issue 13). Hand-written raw SQL for both engines.

- service_item.reviewed_on / review_by / review_flag: the last review, the next one due (indexed:
  the editors' inbox asks "due before D"), and why it is wanted sooner. Existing items count
  their current edition's publication (Beijing date) as the last review.
- legal_document.amended_on / repealed_on: a new version or the repeal, recorded by an admin.
- legal_document.revision, material.revision: counters the public caches' head includes.
- material.retired / merged_into: catalogue entries retired or merged into another.
- citation.articles: the articles cited, beside the reference (backfilled from each edition's
  content), so /laws is one indexed join instead of reading every edition's content.
- edition_material.source / waivable: a use's 来源渠道 and 可免提交 beside the reference
  (backfilled likewise), so the 减证 report is one indexed join.
- quality_finding: the named checks' findings on each current guide (registry.quality), filled
  here for the registry as it stands and kept in step by every publication.
- change_record: one record per (item, version) still, but only for publications: a
  "reviewed, no change" record (kind 'review') names the version it confirmed, as often as it is
  reviewed. The unique index becomes partial (both engines support WHERE on an index).
"""

import json

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T00:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Freshness, law changes and catalogue upkeep"

COLUMNS = (
    "ALTER TABLE service_item ADD COLUMN reviewed_on DATE NULL",
    "ALTER TABLE service_item ADD COLUMN review_by DATE NULL",
    "ALTER TABLE service_item ADD COLUMN review_flag TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE legal_document ADD COLUMN amended_on DATE NULL",
    "ALTER TABLE legal_document ADD COLUMN repealed_on DATE NULL",
    "ALTER TABLE material ADD COLUMN retired BOOLEAN NOT NULL DEFAULT FALSE",
    "ALTER TABLE material ADD COLUMN merged_into VARCHAR(64) NOT NULL DEFAULT ''",
    "ALTER TABLE citation ADD COLUMN articles TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE edition_material ADD COLUMN source VARCHAR(16) NOT NULL DEFAULT ''",
    "ALTER TABLE edition_material ADD COLUMN waivable BOOLEAN NOT NULL DEFAULT FALSE",
    "ALTER TABLE legal_document ADD COLUMN revision INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE material ADD COLUMN revision INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX IF NOT EXISTS service_item_review_by ON service_item (review_by)",
    "CREATE TABLE quality_finding (id {ID}, item INTEGER NOT NULL, department INTEGER NOT NULL,"
    " code VARCHAR(8) NOT NULL, severity VARCHAR(8) NOT NULL, field VARCHAR(100) NOT NULL DEFAULT '',"
    " message TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX IF NOT EXISTS quality_finding_item ON quality_finding (item)",
    "CREATE INDEX IF NOT EXISTS quality_finding_department ON quality_finding (department)",
    "DROP INDEX IF EXISTS change_record_item_version_unique",
    "CREATE UNIQUE INDEX change_record_item_version_unique ON change_record (item, version_after)"
    " WHERE kind <> 'review'",
)
SQLITE_BACKFILL = (
    "UPDATE service_item SET reviewed_on = (SELECT date(e.published_at, '+8 hours') FROM edition e"
    " WHERE e.id = service_item.current_edition) WHERE current_edition IS NOT NULL",
    "UPDATE service_item SET review_by = date(reviewed_on, '+12 months') WHERE reviewed_on IS NOT NULL",
)
POSTGRES_BACKFILL = (
    "UPDATE service_item SET reviewed_on = (SELECT (e.published_at AT TIME ZONE 'Asia/Shanghai')::date"
    " FROM edition e WHERE e.id = service_item.current_edition) WHERE current_edition IS NOT NULL",
    "UPDATE service_item SET review_by = (reviewed_on + INTERVAL '12 months')::date"
    " WHERE reviewed_on IS NOT NULL",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def add_columns():
        from registry.tables import ServiceItem

        engine = ServiceItem._meta.db
        backfill = SQLITE_BACKFILL if engine.engine_type == "sqlite" else POSTGRES_BACKFILL
        sqlite = engine.engine_type == "sqlite"
        key = "INTEGER PRIMARY KEY AUTOINCREMENT" if sqlite else "SERIAL PRIMARY KEY"
        for sql in (*COLUMNS, *backfill):
            await engine.run_ddl(sql.replace("{ID}", key))
        editions = await ServiceItem.raw(
            "SELECT id, content FROM edition WHERE id IN (SELECT DISTINCT edition FROM citation)"
            " OR id IN (SELECT DISTINCT edition FROM edition_material)"
        )
        for e in editions:
            content = json.loads(e["content"]) if isinstance(e["content"], str) else e["content"]
            for position, use in enumerate(content.get("materials") or []):
                if use.get("source") or use.get("waivable"):
                    await ServiceItem.raw(
                        "UPDATE edition_material SET source = {}, waivable = {}"
                        " WHERE edition = {} AND position = {}",
                        use.get("source") or "",
                        bool(use.get("waivable")),
                        e["id"],
                        position,
                    )
            for position, ref in enumerate(content.get("legal_basis") or []):
                if ref.get("articles"):
                    await ServiceItem.raw(
                        "UPDATE citation SET articles = {} WHERE edition = {} AND position = {}",
                        ref["articles"],
                        e["id"],
                        position,
                    )

    async def find():
        from registry.quality import rebuild

        await rebuild()

    manager.add_raw(add_columns)
    manager.add_raw(find)
    return manager
