"""Rows <-> content: where an edition's content lives and how commands find and lock it.

An edition stores its whole content as one JSON document (`Edition.content`, the schema's own
encoding), so a new guide field is one line in the schema and nothing here. A few fields are
also kept as columns for indexed reads (`PROJECTED`), and the catalogue references as rows
(`EditionMaterial`, `Citation`) so the database refuses a dangling one and the catalogue can
ask which items use an entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from piccolo.engine.postgres import PostgresEngine

from guides import DepartmentRef, Guide
from guides.i18n import _
from registry import attachments
from registry.editions.schema import EditionContent
from registry.editions.workflow import Subject
from registry.errors import FieldError, NotFound, ValidationError
from registry.snapshot import Catalogue, DocumentInfo, MaterialInfo, department_ref
from registry.tables import Citation, Edition, EditionMaterial, LegalDocument, Material, ServiceItem
from registry.vocab import OPEN_STATUSES, EditionStatus

# Content fields also kept as columns, for lists, metrics and search to query with indexes.
PROJECTED = (
    "name",
    "trips",
    "trips_reason",
    "online_depth",
    "statutory_days",
    "promised_days",
    "effective_at",
)

ITEM_COLUMNS = (
    ServiceItem.id,
    ServiceItem.code,
    ServiceItem.item_type,
    ServiceItem.current_edition,
    ServiceItem.withdrawn,
    ServiceItem.department.id,
    ServiceItem.department.code,
    ServiceItem.department.name,
    ServiceItem.department.short_name,
    ServiceItem.department.level,
    ServiceItem.department.region,
)


@dataclass(frozen=True, slots=True)
class RefIds:
    """Database ids of catalogue entries, by code."""

    materials: dict[str, int]
    documents: dict[str, int]


def is_postgres() -> bool:
    return isinstance(Edition._meta.db, PostgresEngine)


# ---- items ------------------------------------------------------------------------------------


async def item_row(code: str, *, lock: bool = False) -> dict[str, Any]:
    """The item and its department. `lock=True` (inside a write transaction) takes the item's
    row lock first on PostgreSQL, so every command on one item runs one after another; on
    SQLite the IMMEDIATE transaction already holds the database's write lock."""
    query = ServiceItem.select(*ITEM_COLUMNS).where(ServiceItem.code == code)
    if lock and is_postgres():
        query = query.lock_rows("UPDATE", of=(ServiceItem,))
    row = await query.first()
    if row is None:
        raise NotFound(_("没有找到编码为“{code}”的服务事项。", code=code))
    return row


async def claim_item(item_id: int) -> dict[str, Any] | None:
    """The item, locked for this transaction — or None when another transaction holds it
    (PostgreSQL `FOR UPDATE SKIP LOCKED`: background publishers never queue behind each other)."""
    query = ServiceItem.select(*ITEM_COLUMNS).where(ServiceItem.id == item_id)
    if is_postgres():
        query = query.lock_rows("UPDATE", skip_locked=True, of=(ServiceItem,))
    return await query.first()


def item_department(item: dict[str, Any]) -> DepartmentRef:
    return department_ref(item, "department.")


async def open_edition(item_id: int) -> dict[str, Any] | None:
    """The item's edition in the works (draft, in review or approved-and-held), if any."""
    return (
        await Edition.select()
        .where((Edition.item == item_id) & Edition.status.is_in([s.value for s in OPEN_STATUSES]))
        .output(load_json=True)
        .first()
    )


def subject(item: dict[str, Any], edition: dict[str, Any] | None) -> Subject:
    """What the workflow table needs to know about an item and its open edition."""
    return Subject(
        status=EditionStatus(edition["status"]) if edition else None,
        department_code=item["department.code"],
        contributors=frozenset(edition["contributors"] or ()) if edition else frozenset(),
        withdrawn=item["withdrawn"],
        published=item["current_edition"] is not None,
    )


async def next_version(item_id: int) -> int:
    rows = await Edition.select(Edition.version).where(Edition.item == item_id)
    return max((r["version"] for r in rows), default=0) + 1


# ---- content ----------------------------------------------------------------------------------


def content_json(content: EditionContent) -> str:
    return msgspec.json.encode(content).decode("utf-8")


def content_of(row: dict[str, Any]) -> EditionContent:
    """An edition row's content (the row may come with or without JSON loaded)."""
    value = row["content"]
    if isinstance(value, str | bytes):
        return msgspec.json.decode(value, type=EditionContent)
    return msgspec.convert(value, EditionContent)


async def edition_content(edition_id: int) -> EditionContent:
    row = await Edition.select(Edition.content).where(Edition.id == edition_id).first()
    if row is None:
        raise NotFound(_("没有找到该版本。"))
    return content_of(row)


def content_columns(content: EditionContent) -> dict[Any, Any]:
    """The column values that hold `content`: the document and its projections."""
    values: dict[Any, Any] = {Edition.content: content_json(content)}
    for name in PROJECTED:
        values[getattr(Edition, name)] = getattr(content, name)
    return values


async def ref_ids() -> RefIds:
    return RefIds(
        materials={r["code"]: r["id"] for r in await Material.select(Material.id, Material.code)},
        documents={
            r["code"]: r["id"] for r in await LegalDocument.select(LegalDocument.id, LegalDocument.code)
        },
    )


def reference_errors(content: EditionContent, ids: RefIds) -> list[FieldError]:
    return [
        FieldError(f"materials[{i}].material", _("材料目录中没有“{v}”", v=m.material))
        for i, m in enumerate(content.materials)
        if m.material not in ids.materials
    ] + [
        FieldError(f"legal_basis[{i}].document", _("法律依据中没有“{v}”", v=c.document))
        for i, c in enumerate(content.legal_basis)
        if c.document not in ids.documents
    ]


async def check_references(content: EditionContent) -> RefIds:
    """Every material and legal document the content cites exists in the catalogue, and every
    attachment names a stored file."""
    ids = await ref_ids()
    errors = reference_errors(content, ids) + await attachments.reference_errors(content)
    if errors:
        raise ValidationError(errors)
    return ids


async def write_references(edition_id: int, content: EditionContent, ids: RefIds) -> None:
    await EditionMaterial.delete().where(EditionMaterial.edition == edition_id)
    await Citation.delete().where(Citation.edition == edition_id)
    if content.materials:
        await EditionMaterial.insert(
            *(
                EditionMaterial(
                    edition=edition_id,
                    material=ids.materials[use.material],
                    position=i,
                    source=use.source,
                    waivable=use.waivable,
                )
                for i, use in enumerate(content.materials)
            )
        )
    if content.legal_basis:
        await Citation.insert(
            *(
                Citation(
                    edition=edition_id,
                    document=ids.documents[ref.document],
                    position=i,
                    articles=ref.articles,
                )
                for i, ref in enumerate(content.legal_basis)
            )
        )


async def insert_edition(
    *,
    item_id: int,
    version: int,
    status: EditionStatus,
    content: EditionContent,
    ids: RefIds,
    now: Any,
    editor: int | None = None,
    change_note: str = "",
    withdraw: bool = False,
) -> int:
    row = Edition(
        item=item_id,
        version=version,
        status=status.value,
        change_note=change_note,
        created_at=now,
        updated_at=now,
        editor=editor,
        contributors=[editor] if editor is not None else [],
        withdraw=withdraw,
    )
    for column, value in content_columns(content).items():
        setattr(row, column._meta.name, value)
    (inserted,) = await Edition.insert(row).returning(Edition.id)
    await write_references(inserted["id"], content, ids)
    return inserted["id"]


async def edition_row(edition_id: int) -> dict[str, Any]:
    return await Edition.select().where(Edition.id == edition_id).output(load_json=True).first()


# ---- published guides and the catalogue --------------------------------------------------------


async def current_guide(item_id: int) -> Guide | None:
    item = await ServiceItem.select(ServiceItem.current_edition).where(ServiceItem.id == item_id).first()
    if not item or item["current_edition"] is None:
        return None
    row = await Edition.select(Edition.snapshot).where(Edition.id == item["current_edition"]).first()
    return Guide.from_json(row["snapshot"]) if row and row["snapshot"] else None


async def load_catalogue() -> Catalogue:
    materials = await Material.select(Material.code, Material.name, Material.kind, Material.issuer)
    documents = await LegalDocument.select(
        LegalDocument.code,
        LegalDocument.title,
        LegalDocument.kind,
        LegalDocument.issuer,
        LegalDocument.number,
    )
    return Catalogue(
        materials={m["code"]: MaterialInfo(**m) for m in materials},
        documents={d["code"]: DocumentInfo(**d) for d in documents},
    )
