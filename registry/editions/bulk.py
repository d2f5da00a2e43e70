"""Loading seeds in bulk: each item's work apart from the database.

For every seed item this decides what loading it means (new, unchanged, a new edition…) and
computes what publishing it writes: the guide's canonical snapshot and fingerprint, the content
columns, the change record's diff and summary, the search index entry (jieba tokens and pinyin)
and the quality findings. These are pure functions of picklable inputs, so `registry.seeding`
runs them in worker processes (`Preparer`), a few batches ahead, while the main process writes
the batches before: the CPU-heavy half of loading 100 000 items uses the second core.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import zlib
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import msgspec

from guides import DepartmentRef, Guide, canonical_json
from registry import checks
from registry.diff import diff_guides, summarize
from registry.editions import store
from registry.editions.schema import EditionContent
from registry.search import index as search_index
from registry.snapshot import Catalogue, build_guide, department_ref
from registry.vocab import local_midnight, local_today

# Processes preparing batches: the machine has 2 cores and the main process writes. They share
# jieba's and pypinyin's dictionaries (`worker_context`); with 1 the base load of 10 000 items
# took 23 s instead of 16 s.
WORKERS = 2
POOL_FROM = 2_000  # items: fewer are prepared in the main process (a worker starts in ~1–2 s)


class Kind(StrEnum):
    new = "new"  # does not exist, in force already: published in bulk
    later = "later"  # does not exist, takes effect later: published one by one (scheduled)
    unchanged = "unchanged"
    differs = "differs"  # differs, but not loading with update=True
    update = "update"  # a new edition in force already: published in bulk
    one_by_one = "one_by_one"  # a new edition published item by item (bulk=False, or later)


@dataclass(frozen=True, slots=True)
class Work:
    """One seed item and, when it exists, what the database holds for it."""

    code: str
    item_type: str
    packed: bytes  # the content, compressed against the bundle's dictionary `zdict`
    zdict: int  # index into the dictionaries given to `Preparer`
    department: dict[str, Any]  # the seed's department: id, code, name, short_name, level, region
    item: dict[str, Any] | None = None  # store.ITEM_COLUMNS of the existing item
    current: str | None = None  # the snapshot of its current edition
    version: int = 0  # its highest edition version


@dataclass(frozen=True, slots=True)
class Prepared:
    """What publishing one item's new edition writes, but the ids."""

    version: int
    published_at: datetime
    effective_at: date
    snapshot: str
    fingerprint: str
    columns: dict[str, Any]  # Edition's content columns by name
    materials: list[tuple[str, int, Any, Any]]  # (material code, position, source, waivable)
    citations: list[tuple[str, int, Any]]  # (document code, position, articles)
    version_before: int | None
    diff: list[dict[str, Any]]
    summary: str
    document: search_index.Document | None  # item id 0; None: not in the index (withdrawn)
    findings: list[checks.Finding]


@dataclass(frozen=True, slots=True)
class Result:
    kind: Kind
    prepared: Prepared | None = None


def historical(now: datetime, effective_at: date) -> datetime:
    """Seed data describes guides already in force: treat one as published when it took effect
    (so metrics "as of" a past date see it), never later than now."""
    return min(now, local_midnight(effective_at))


def same(
    current: Guide,
    code: str,
    item_type: str,
    content: EditionContent,
    ref: DepartmentRef,
    catalogue: Catalogue,
) -> bool:
    """Would publishing the seed change what the public sees?"""
    candidate = build_guide(
        code=code,
        item_type=item_type,
        department=ref,
        version=current.version,
        content=content,
        catalogue=catalogue,
        published_at=current.published_at,
    )
    return candidate == current


# ---- the work of one batch (in a worker process, or in this one) --------------------------

_state: dict[str, Any] = {}


def init(catalogue: Catalogue, gov: frozenset[str], zdicts: tuple[bytes, ...]) -> None:
    """What every batch needs: the catalogue, the materials departments issue, the bundle's
    compression dictionaries."""
    _state.update(catalogue=catalogue, gov=gov, zdicts=zdicts)


def prepare(works: list[Work], now: datetime, update: bool, bulk: bool) -> list[Result]:
    return [_one(w, now, update, bulk) for w in works]


def _content(work: Work) -> EditionContent:
    unpack = zlib.decompressobj(zdict=_state["zdicts"][work.zdict])
    return msgspec.json.decode(unpack.decompress(work.packed) + unpack.flush(), type=EditionContent)


def _one(work: Work, now: datetime, update: bool, bulk: bool) -> Result:
    catalogue: Catalogue = _state["catalogue"]
    content = _content(work)
    if work.item is None:
        published_at = historical(now, content.effective_at)
        if content.effective_at > local_today(published_at):
            return Result(Kind.later)
        item = {"id": 0, "code": work.code, "item_type": work.item_type}
        guide = build_guide(
            code=work.code,
            item_type=work.item_type,
            department=department_ref(work.department),
            version=1,
            content=content,
            catalogue=catalogue,
            published_at=published_at,
        )
        return Result(Kind.new, _prepared(item, work.department, guide, content, None, published_at))
    current = Guide.from_json(work.current) if work.current else None
    if current is not None and same(
        current, work.code, work.item_type, content, department_ref(work.department), catalogue
    ):
        return Result(Kind.unchanged)
    if not update:
        return Result(Kind.differs)
    if not (bulk and content.effective_at <= local_today(now)):
        return Result(Kind.one_by_one)
    item = work.item
    guide = build_guide(
        code=work.code,
        item_type=item["item_type"],
        department=store.item_department(item),
        version=work.version + 1,
        content=content,
        catalogue=catalogue,
        published_at=now,
    )
    department = {k: item[f"department.{k}"] for k in ("id", "code", "name", "short_name", "level")}
    return Result(Kind.update, _prepared(item, department, guide, content, current, now))


def _prepared(
    item: dict[str, Any],
    department: dict[str, Any],
    guide: Guide,
    content: EditionContent,
    before: Guide | None,
    published_at: datetime,
) -> Prepared:
    snapshot = canonical_json(guide)
    changes = diff_guides(before, guide)
    live = not item.get("withdrawn")
    return Prepared(
        version=guide.version,
        published_at=published_at,
        effective_at=content.effective_at,
        snapshot=snapshot.decode(),
        fingerprint=hashlib.sha256(snapshot).hexdigest(),  # guides.fingerprint, from the same bytes
        columns={c._meta.name: v for c, v in store.content_columns(content).items()},
        materials=[(u.material, i, u.source, u.waivable) for i, u in enumerate(content.materials)],
        citations=[(r.document, i, r.articles) for i, r in enumerate(content.legal_basis)],
        version_before=before.version if before else None,
        diff=[c.to_dict() for c in changes],
        summary=summarize(changes),
        document=search_index.document(item, department, guide) if live else None,
        findings=checks.run(content, checks.Context(item_type=item["item_type"], gov_issued=_state["gov"]))
        if live
        else [],
    )


# ---- where batches are prepared -----------------------------------------------------------


def worker_context() -> multiprocessing.context.BaseContext:
    """How bulk work starts its processes: forked from a fork server that has loaded the search
    dictionaries once (registry.search.preload), so its workers share those ≈ 130 MB instead of
    each loading a copy. Never forked from the calling process itself: a child would inherit its
    event loop and the state of its database threads (a lock held mid-fork never comes free)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["registry.search.preload"])
    return context


class Preparer:
    """Prepares batches in `WORKERS` processes when there are many items (else here, at once):
    `submit` returns a future, so the caller keeps a few batches in flight while it writes."""

    def __init__(
        self, catalogue: Catalogue, gov: frozenset[str], zdicts: tuple[bytes, ...], items: int
    ) -> None:
        self.pool: ProcessPoolExecutor | None = None
        if items >= POOL_FROM and WORKERS > 0:
            self.pool = ProcessPoolExecutor(
                WORKERS,
                mp_context=worker_context(),
                initializer=_start_worker,
                initargs=(catalogue, gov, zdicts),
            )
        else:
            init(catalogue, gov, zdicts)

    def submit(self, works: list[Work], now: datetime, update: bool, bulk: bool) -> Future[list[Result]]:
        if self.pool is not None:
            return self.pool.submit(prepare, works, now, update, bulk)
        future: Future[list[Result]] = Future()
        future.set_result(prepare(works, now, update, bulk))
        return future

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def _start_worker(catalogue: Catalogue, gov: frozenset[str], zdicts: tuple[bytes, ...]) -> None:
    from registry.search import tokens

    init(catalogue, gov, zdicts)
    tokens.warm_up()
