"""Building the frozen Guide snapshot of an edition (no Piccolo types leak into guides/)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from guides import Citation, DepartmentRef, Guide, GuideMaterial
from guides.snapshot import GuideContent, MaterialTerms
from registry.editions.schema import EditionContent


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
    """The snapshot of `content`: every shared field as it is, catalogue references resolved."""
    materials = []
    for use in content.materials:
        info = catalogue.materials[use.material]
        use_fields = {name: getattr(use, name) for name in MaterialTerms.__struct_fields__}
        materials.append(
            GuideMaterial(code=info.code, name=info.name, kind=info.kind, issuer=info.issuer, **use_fields)
        )
    citations = []
    for ref in content.legal_basis:
        doc = catalogue.documents[ref.document]
        citations.append(Citation(doc.title, doc.kind, doc.issuer, doc.number, ref.articles, code=doc.code))
    return Guide(
        **{name: getattr(content, name) for name in GuideContent.__struct_fields__},
        code=code,
        item_type=item_type,
        department=department,
        version=version,
        published_at=published_at,
        legal_basis=tuple(citations),
        materials=tuple(materials),
    )
