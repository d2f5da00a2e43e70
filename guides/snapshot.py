"""The Guide snapshot: everything one published guide shows, frozen.

A snapshot is built once, when an edition is published, and stored as its canonical JSON. Every
channel (online hall, counter screen, print, JSON, Markdown) renders the same snapshot, and prints
its fingerprint — the SHA-256 of the canonical JSON — so anyone can check that the screen, the
paper and the web page say the same thing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class DepartmentRef:
    code: str
    name: str
    short_name: str
    level: str  # "city" | "district"
    region: str


@dataclass(frozen=True, slots=True)
class Citation:
    title: str
    kind: str
    issuer: str
    number: str
    articles: str
    code: str = ""  # the legal document's catalogue code


@dataclass(frozen=True, slots=True)
class GuideMaterial:
    code: str
    name: str
    kind: str  # 证照 | 证明 | 申请表 | 其他
    form: str  # 原件 | 复印件 | 原件和复印件
    copies: int
    medium: str  # 纸质 | 电子 | 纸质或电子
    required: bool
    condition: str = ""
    waivable: bool = False
    issuer: str = ""
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    actor: str = ""
    duration: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class Fee:
    name: str
    amount: str
    basis: str = ""


@dataclass(frozen=True, slots=True)
class Venue:
    name: str
    address: str = ""
    window: str = ""
    hours: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Faq:
    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class Guide:
    code: str
    name: str
    item_type: str
    department: DepartmentRef
    version: int
    effective_at: date
    published_at: datetime
    summary: str = ""
    audience: tuple[str, ...] = ()
    result: str = ""
    conditions: str = ""
    legal_basis: tuple[Citation, ...] = ()
    materials: tuple[GuideMaterial, ...] = ()
    steps: tuple[Step, ...] = ()
    statutory_days: int = 0
    promised_days: int = 0
    fees: tuple[Fee, ...] = ()
    venues: tuple[Venue, ...] = ()
    consult_phone: str = ""
    complaint_phone: str = ""
    trips: int = 1
    trips_reason: str = ""
    online_depth: int = 0
    faq: tuple[Faq, ...] = ()
    schema: int = field(default=SCHEMA_VERSION)

    @property
    def is_free(self) -> bool:
        return not self.fees

    @property
    def at_most_once(self) -> bool:
        return self.trips <= 1

    @property
    def fingerprint(self) -> str:
        return fingerprint(self)

    def to_dict(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Guide:
        return cls(
            code=data["code"],
            name=data["name"],
            item_type=data["item_type"],
            department=DepartmentRef(**data["department"]),
            version=data["version"],
            effective_at=date.fromisoformat(data["effective_at"]),
            published_at=datetime.fromisoformat(data["published_at"]),
            summary=data["summary"],
            audience=tuple(data["audience"]),
            result=data["result"],
            conditions=data["conditions"],
            legal_basis=tuple(Citation(**c) for c in data["legal_basis"]),
            materials=tuple(GuideMaterial(**m) for m in data["materials"]),
            steps=tuple(Step(**s) for s in data["steps"]),
            statutory_days=data["statutory_days"],
            promised_days=data["promised_days"],
            fees=tuple(Fee(**f) for f in data["fees"]),
            venues=tuple(Venue(**v) for v in data["venues"]),
            consult_phone=data["consult_phone"],
            complaint_phone=data["complaint_phone"],
            trips=data["trips"],
            trips_reason=data["trips_reason"],
            online_depth=data["online_depth"],
            faq=tuple(Faq(**q) for q in data["faq"]),
            schema=data.get("schema", SCHEMA_VERSION),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Guide:
        return cls.from_dict(json.loads(text))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def canonical_json(guide: Guide) -> bytes:
    """The canonical form: UTF-8 JSON, keys sorted, no insignificant whitespace."""
    return json.dumps(guide.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )


def fingerprint(guide: Guide) -> str:
    """SHA-256 of the canonical JSON, hex."""
    return hashlib.sha256(canonical_json(guide)).hexdigest()
