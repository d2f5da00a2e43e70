"""Building the frozen Guide snapshot of an edition (no Piccolo types leak into guides/)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from guides import Citation, DepartmentRef, Guide, GuideMaterial
from registry.content import EditionContent


@dataclass(frozen=True, slots=True)
class MaterialInfo:
    code: str
    name: str
    kind: str
    issuer: str


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    code: str
    title: str
    kind: str
    issuer: str
    number: str


@dataclass(frozen=True, slots=True)
class Catalogue:
    """What an edition's references resolve to: materials and legal documents by code."""

    materials: dict[str, MaterialInfo]
    documents: dict[str, DocumentInfo]


def department_ref(row: Mapping[str, Any], prefix: str = "") -> DepartmentRef:
    """A DepartmentRef from a row, whose keys may carry a join prefix ("department.")."""
    return DepartmentRef(
        code=row[f"{prefix}code"],
        name=row[f"{prefix}name"],
        short_name=row[f"{prefix}short_name"],
        level=row[f"{prefix}level"],
        region=row[f"{prefix}region"],
    )


def build_guide(
    *,
    code: str,
    item_type: str,
    department: DepartmentRef,
    version: int,
    content: EditionContent,
    catalogue: Catalogue,
    published_at: datetime,
) -> Guide:
    materials = []
    for use in content.materials:
        info = catalogue.materials[use.material]
        materials.append(
            GuideMaterial(
                code=info.code,
                name=info.name,
                kind=info.kind,
                form=use.form,
                copies=use.copies,
                medium=use.medium,
                required=use.required,
                condition=use.condition,
                waivable=use.waivable,
                issuer=info.issuer,
                notes=use.notes,
            )
        )
    citations = []
    for ref in content.legal_basis:
        doc = catalogue.documents[ref.document]
        citations.append(Citation(doc.title, doc.kind, doc.issuer, doc.number, ref.articles, code=doc.code))
    return Guide(
        code=code,
        name=content.name,
        item_type=item_type,
        department=department,
        version=version,
        effective_at=content.effective_at,
        published_at=published_at,
        summary=content.summary,
        audience=content.audience,
        result=content.result,
        conditions=content.conditions,
        legal_basis=tuple(citations),
        materials=tuple(materials),
        steps=content.steps,
        statutory_days=content.statutory_days,
        promised_days=content.promised_days,
        fees=content.fees,
        venues=content.venues,
        consult_phone=content.consult_phone,
        complaint_phone=content.complaint_phone,
        trips=content.trips,
        trips_reason=content.trips_reason,
        online_depth=content.online_depth,
        faq=content.faq,
    )
