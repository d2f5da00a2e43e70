"""Laws and documents (seed item 36): every legal document by kind with the items citing it, and
an admin's record of an amendment (a new version's date) or a repeal.

A law change flags every item whose current guide cites the document: the item enters the
editors' review inbox ("设定依据已修订/废止，请复核") and its public guide shows a quiet notice,
until a review (registry.freshness) or a new edition clears the flag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from guides.i18n import _
from registry.access import Actor, PermissionDenied
from registry.db import after_commit, write_transaction
from registry.errors import FieldError, NotFound, ValidationError
from registry.inputs import Invalid, parse_date
from registry.reads.public import invalidate
from registry.tables import LegalDocument, Role, ServiceItem
from registry.vocab import DOCUMENT_KINDS

AMENDED, REPEALED = "amended", "repealed"
CHANGE_KINDS = {AMENDED: "修订", REPEALED: "废止"}
TASK = "设定依据已修订/废止，请复核"

ITEMS_SHOWN = 30  # citing items listed per document in the whole list (the count covers all)
# The first ITEMS_SHOWN items citing each document, with how many cite it in all.
CITING_SQL = """
SELECT document, articles, code, name, total FROM (
  SELECT c.document AS document, c.articles AS articles, si.code AS code, e.name AS name,
         ROW_NUMBER() OVER (PARTITION BY c.document ORDER BY si.code, c.position) AS n,
         COUNT(*) OVER (PARTITION BY c.document) AS total
  FROM service_item si
  JOIN edition e ON e.id = si.current_edition
  JOIN citation c ON c.edition = e.id
  WHERE si.withdrawn = {}
) ranked WHERE n <= {}
ORDER BY document, n
"""
# The items whose current guide cites a document (citation.document is indexed).
FLAG_SQL = """
UPDATE service_item SET review_flag = {}
WHERE withdrawn = {} AND current_edition IN (SELECT c.edition FROM citation c WHERE c.document = {})
"""


@dataclass(frozen=True, slots=True)
class CitingItem:
    code: str
    name: str
    articles: str


@dataclass(slots=True)
class Law:
    code: str
    title: str
    kind: str
    issuer: str
    number: str
    promulgated_on: date | None
    effective_on: date | None
    amended_on: date | None
    repealed_on: date | None
    items: list[CitingItem] = field(default_factory=list)
    cited_by: int = 0  # how many citations by current items (`items` may list only the first)

    @property
    def state(self) -> str:
        if self.repealed_on:
            return _("已于 {d} 废止", d=self.repealed_on.isoformat())
        if self.amended_on:
            return _("已于 {d} 修订", d=self.amended_on.isoformat())
        return _("现行有效")

    def to_dict(self) -> dict[str, Any]:
        def iso(d: date | None) -> str | None:
            return d.isoformat() if d else None

        return {
            "code": self.code,
            "title": self.title,
            "kind": self.kind,
            "issuer": self.issuer,
            "number": self.number,
            "promulgated_on": iso(self.promulgated_on),
            "effective_on": iso(self.effective_on),
            "amended_on": iso(self.amended_on),
            "repealed_on": iso(self.repealed_on),
            "cited_by": self.cited_by,
            "items": [{"code": i.code, "name": i.name, "articles": i.articles} for i in self.items],
        }


async def laws(*, code: str | None = None, limit: int = ITEMS_SHOWN) -> list[Law]:
    """Every document (or the one `code`), in the order of DOCUMENT_KINDS then title, with the
    first `limit` current items citing it and how many cite it in all."""
    by_id = {
        d["id"]: Law(
            code=d["code"],
            title=d["title"],
            kind=d["kind"],
            issuer=d["issuer"],
            number=d["number"],
            promulgated_on=d["promulgated_on"],
            effective_on=d["effective_on"],
            amended_on=d["amended_on"],
            repealed_on=d["repealed_on"],
        )
        for d in await (
            LegalDocument.select().where(LegalDocument.code == code) if code else LegalDocument.select()
        )
    }
    sql = CITING_SQL
    if code:
        sql = sql.replace("WHERE si.withdrawn = {}", "WHERE si.withdrawn = {} AND c.document = {}")
    params = (False, *list(by_id)[:1], limit) if code else (False, limit)
    if code and not by_id:
        return []
    for r in await ServiceItem.raw(sql, *params):
        law = by_id.get(r["document"])
        if law is not None:
            law.items.append(CitingItem(r["code"], r["name"], r["articles"] or ""))
            law.cited_by = r["total"]
    order = {k: i for i, k in enumerate(DOCUMENT_KINDS)}
    return sorted(by_id.values(), key=lambda law: (order.get(law.kind, len(order)), law.title))


def by_kind(all_laws: list[Law]) -> list[tuple[str, list[Law]]]:
    groups: dict[str, list[Law]] = {}
    for law in all_laws:
        groups.setdefault(law.kind, []).append(law)
    return list(groups.items())


async def record_change(actor: Actor, code: str, *, kind: str, on: str) -> int:
    """Record an amendment or a repeal of document `code` on date `on` (YYYY-MM-DD); flag every
    item citing it. Returns how many items were flagged."""
    if actor.role != Role.admin:
        raise PermissionDenied(_("只有管理员可以登记法律文件的修订或废止。"))
    errors = []
    if kind not in CHANGE_KINDS:
        errors.append(FieldError("kind", _("应为“修订”或“废止”")))
    try:
        day = parse_date(on or "")
    except Invalid as exc:
        errors.append(FieldError("on", exc.message))
        day = None
    if errors:
        raise ValidationError(errors)
    assert day is not None
    async with write_transaction():
        doc = await LegalDocument.select().where(LegalDocument.code == code).first()
        if doc is None:
            raise NotFound(_("没有编码为“{code}”的法律文件。", code=code))
        if doc["promulgated_on"] and day < doc["promulgated_on"]:
            raise ValidationError(
                [FieldError("on", _("日期不能早于该文件的公布日期 {d}", d=doc["promulgated_on"]))]
            )
        if doc["repealed_on"]:
            raise ValidationError([FieldError("kind", _("该文件已于 {d} 废止", d=doc["repealed_on"]))])
        column = LegalDocument.amended_on if kind == AMENDED else LegalDocument.repealed_on
        await LegalDocument.update({column: day, LegalDocument.revision: LegalDocument.revision + 1}).where(
            LegalDocument.id == doc["id"]
        )
        flag = _(
            "《{t}》已于 {d} {k}",
            t=doc["title"],
            d=day.isoformat(),
            k=_(CHANGE_KINDS[kind]),
        )
        flagged = await ServiceItem.raw(FLAG_SQL + " RETURNING id", flag, False, doc["id"])
        after_commit(invalidate)
    return len(flagged)
