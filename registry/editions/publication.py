"""Publication: snapshot an approved edition, log the change, and make it current — at once, or
on its effective date. Shared by approval, the due-publisher and seeding.

Every function here runs inside the caller's write transaction, after the caller has locked the
item (store.item_row(lock=True) or store.claim_item). `publish_due` opens its own transactions,
one per item, and claims each item with SKIP LOCKED, so any number of processes can run it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from guides import Guide, canonical_json, fingerprint
from guides.i18n import _
from registry import changelog, freshness, qrcodes, quality, rendered
from registry.access import SYSTEM
from registry.db import after_commit, bulk_insert, bulk_set, row_values, write_transaction
from registry.diff import diff_guides, summarize
from registry.editions import store
from registry.editions.bulk import Prepared
from registry.editions.schema import EditionContent
from registry.editions.workflow import Action, TransitionError, check
from registry.reads.public import invalidate
from registry.search import index as search_index
from registry.snapshot import Catalogue, build_guide
from registry.tables import Citation, Edition, EditionMaterial, QualityFinding, ServiceItem, User
from registry.vocab import ChangeKind, EditionStatus, local_today


async def publish(
    *,
    item: dict[str, Any],
    edition: dict[str, Any],
    content: EditionContent,
    catalogue: Catalogue,
    now: datetime,
    editor: str,
    reviewer: str,
) -> Guide:
    """Snapshot the approved `edition`, log the change, and make it current (or schedule it)."""
    subject = store.subject(item, edition)
    due_now = content.effective_at <= local_today(now)
    action = (Action.withdraw if edition["withdraw"] else Action.publish) if due_now else Action.schedule
    status = check(action, SYSTEM, subject)
    guide = build_guide(
        code=item["code"],
        item_type=item["item_type"],
        department=store.item_department(item),
        version=edition["version"],
        content=content,
        catalogue=catalogue,
        published_at=now,
    )
    fp = fingerprint(guide)
    before = await store.current_guide(item["id"])
    claimed = (
        await Edition.update(
            {
                Edition.status: status.value,
                Edition.snapshot: canonical_json(guide).decode(),
                Edition.fingerprint: fp,
                Edition.published_at: now,
                Edition.held: False,
            }
        )
        .where((Edition.id == edition["id"]) & (Edition.status == EditionStatus.approved.value))
        .returning(Edition.id)
    )
    if not claimed:  # published by someone else since it was read: never twice
        raise TransitionError(_("该版本已发布。"))
    # Its QR codes (stable and printed address) are drawn now, once, and stored with it; so are
    # its hall page and printout (registry.rendered), as the public will see them.
    codes = await qrcodes.ensure_for(guide)
    if not edition["withdraw"]:
        today = local_today(now)
        await rendered.for_publication(guide, fp, codes, reviewed_on=today.isoformat(), day=today)
    if due_now:
        await make_current(item["id"], edition["id"], withdraw=edition["withdraw"])
    # An approved edition is a review: the next one is due in 12 months, a law-change flag clears.
    await freshness.mark_reviewed(item["id"], local_today(now))
    changes = diff_guides(before, guide)
    if edition["withdraw"]:
        kind = ChangeKind.withdrawal
        summary = _("取消事项《{name}》", name=guide.name)
    else:
        kind = ChangeKind.new if before is None else ChangeKind.change
        summary = summarize(changes)
    # This process's public pages re-read the change log's head once this commits (other
    # processes within registry.reads.public.HEAD_INTERVAL).
    after_commit(invalidate)
    await changelog.append(
        item_id=item["id"],
        item_code=item["code"],
        kind=kind.value,
        version_before=before.version if before else None,
        version_after=edition["version"],
        diff=[c.to_dict() for c in changes],
        summary=summary,
        change_note=edition["change_note"],
        editor=editor,
        reviewer=reviewer,
        approved_at=edition["approved_at"],
        publish_deadline=edition["publish_deadline"],
        published_at=now,
        effective_at=content.effective_at,
        fingerprint=fp,
    )
    return guide


async def make_current(item_id: int, edition_id: int, *, withdraw: bool = False) -> None:
    """The edition becomes the guide the public sees; the one before is superseded. The search
    index follows in the same transaction (a withdrawal removes the item from it)."""
    await Edition.update({Edition.status: EditionStatus.superseded.value}).where(
        (Edition.item == item_id)
        & (Edition.status == EditionStatus.published.value)
        & (Edition.id != edition_id)
    )
    values: dict[Any, Any] = {ServiceItem.current_edition: edition_id}
    if withdraw:
        values[ServiceItem.withdrawn] = True
    await ServiceItem.update(values).where(ServiceItem.id == item_id)
    await search_index.refresh(item_id)
    await quality.refresh_item(item_id)


async def publish_approved(item: dict[str, Any], edition_id: int, *, now: datetime) -> Guide:
    """Publish an approved edition of the locked `item`, naming its editor and reviewer."""
    edition = await store.edition_row(edition_id)
    people = [i for i in (edition["editor"], edition["reviewer"]) if i is not None]
    names = {
        u["id"]: u["username"]
        for u in await User.select(User.id, User.username).where(User.id.is_in(people or [-1]))
    }
    return await publish(
        item=item,
        edition=edition,
        content=store.content_of(edition),
        catalogue=await store.load_catalogue(),
        now=now,
        editor=names.get(edition["editor"], ""),
        reviewer=names.get(edition["reviewer"], ""),
    )


async def publish_seed(
    *,
    item: dict[str, Any],
    version: int,
    content: EditionContent,
    catalogue: Catalogue,
    ids: store.RefIds,
    now: datetime,
    change_note: str = "",
) -> Guide:
    """Publish `content` as edition `version` at once, without review (seed data only)."""
    edition_id = await store.insert_edition(
        item_id=item["id"],
        version=version,
        status=EditionStatus.approved,
        content=content,
        ids=ids,
        now=now,
        change_note=change_note or _("初始数据导入"),
    )
    await Edition.update({Edition.approved_at: now, Edition.publish_deadline: now}).where(
        Edition.id == edition_id
    )
    return await publish(
        item=item,
        edition=await store.edition_row(edition_id),
        content=content,
        catalogue=catalogue,
        now=now,
        editor="seed",
        reviewer="seed",
    )


@dataclass(frozen=True, slots=True)
class DueReport:
    published: list[str] = field(default_factory=list)
    activated: list[str] = field(default_factory=list)


async def publish_due(*, now: datetime) -> DueReport:
    """What runs every minute: publish approved editions not held, and make scheduled editions
    current once their effective date has come. Each item is claimed in its own transaction
    (SKIP LOCKED on PostgreSQL) and its state read again under the lock, so any number of
    processes can run this at once and each edition is published exactly once."""
    report = DueReport()
    approved = await Edition.select(Edition.id, Edition.item).where(
        (Edition.status == EditionStatus.approved.value) & (Edition.held == False)  # noqa: E712
    )
    for candidate in approved:
        async with write_transaction():
            item = await store.claim_item(candidate["item"])
            if item is None:
                continue
            edition = await store.open_edition(item["id"])
            if edition is None or edition["id"] != candidate["id"]:
                continue
            if edition["status"] != EditionStatus.approved.value or edition["held"]:
                continue
            await publish_approved(item, edition["id"], now=now)
            report.published.append(item["code"])
    today = local_today(now)
    scheduled = (
        await Edition.select(Edition.id, Edition.item)
        .where((Edition.status == EditionStatus.scheduled.value) & (Edition.effective_at <= today))
        .order_by(Edition.version)
    )
    for candidate in scheduled:
        async with write_transaction():
            item = await store.claim_item(candidate["item"])
            if item is None:
                continue
            edition = await store.edition_row(candidate["id"])
            if edition["status"] != EditionStatus.scheduled.value:
                continue
            action = Action.activate_withdrawal if edition["withdraw"] else Action.activate
            status = check(action, SYSTEM, store.subject(item, edition))
            await Edition.update({Edition.status: status.value}).where(Edition.id == edition["id"])
            await make_current(item["id"], edition["id"], withdraw=edition["withdraw"])
            after_commit(invalidate)
            report.activated.append(item["code"])
    return report


@dataclass(frozen=True, slots=True)
class NewSeed:
    """An item that does not exist yet, to be published at once from seed data, with what
    publishing it writes (registry.editions.bulk.prepare)."""

    code: str
    item_type: str
    department_id: int
    prepared: Prepared


async def publish_new_seeds(seeds: list[NewSeed], *, ids: store.RefIds, now: datetime) -> None:
    """Create and publish many new items at once (loading seed data in bulk): the same rows,
    snapshots and change records as `publish_seed` one by one, written with a few statements
    per batch. Every seed's effective date must have come (scheduled ones go one by one).

    QR codes are not drawn here (≈ 80 ms an item: over two hours for 100 000): each is drawn on
    its first read and stored then (registry.qrcodes.ensure)."""
    note = _("初始数据导入")
    for seed in seeds:
        if seed.prepared.effective_at > local_today(seed.prepared.published_at):
            raise ValueError(f"{seed.code} takes effect later: publish it with publish_seed")
    review = {c._meta.name: v for c, v in freshness.review_values(local_today(now)).items()}
    await bulk_insert(
        ServiceItem,
        [
            row_values(
                ServiceItem,
                code=s.code,
                department=s.department_id,
                item_type=s.item_type,
                created_at=now,
                # Loading checked seed data is their review: due again 12 months after the load.
                **review,
            )
            for s in seeds
        ],
    )
    item_ids = await _ids(ServiceItem, ServiceItem.code, [s.code for s in seeds])
    editions = []
    for seed in seeds:
        p = seed.prepared
        editions.append(
            row_values(
                Edition,
                item=item_ids[seed.code],
                version=1,
                status=EditionStatus.published.value,
                change_note=note,
                created_at=p.published_at,
                updated_at=p.published_at,
                approved_at=p.published_at,
                publish_deadline=p.published_at,
                published_at=p.published_at,
                snapshot=p.snapshot,
                fingerprint=p.fingerprint,
                **p.columns,
            )
        )
    await bulk_insert(Edition, editions)
    edition_ids = await _ids(Edition, Edition.item, list(item_ids.values()))
    published = [(item_ids[s.code], edition_ids[item_ids[s.code]], s.prepared) for s in seeds]
    await _write_references(published, ids)
    await bulk_set(ServiceItem, ServiceItem.current_edition, {i: edition_ids[i] for i in item_ids.values()})
    await changelog.append_many(
        [(item_ids[s.code], _change(s.code, s.prepared, note, s.prepared.published_at)) for s in seeds]
    )
    await bulk_insert(
        QualityFinding,
        [
            row
            for s in seeds
            for row in quality.stored_rows(item_ids[s.code], s.department_id, s.prepared.findings)
        ],
    )
    await search_index.write_new(
        [replace(s.prepared.document, item=item_ids[s.code]) for s in seeds if s.prepared.document]
    )
    after_commit(invalidate)


def _change(code: str, p: Prepared, note: str, at: datetime) -> dict[str, Any]:
    """The change record's fields of a seed published in bulk."""
    return {
        "item_code": code,
        "kind": (ChangeKind.new if p.version_before is None else ChangeKind.change).value,
        "version_before": p.version_before,
        "version_after": p.version,
        "diff": p.diff,
        "summary": p.summary,
        "change_note": note,
        "editor": "seed",
        "reviewer": "seed",
        "approved_at": at,
        "publish_deadline": at,
        "published_at": at,
        "effective_at": p.effective_at,
        "fingerprint": p.fingerprint,
    }


async def _write_references(published: list[tuple[int, int, Prepared]], ids: store.RefIds) -> None:
    """The catalogue references of new editions (item id, edition id, prepared): the rows
    store.write_references writes one edition at a time."""
    await bulk_insert(
        EditionMaterial,
        [
            row_values(
                EditionMaterial,
                edition=edition_id,
                material=ids.materials[code],
                position=position,
                source=source,
                waivable=waivable,
            )
            for _item, edition_id, p in published
            for code, position, source, waivable in p.materials
        ],
    )
    await bulk_insert(
        Citation,
        [
            row_values(
                Citation,
                edition=edition_id,
                document=ids.documents[code],
                position=position,
                articles=articles,
            )
            for _item, edition_id, p in published
            for code, position, articles in p.citations
        ],
    )


async def _ids(table: Any, key: Any, values: list[Any]) -> dict[Any, int]:
    """id by `key` for rows whose key is in `values` (in chunks the databases accept)."""
    found: dict[Any, int] = {}
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        for row in await table.select(table.id, key).where(key.is_in(chunk)):
            found[row[key._meta.name]] = row["id"]
    return found


async def publish_seed_updates(
    updates: list[tuple[str, Prepared]],
    *,
    ids: store.RefIds,
    now: datetime,
    change_note: str = "",
) -> None:
    """Publish new editions of many existing items at once (`onetrip seed --update` in bulk):
    the same rows, snapshots, change records, index entries and quality findings as
    `publish_seed` one item at a time with the item's next version, written with a few
    statements per batch. Items are (code, prepared), each code at most once, prepared
    (registry.editions.bulk) from the item's current edition and highest version; every
    effective date must have come."""
    note = change_note or _("初始数据导入")
    today = local_today(now)
    for code, p in updates:
        if p.effective_at > today:
            raise ValueError(f"{code} takes effect later: publish it with publish_seed")
    for start in range(0, len(updates), _BATCH):
        await _publish_update_batch(updates[start : start + _BATCH], ids, now, note)
    after_commit(invalidate)


_BATCH = 500  # items per statement when publishing updates in bulk (parameter limits)


async def _publish_update_batch(
    updates: list[tuple[str, Prepared]], ids: store.RefIds, now: datetime, note: str
) -> None:
    codes = [code for code, _p in updates]
    query = ServiceItem.select(*store.ITEM_COLUMNS).where(ServiceItem.code.is_in(codes))
    if store.is_postgres():  # the same row locks as item_row(lock=True), taken in one statement
        query = query.lock_rows("UPDATE", of=(ServiceItem,))
    items = {r["code"]: r for r in await query}
    item_ids = [items[c]["id"] for c in codes]
    editions = []
    for code, p in updates:
        item = items[code]
        check(
            Action.publish,
            SYSTEM,
            store.subject(item, {"status": EditionStatus.approved, "contributors": []}),
        )
        editions.append(
            row_values(
                Edition,
                item=item["id"],
                version=p.version,
                status=EditionStatus.published.value,
                change_note=note,
                created_at=now,
                updated_at=now,
                approved_at=now,
                publish_deadline=now,
                published_at=now,
                snapshot=p.snapshot,
                fingerprint=p.fingerprint,
                **p.columns,
            )
        )
    # make_current for every item: the guide shown so far is superseded by the new edition.
    # The items' editions are found by item alone: with `status = 'published'` in the same WHERE,
    # SQLite walks the status index, every published edition of the registry once per batch.
    shown = [
        r["id"]
        for r in await Edition.select(Edition.id, Edition.status).where(Edition.item.is_in(item_ids))
        if r["status"] == EditionStatus.published.value
    ]
    if shown:
        await Edition.update({Edition.status: EditionStatus.superseded.value}).where(Edition.id.is_in(shown))
    await bulk_insert(Edition, editions)
    new_versions = {items[c]["id"]: p.version for c, p in updates}
    edition_ids = {
        r["item"]: r["id"]
        for r in await Edition.select(Edition.id, Edition.item, Edition.version).where(
            Edition.item.is_in(item_ids)
        )
        if r["version"] == new_versions[r["item"]]
    }
    published = [(items[c]["id"], edition_ids[items[c]["id"]], p) for c, p in updates]
    departments = {items[c]["id"]: items[c]["department.id"] for c in codes}
    await _write_references(published, ids)
    await bulk_set(ServiceItem, ServiceItem.current_edition, {i: edition_ids[i] for i in item_ids})
    # The index and the stored findings follow, as make_current's refresh would leave them.
    await search_index.replace(
        item_ids, [replace(p.document, item=item_id) for item_id, _e, p in published if p.document]
    )
    await QualityFinding.delete().where(QualityFinding.item.is_in(item_ids))
    await bulk_insert(
        QualityFinding,
        [
            row
            for item_id, _e, p in published
            for row in quality.stored_rows(item_id, departments[item_id], p.findings)
        ],
    )
    await changelog.append_many([(items[c]["id"], _change(c, p, note, now)) for c, p in updates])
