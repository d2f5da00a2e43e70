"""Edition content moves into one JSON document (Edition.content); the database refuses a
second (item, version), a second open edition of an item, and a second change record for one
published edition.

The raw steps run before the columns are dropped (Piccolo runs `add_raw` first): every edition's
content is rebuilt from its old columns and reference rows, in the shape of the content schema
at this migration (later fields take their defaults when read). Published snapshots are not
touched, so every fingerprint stays valid.
"""

import json
from datetime import date

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-11-29T21:39:32:660980"
VERSION = "1.38.0"
DESCRIPTION = "edition content as one document; unique indexes for the workflow"

OPEN = ("draft", "in_review", "approved")
UNIQUE_INDEXES = (
    "CREATE UNIQUE INDEX edition_item_version_unique ON edition (item, version)",
    "CREATE UNIQUE INDEX edition_one_open_per_item ON edition (item) "
    "WHERE status IN ('draft', 'in_review', 'approved')",
    "CREATE UNIQUE INDEX change_record_item_version_unique ON change_record (item, version_after)",
)


class _Rows(Table, tablename="edition"):
    """Raw SQL only: the tables as they were at this migration."""


def _json(value, default):
    if value is None:
        return default
    return json.loads(value) if isinstance(value, str | bytes) else value


def _day(value):
    return value.isoformat() if isinstance(value, date) else str(value)


async def move_content_into_document():
    _Rows._meta.db = engine_finder()
    raw = _Rows.raw
    materials: dict[int, list] = {}
    for m in await raw(
        "SELECT em.edition, m.code, em.form, em.copies, em.medium, em.required, em.condition, "
        "em.waivable, em.notes FROM edition_material em JOIN material m ON m.id = em.material "
        "ORDER BY em.edition, em.position"
    ):
        materials.setdefault(m["edition"], []).append(
            {
                "material": m["code"],
                "form": m["form"],
                "copies": m["copies"],
                "medium": m["medium"],
                "required": bool(m["required"]),
                "condition": m["condition"],
                "waivable": bool(m["waivable"]),
                "notes": m["notes"],
            }
        )
    citations: dict[int, list] = {}
    for c in await raw(
        "SELECT c.edition, d.code, c.articles FROM citation c JOIN legal_document d ON d.id = c.document "
        "ORDER BY c.edition, c.position"
    ):
        citations.setdefault(c["edition"], []).append({"document": c["code"], "articles": c["articles"]})
    for e in await raw("SELECT * FROM edition ORDER BY id"):
        content = {
            "name": e["name"],
            "summary": e["summary"],
            "audience": _json(e["audience"], []),
            "result": e["result"],
            "conditions": e["conditions"],
            "steps": _json(e["steps"], []),
            "statutory_days": e["statutory_days"],
            "promised_days": e["promised_days"],
            "fees": _json(e["fees"], []),
            "venues": _json(e["venues"], []),
            "consult_phone": e["consult_phone"],
            "complaint_phone": e["complaint_phone"],
            "trips": e["trips"],
            "trips_reason": e["trips_reason"],
            "online_depth": e["online_depth"],
            "effective_at": _day(e["effective_at"]),
            "faq": _json(e["faq"], []),
            "legal_basis": citations.get(e["id"], []),
            "materials": materials.get(e["id"], []),
        }
        contributors = [e["editor"]] if e["editor"] is not None and e["status"] in OPEN else []
        await raw(
            "UPDATE edition SET content = {}, contributors = {} WHERE id = {}",
            json.dumps(content, ensure_ascii=False),
            json.dumps(contributors),
            e["id"],
        )


async def add_unique_indexes():
    engine = engine_finder()
    for statement in UNIQUE_INDEXES:
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="registry", description=DESCRIPTION
    )
    manager.add_raw(move_content_into_document)
    manager.add_raw(add_unique_indexes)

    manager.drop_column(
        table_class_name="Citation",
        tablename="citation",
        column_name="articles",
        db_column_name="articles",
        schema=None,
    )

    manager.drop_column(
        table_class_name="Edition",
        tablename="edition",
        column_name="audience",
        db_column_name="audience",
        schema=None,
    )

    manager.drop_column(
        table_class_name="Edition",
        tablename="edition",
        column_name="complaint_phone",
        db_column_name="complaint_phone",
        schema=None,
    )

    manager.drop_column(
        table_class_name="Edition",
        tablename="edition",
        column_name="conditions",
        db_column_name="conditions",
        schema=None,
    )

    manager.drop_column(
        table_class_name="Edition",
        tablename="edition",
        column_name="consult_phone",
        db_column_name="consult_phone",
        schema=None,
    )

    manager.drop_column(
        table_class_name="Edition",
        tablename="edition",
        column_name="faq",
        db_column_name="faq",
        schema=None,
    )

    manager.drop_column(
        table_class_name="Edition",
        tablename="edition",
        column_name="fees",
        db_column_name="fees",
        schema=None,
    )

    manager.drop_column(
        table_class_name="Edition",
        tablename="edition",
        column_name="result",
        db_column_name="result",
        schema=None,
    )

    manager.drop_column(
        table_class_name="Edition",
        tablename="edition",
        column_name="steps",
        db_column_name="steps",
        schema=None,
    )

    manager.drop_column(
        table_class_name="Edition",
        tablename="edition",
        column_name="summary",
        db_column_name="summary",
        schema=None,
    )

    manager.drop_column(
        table_class_name="Edition",
        tablename="edition",
        column_name="venues",
        db_column_name="venues",
        schema=None,
    )

    manager.drop_column(
        table_class_name="EditionMaterial",
        tablename="edition_material",
        column_name="condition",
        db_column_name="condition",
        schema=None,
    )

    manager.drop_column(
        table_class_name="EditionMaterial",
        tablename="edition_material",
        column_name="copies",
        db_column_name="copies",
        schema=None,
    )

    manager.drop_column(
        table_class_name="EditionMaterial",
        tablename="edition_material",
        column_name="form",
        db_column_name="form",
        schema=None,
    )

    manager.drop_column(
        table_class_name="EditionMaterial",
        tablename="edition_material",
        column_name="medium",
        db_column_name="medium",
        schema=None,
    )

    manager.drop_column(
        table_class_name="EditionMaterial",
        tablename="edition_material",
        column_name="notes",
        db_column_name="notes",
        schema=None,
    )

    manager.drop_column(
        table_class_name="EditionMaterial",
        tablename="edition_material",
        column_name="required",
        db_column_name="required",
        schema=None,
    )

    manager.drop_column(
        table_class_name="EditionMaterial",
        tablename="edition_material",
        column_name="waivable",
        db_column_name="waivable",
        schema=None,
    )

    return manager
