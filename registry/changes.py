"""Write use-cases. Each public function runs inside the caller's transaction.

Today: publishing an item's edition (used by `onetrip seed`). Drafts, review and approval
build on the same `_insert_edition`.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from guides import DepartmentRef, Guide, canonical_json, fingerprint
from registry.content import EditionContent
from registry.snapshot import Catalogue, build_guide
from registry.tables import (
    Citation,
    Edition,
    EditionMaterial,
    EditionStatus,
    ServiceItem,
)


@dataclasses.dataclass(frozen=True, slots=True)
class RefIds:
    """Database ids of catalogue entries, by code."""

    materials: dict[str, int]
    documents: dict[str, int]


async def _insert_edition(
    *,
    item_id: int,
    version: int,
    status: EditionStatus,
    content: EditionContent,
    ids: RefIds,
    now: datetime,
    guide: Guide | None,
    change_note: str = "",
) -> int:
    row = Edition(
        item=item_id,
        version=version,
        status=status.value,
        name=content.name,
        summary=content.summary,
        audience=list(content.audience),
        result=content.result,
        conditions=content.conditions,
        steps=[dataclasses.asdict(s) for s in content.steps],
        fees=[dataclasses.asdict(f) for f in content.fees],
        venues=[dataclasses.asdict(v) for v in content.venues],
        faq=[dataclasses.asdict(q) for q in content.faq],
        statutory_days=content.statutory_days,
        promised_days=content.promised_days,
        consult_phone=content.consult_phone,
        complaint_phone=content.complaint_phone,
        trips=content.trips,
        trips_reason=content.trips_reason,
        online_depth=content.online_depth,
        effective_at=content.effective_at,
        change_note=change_note,
        created_at=now,
        published_at=now if guide else None,
        snapshot=canonical_json(guide).decode() if guide else None,
        fingerprint=fingerprint(guide) if guide else None,
    )
    (inserted,) = await Edition.insert(row).returning(Edition.id)
    edition_id = inserted["id"]
    if content.materials:
        await EditionMaterial.insert(
            *(
                EditionMaterial(
                    edition=edition_id,
                    material=ids.materials[use.material],
                    position=i,
                    form=use.form,
                    copies=use.copies,
                    medium=use.medium,
                    required=use.required,
                    condition=use.condition,
                    waivable=use.waivable,
                    notes=use.notes,
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
    return edition_id


async def publish_new_item(
    *,
    code: str,
    item_type: str,
    department_id: int,
    department: DepartmentRef,
    content: EditionContent,
    catalogue: Catalogue,
    ids: RefIds,
    now: datetime,
) -> Guide:
    """Create an item whose first edition is published at once (seeding)."""
    (item,) = await ServiceItem.insert(
        ServiceItem(code=code, department=department_id, item_type=item_type, created_at=now)
    ).returning(ServiceItem.id)
    return await publish_edition(
        item_id=item["id"],
        code=code,
        item_type=item_type,
        department=department,
        version=1,
        content=content,
        catalogue=catalogue,
        ids=ids,
        now=now,
    )


async def publish_edition(
    *,
    item_id: int,
    code: str,
    item_type: str,
    department: DepartmentRef,
    version: int,
    content: EditionContent,
    catalogue: Catalogue,
    ids: RefIds,
    now: datetime,
    change_note: str = "",
) -> Guide:
    """Publish `content` as edition `version` of the item; the previous one is superseded."""
    guide = build_guide(
        code=code,
        item_type=item_type,
        department=department,
        version=version,
        content=content,
        catalogue=catalogue,
        published_at=now,
    )
    await Edition.update({Edition.status: EditionStatus.superseded.value}).where(
        (Edition.item == item_id) & (Edition.status == EditionStatus.published.value)
    )
    edition_id = await _insert_edition(
        item_id=item_id,
        version=version,
        status=EditionStatus.published,
        content=content,
        ids=ids,
        now=now,
        guide=guide,
        change_note=change_note,
    )
    await ServiceItem.update({ServiceItem.current_edition: edition_id}).where(ServiceItem.id == item_id)
    return guide
