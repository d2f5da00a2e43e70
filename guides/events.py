"""Life events (一件事): a bundle of items handled together at one window — the declaration of
a bundle's content, its published snapshot and fingerprint, and the merged guide.

`EventContent` declares a bundle's own fields once (labels and limits, as `guides.snapshot` does
for an item). `EventGuide` is what the public reads: the bundle's content plus, for every item in
it, the item's current guide version and fingerprint. Its canonical JSON is what the bundle's one
fingerprint hashes, so a change to any of its items changes the bundle's fingerprint too.

`merge()` builds the guide a citizen reads from the bundle and its items' guides: the materials
de-duplicated by catalogue entry (one 居民身份证, not four), each saying which items need it; the
bundle's trips and promised days next to the sums of the separate items; the items' situations
merged by question key. Pure: no database, no HTTP.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Struct

from guides.i18n import _
from guides.snapshot import (
    Audience,
    DepartmentRef,
    F,
    Fee,
    Guide,
    GuideMaterial,
    Situation,
    SituationOption,
    canonical_json,
)

EVENT_SCHEMA = 1
MAX_ITEMS = 20
EVENT_CODE = re.compile(r"YJS-[A-Z0-9]{2,16}", re.ASCII)


class EventContent(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The content of a life event, declared once: forms, seeds and snapshots read it."""

    name: Annotated[str, F("一件事名称", min_length=1, max_length=100, example="开办企业")]
    audience: Annotated[
        tuple[Audience, ...], F("服务对象", max_length=3, help="个人办事选“自然人”，企业办事选“法人”")
    ] = ()
    description: Annotated[str, F("说明", max_length=2000, widget="textarea")] = ""
    keywords: Annotated[
        tuple[str, ...],
        F(
            "关键词",
            max_length=20,
            help="群众常说的叫法，用顿号“、”分隔，用于搜索",
            example="开公司、注册公司",
        ),
    ] = ()
    items: Annotated[
        tuple[str, ...],
        F("包含事项", min_length=1, max_length=MAX_ITEMS, help="事项编码，按办理顺序每行一个"),
    ] = ()
    trips: Annotated[
        int, F("一窗办理到现场次数", ge=0, le=10, help="在一个窗口一次办完全部事项时的到现场次数")
    ] = 1
    trips_reason: Annotated[
        str, F("次数说明", max_length=500, help="为什么是这个次数（如：一窗受理、结果一次领取）")
    ] = ""
    promised_days: Annotated[int, F("一件事承诺时限", ge=0, le=365, help="工作日，一并办理全部事项")] = 0


class EventItemRef(Struct, frozen=True, forbid_unknown_fields=True):
    """An item of a bundle as published: what the bundle's fingerprint depends on."""

    code: str
    name: str
    version: int
    fingerprint: str


class EventGuide(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The published snapshot of a life event, with its items' current fingerprints."""

    code: str
    version: int
    department: DepartmentRef  # 牵头部门
    published_at: datetime
    content: EventContent
    members: tuple[EventItemRef, ...] = ()
    schema: int = EVENT_SCHEMA

    def to_json(self) -> bytes:
        return event_canonical_json(self)

    @classmethod
    def from_json(cls, text: str | bytes) -> EventGuide:
        return msgspec.json.decode(text, type=cls)


def event_canonical_json(event: EventGuide) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the same canonical form as an item's guide."""
    return canonical_json(event)  # type: ignore[arg-type]


def event_fingerprint(event: EventGuide) -> str:
    return hashlib.sha256(event_canonical_json(event)).hexdigest()


def with_members(event: EventGuide, guides: dict[str, tuple[Guide, str]]) -> EventGuide:
    """The snapshot as it stands now: the members are the items' current guides (code -> (guide,
    fingerprint)); an item no longer published is left out."""
    members = tuple(
        EventItemRef(code, guides[code][0].name, guides[code][0].version, guides[code][1])
        for code in event.content.items
        if code in guides
    )
    return msgspec.structs.replace(event, members=members)


# ---- the merged guide ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemLine:
    code: str
    name: str
    department: str
    trips: int
    promised_days: int
    statutory_days: int
    version: int


@dataclass(frozen=True, slots=True)
class MergedMaterial:
    """One catalogue entry, asked for by one or more items."""

    code: str
    name: str
    kind: str
    issuer: str
    source: str
    required: bool  # some item needs it in every case
    waivable: bool  # every item that asks for it accepts it through data sharing
    copies: int  # the most any item asks for
    forms: tuple[str, ...]
    conditions: tuple[str, ...]  # "item name：condition" for items that need it only sometimes
    items: tuple[ItemLine, ...]

    @property
    def shared(self) -> bool:
        return len(self.items) > 1


@dataclass(frozen=True, slots=True)
class MergedSituation:
    key: str
    question: str
    options: tuple[SituationOption, ...]
    items: tuple[ItemLine, ...]


@dataclass(frozen=True, slots=True)
class MergedFee:
    item: ItemLine
    fee: Fee


@dataclass(frozen=True, slots=True)
class MergedEvent:
    event: EventGuide
    fingerprint: str
    items: tuple[ItemLine, ...]
    missing: tuple[str, ...]  # item codes in the bundle with no published guide now
    materials: tuple[MergedMaterial, ...]
    situations: tuple[MergedSituation, ...]
    fees: tuple[MergedFee, ...] = field(default=())

    @property
    def content(self) -> EventContent:
        return self.event.content

    @property
    def trips_sum(self) -> int:
        return sum(i.trips for i in self.items)

    @property
    def days_sum(self) -> int:
        return sum(i.promised_days for i in self.items)

    @property
    def statutory_sum(self) -> int:
        return sum(i.statutory_days for i in self.items)

    @property
    def material_mentions(self) -> int:
        """How many materials the items ask for counted separately (before de-duplication)."""
        return sum(len(m.items) for m in self.materials)

    @property
    def trips_saved(self) -> int:
        return max(0, self.trips_sum - self.content.trips)

    @property
    def days_saved(self) -> int:
        return max(0, self.days_sum - self.content.promised_days)


def _material_key(m: GuideMaterial) -> str:
    return m.code or m.name


def merge(event: EventGuide, guides: dict[str, tuple[Guide, str]]) -> MergedEvent:
    """The bundle's guide from its snapshot and its items' current guides (code -> (guide,
    fingerprint)). Materials are merged by catalogue entry in the order they first appear."""
    current = with_members(event, guides)
    lines: list[ItemLine] = []
    missing: list[str] = []
    by_material: dict[str, list[tuple[ItemLine, GuideMaterial]]] = {}
    by_question: dict[str, tuple[Situation, list[ItemLine], dict[str, SituationOption]]] = {}
    fees: list[MergedFee] = []
    for code in event.content.items:
        found = guides.get(code)
        if found is None:
            missing.append(code)
            continue
        guide = found[0]
        line = ItemLine(
            code=guide.code,
            name=guide.name,
            department=guide.department.name,
            trips=guide.trips,
            promised_days=guide.promised_days,
            statutory_days=guide.statutory_days,
            version=guide.version,
        )
        lines.append(line)
        for m in guide.materials:
            uses = by_material.setdefault(_material_key(m), [])
            if all(u[0].code != line.code for u in uses):
                uses.append((line, m))
        for s in guide.situations:
            entry = by_question.get(s.key)
            if entry is None:
                entry = (s, [], {})
                by_question[s.key] = entry
            entry[1].append(line)
            for option in s.options:
                entry[2].setdefault(option.key, option)
        fees.extend(MergedFee(line, f) for f in guide.fees)
    materials = []
    for uses in by_material.values():
        first = uses[0][1]
        materials.append(
            MergedMaterial(
                code=first.code,
                name=first.name,
                kind=first.kind,
                issuer=first.issuer,
                source=next((m.source for _line, m in uses if m.source), ""),
                required=any(m.required and not m.when for _line, m in uses),
                waivable=all(m.waivable for _line, m in uses),
                copies=max(m.copies for _line, m in uses),
                forms=tuple(dict.fromkeys(m.form for _line, m in uses)),
                conditions=tuple(
                    _("{item}：{condition}", item=line.name, condition=m.condition)
                    for line, m in uses
                    if m.condition
                ),
                items=tuple(line for line, _m in uses),
            )
        )
    situations = tuple(
        MergedSituation(key, s.question, tuple(options.values()), tuple(items))
        for key, (s, items, options) in by_question.items()
    )
    return MergedEvent(
        event=current,
        fingerprint=event_fingerprint(current),
        items=tuple(lines),
        missing=tuple(missing),
        materials=tuple(materials),
        situations=situations,
        fees=tuple(fees),
    )


def event_code_error(code: object) -> str | None:
    if not isinstance(code, str) or not EVENT_CODE.fullmatch(code):
        return _("一件事编码应为“YJS-”加 2–16 位大写字母或数字，如 YJS-KBQY")
    return None
