"""Loading `seeds/`: read and check everything first, then write it all in one transaction.

`read_seeds` turns the TOML files into plain records and collects every problem with its file,
entry and field; if there is any, nothing is written. `apply_seeds` is idempotent: reference data
is upserted, items that already exist are left alone (and reported if their seed differs, or
republished as a new edition with `update=True`).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import tempfile
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import msgspec
import rtoml
from msgspec import Struct

from guides.i18n import _
from guides.snapshot import F
from registry import attachments, quality
from registry.db import write_transaction
from registry.editions import bulk as bulk_work
from registry.editions import store
from registry.editions.bulk import historical
from registry.editions.publication import NewSeed, publish_new_seeds, publish_seed, publish_seed_updates
from registry.editions.schema import EditionContent, content_from_mapping, item_code_error
from registry.errors import DomainError, ValidationError
from registry.events import seeds as event_seeds
from registry.inputs import read
from registry.search import index as search_index
from registry.search import vocabulary
from registry.snapshot import Catalogue, department_ref  # noqa: F401 (imported from here by tests)
from registry.tables import Department, Edition, LegalDocument, Material, ServiceItem, Target
from registry.vocab import (
    DEPARTMENT_KINDS,
    DOCUMENT_KINDS,
    ITEM_TYPES,
    MATERIAL_KINDS,
    Level,
    system_now,
)

T = TypeVar("T", bound=Struct)
BATCH = 500  # items published per batch of statements when loading in bulk (parameter limits)


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.entry}: {self.field}: {self.message}"


class SeedError(DomainError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


Code = Annotated[str, F("编码", min_length=1, max_length=64)]
Name = Annotated[str, F("名称", min_length=1, max_length=200)]


class SeedDepartment(Struct, frozen=True, forbid_unknown_fields=True):
    code: Annotated[str, F("编码", min_length=1, max_length=32)]
    name: Name
    short_name: Annotated[str, F("简称", min_length=1, max_length=100)]
    level: Level
    kind: Literal[DEPARTMENT_KINDS]  # type: ignore[valid-type]
    region: Annotated[str, F("地区", min_length=1, max_length=100)]
    shares_administration_with: Annotated[str, F("合署的区县", max_length=32)] | None = None


class SeedMaterial(Struct, frozen=True, forbid_unknown_fields=True):
    code: Code
    name: Name
    kind: Literal[MATERIAL_KINDS]  # type: ignore[valid-type]
    issuer: Annotated[str, F("出具单位", max_length=200)] = ""
    issuer_department: Annotated[str, F("出具部门编码", max_length=32)] | None = None


class SeedDocument(Struct, frozen=True, forbid_unknown_fields=True):
    code: Code
    title: Annotated[str, F("标题", min_length=1, max_length=300)]
    kind: Literal[DOCUMENT_KINDS]  # type: ignore[valid-type]
    issuer: Name
    number: Annotated[str, F("文号", max_length=200)] = ""
    promulgated_on: date | None = None
    effective_on: date | None = None


class SeedTarget(Struct, frozen=True, forbid_unknown_fields=True):
    level: Level
    percent: Annotated[int, F("目标比例", ge=1, le=100)]
    deadline: date
    note: Annotated[str, F("说明", max_length=2000)] = ""


class Spill:
    """Bytes kept in an unnamed temporary file instead of in memory, read back by position: the
    packed contents of a bundle's items (≈ 1 KB an item, 100 MB for 100 000 items), each read
    once more when its item is written. The file is gone when the bundle is."""

    __slots__ = ("_end", "_file")

    def __init__(self) -> None:
        # open as long as the bundle lives: closed (and so deleted) when it is collected
        self._file = tempfile.TemporaryFile(prefix="onetrip-seeds-")  # noqa: SIM115
        self._end = 0

    def put(self, data: bytes) -> int:
        """Keep `data`; return where it starts."""
        at = self._end
        view = memoryview(data)
        while view:  # a regular file takes all at once; a short write continues where it stopped
            view = view[os.pwrite(self._file.fileno(), view, self._end) :]
            self._end = at + len(data) - len(view)
        return at

    def get(self, at: int, size: int) -> bytes:
        data = os.pread(self._file.fileno(), size, at)
        if len(data) != size:  # the file is ours alone: a short read means it was cut
            raise OSError(f"seed spill file: {len(data)} of {size} bytes at {at}")
        return data


@dataclass(frozen=True, slots=True, eq=False)
class SeedItem:
    """A checked seed item. Its content is packed (JSON compressed against a dictionary of the
    first items read, about a fifth of its JSON and a tenth of the objects' size) and kept in the
    bundle's `Spill`, so that the main process holds ≈ 150 bytes an item between checking and
    writing, whatever the registry's size."""

    code: str
    department: str
    item_type: str
    file: str
    zdict: bytes  # shared by every item of a bundle
    spill: Spill
    at: int
    size: int

    @property
    def packed(self) -> bytes:
        return self.spill.get(self.at, self.size)

    def __eq__(self, other: object) -> bool:  # the same fields and content, wherever they are kept
        if not isinstance(other, SeedItem):
            return NotImplemented
        mine = (self.code, self.department, self.item_type, self.file, self.zdict, self.packed)
        return mine == (other.code, other.department, other.item_type, other.file, other.zdict, other.packed)

    __hash__ = None  # type: ignore[assignment]  # compared by content, never a key

    @property
    def content(self) -> EditionContent:
        unpack = zlib.decompressobj(zdict=self.zdict)
        return msgspec.json.decode(unpack.decompress(self.packed) + unpack.flush(), type=EditionContent)


# (code, department, item_type, packed content, file): one item as a reading process returns it
PackedItem = tuple[str, str, str, bytes, str]


class _Packer:
    """Packs items' content; the dictionary is made from the first SAMPLE items' JSON (items of
    one registry share most of their keys and many values), so those wait until it exists."""

    SAMPLE = 16

    def __init__(self, out: list[PackedItem]) -> None:
        self.out = out
        self.waiting: list[PackedItem] = []
        self.zdict = b""

    def add(self, code: str, department: str, item_type: str, content: EditionContent, file: str) -> None:
        data = msgspec.json.encode(content)
        if self.zdict:
            self.out.append(self._item(code, department, item_type, data, file))
            return
        self.waiting.append((code, department, item_type, data, file))
        if len(self.waiting) == self.SAMPLE:
            self.finish()

    def finish(self) -> None:
        if self.zdict or not self.waiting:
            return
        self.zdict = b"".join(w[3] for w in self.waiting)[-32_768:]  # zlib's largest dictionary
        for code, department, item_type, data, file in self.waiting:
            self.out.append(self._item(code, department, item_type, data, file))
        self.waiting = []

    def _item(self, code: str, department: str, item_type: str, data: bytes, file: str) -> PackedItem:
        pack = zlib.compressobj(6, zdict=self.zdict)
        return (code, department, item_type, pack.compress(data) + pack.flush(), file)


@dataclass
class SeedBundle:
    departments: list[SeedDepartment] = field(default_factory=list)
    materials: list[SeedMaterial] = field(default_factory=list)
    documents: list[SeedDocument] = field(default_factory=list)
    items: list[SeedItem] = field(default_factory=list)
    targets: list[SeedTarget] = field(default_factory=list)
    synonyms: vocabulary.SynonymFile = field(default_factory=vocabulary.SynonymFile)
    topics: vocabulary.TopicFile = field(default_factory=vocabulary.TopicFile)
    events: list[event_seeds.SeedEvent] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # attachments' bytes by SHA-256
    spill: Spill = field(default_factory=Spill)  # the items' packed contents


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    differs: list[str] = field(default_factory=list)  # item codes whose seed differs

    def count(self, bucket: str, kind: str) -> None:
        counts = getattr(self, bucket)
        counts[kind] = counts.get(kind, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def lines(self) -> list[str]:
        out = []
        for kind in ("departments", "documents", "materials", "items", "targets", "events"):
            out.append(
                _(
                    "{kind}：新增 {c}，更新 {u}，未变 {n}",
                    kind=_(KIND_LABELS[kind]),
                    c=self.created.get(kind, 0),
                    u=self.updated.get(kind, 0),
                    n=self.unchanged.get(kind, 0),
                )
            )
        if self.created.get("synonyms"):
            out.append(_("同义词：新增 {c}", c=self.created["synonyms"]))
        if self.differs:
            out.append(
                _(
                    "以下事项的种子数据与已发布版本不同（未覆盖；用 --update 发布新版本）：{codes}",
                    codes="、".join(self.differs),
                )
            )
        return out


KIND_LABELS = {
    "departments": "实施主体",
    "documents": "法律依据",
    "materials": "材料目录",
    "items": "服务事项",
    "targets": "目标",
    "events": "一件事",
}


# ---- reading ----------------------------------------------------------------------------


def _kind_files(root: Path, kind: str) -> list[Path]:
    files = []
    single = root / f"{kind}.toml"
    if single.is_file():
        files.append(single)
    folder = root / kind
    if folder.is_dir():
        files.extend(sorted(folder.glob("*.toml")))
    return files


def _entries(
    root: Path, kind: str, key: str, problems: list[Problem]
) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(file label, entry label, mapping) for every `[[key]]` entry of a kind."""
    for path in _kind_files(root, kind):
        yield from _file_entries(root, path, key, problems)


def _file_entries(
    root: Path, path: Path, key: str, problems: list[Problem]
) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(file label, entry label, mapping) for every `[[key]]` entry of one file."""
    label = str(path.relative_to(root.parent)) if root.parent in path.parents else str(path)
    try:
        # rtoml (Rust) reads 100 000 items ~5x faster than tomllib, with the same values.
        data = rtoml.loads(path.read_text(encoding="utf-8"))
    except (rtoml.TomlParsingError, UnicodeDecodeError) as exc:
        problems.append(Problem(label, "-", "-", _("不是有效的 TOML：{e}", e=exc)))
        return
    for other in data:
        if other != key:
            problems.append(Problem(label, "-", other, _("未知的表，应为 [[{key}]]", key=key)))
    entries = data.get(key, [])
    if not isinstance(entries, list):
        problems.append(Problem(label, "-", key, _("应为 [[{key}]] 数组", key=key)))
        return
    for i, entry in enumerate(entries, start=1):
        code = entry.get("code") if isinstance(entry, dict) else None
        name = f"{key} {code}" if isinstance(code, str) and code else f"{key} #{i}"
        yield label, name, entry


def _read(cls: type[T], data: Any, where: tuple[str, str], problems: list[Problem]) -> T | None:
    """One seed entry through the one input reader; its problems named by file and entry."""
    try:
        return read(cls, data)
    except ValidationError as exc:
        problems.extend(Problem(*where, e.field, e.message) for e in exc.errors)
        return None


def _unique(
    seen: dict[str, str], value: str, where: tuple[str, str], name: str, problems: list[Problem]
) -> None:
    if value in seen:
        problems.append(Problem(*where, name, _("“{v}”重复（已在 {f} 定义）", v=value, f=seen[value])))
    else:
        seen[value] = where[0]


@dataclass
class _ItemFile:
    """One items file read and checked (in a worker process when there are many): its own
    problems, then each entry's (where, code problem, code, other problems, packed item)."""

    problems: list[Problem] = field(default_factory=list)
    entries: list[tuple[tuple[str, str], Problem | None, str, list[Problem], PackedItem | None]] = field(
        default_factory=list
    )
    zdict: bytes = b""
    file_problems: list[tuple[str, str, str, str]] = field(default_factory=list)  # attachments
    files: dict[str, bytes] = field(default_factory=dict)


READ_POOL_FROM = 8 << 20  # bytes of item files from which they are read in worker processes
READERS = 2  # processes reading item files (the main process only collects: both cores parse)


def _read_item_files(
    root: Path,
    material_names: dict[str, str],
    departments: set[str],
    materials: set[str],
    documents: set[str],
) -> Iterator[_ItemFile]:
    """Every items file read and checked, in order; in `READERS` processes when they
    are large (100 000 items: about a minute of parsing and checking in one process)."""
    paths = _kind_files(root, "items")
    args = (root, material_names, departments, materials, documents)
    if len(paths) < 2 or sum(p.stat().st_size for p in paths) < READ_POOL_FROM or not READERS:
        for path in paths:
            yield _read_item_file(path, *args)
        return
    with ProcessPoolExecutor(READERS, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield from pool.map(_read_item_file, paths, *([a] * len(paths) for a in args))


def _read_item_file(
    path: Path,
    root: Path,
    material_names: dict[str, str],
    departments: set[str],
    materials: set[str],
    documents: set[str],
) -> _ItemFile:
    out = _ItemFile()
    seed_files = attachments.SeedFiles(root, material_names)
    listed = len(seed_files.problems)  # attachments.toml's: reported once, by the caller
    items: list[PackedItem] = []
    packer = _Packer(items)
    packed_at: list[int] = []  # entry index of each packed item
    for file, entry, data in _file_entries(root, path, "item", out.problems):
        where = (file, entry)
        later: list[Problem] = []
        data = seed_files.apply(data, where)  # files named in seeds/ → attachment records
        code = data.get("code")
        code_problem = None
        if (message := item_code_error(code)) is not None:
            code_problem = Problem(*where, "code", message)
            code = ""
        department = data.get("department") if isinstance(data.get("department"), str) else ""
        if not department:
            later.append(Problem(*where, "department", _("必填")))
        elif department not in departments:
            later.append(Problem(*where, "department", _("未知的实施主体编码“{v}”", v=department)))
        item_type = data.get("item_type")
        if item_type not in ITEM_TYPES:
            later.append(Problem(*where, "item_type", _("应为 {v} 之一", v="、".join(ITEM_TYPES))))
        out.entries.append((where, code_problem, code, later, None))
        try:
            content = content_from_mapping(data, ignore=("code", "department", "item_type"))
        except ValidationError as exc:
            later.extend(Problem(*where, e.field, e.message) for e in exc.errors)
            continue
        for i, use in enumerate(content.materials):
            if use.material not in materials:
                later.append(
                    Problem(*where, f"materials[{i}].material", _("材料目录中没有“{v}”", v=use.material))
                )
        for i, ref in enumerate(content.legal_basis):
            if ref.document not in documents:
                later.append(
                    Problem(*where, f"legal_basis[{i}].document", _("法律依据中没有“{v}”", v=ref.document))
                )
        packer.add(code, department, item_type, content, file)
        packed_at.append(len(out.entries) - 1)
    packer.finish()
    out.zdict = packer.zdict
    for at, item in zip(packed_at, items, strict=True):
        where, code_problem, code, later, _none = out.entries[at]
        out.entries[at] = (where, code_problem, code, later, item)
    out.file_problems = seed_files.problems[listed:]
    out.files = seed_files.files
    return out


def read_seeds(root: Path) -> SeedBundle:
    """Read and check every seed file; raise SeedError listing every problem."""
    root = Path(root)
    problems: list[Problem] = []
    bundle = SeedBundle()
    if not root.is_dir():
        raise SeedError([Problem(str(root), "-", "-", _("找不到种子数据目录"))])

    codes: dict[str, str] = {}
    for file, entry, data in _entries(root, "departments", "department", problems):
        where = (file, entry)
        department = _read(SeedDepartment, data, where, problems)
        if department is not None:
            _unique(codes, department.code, where, "code", problems)
            bundle.departments.append(department)
    by_code = {d.code: d for d in bundle.departments}
    for d in bundle.departments:
        if d.kind in ("区", "县", "开发区") and d.level != Level.district.value:
            problems.append(
                Problem("departments", f"department {d.code}", "level", _("区、县和开发区应为 district"))
            )
        if d.shares_administration_with is not None:
            other = by_code.get(d.shares_administration_with)
            if other is None or other.kind not in ("区", "县"):
                problems.append(
                    Problem(
                        "departments",
                        f"department {d.code}",
                        "shares_administration_with",
                        _("应为一个区或县的编码"),
                    )
                )

    mat_codes: dict[str, str] = {}
    mat_names: dict[str, str] = {}
    for file, entry, data in _entries(root, "materials", "material", problems):
        where = (file, entry)
        material = _read(SeedMaterial, data, where, problems)
        if material is None:
            continue
        _unique(mat_codes, material.code, where, "code", problems)
        _unique(mat_names, material.name, where, "name", problems)
        if material.issuer_department is not None and material.issuer_department not in by_code:
            problems.append(Problem(*where, "issuer_department", _("未知的实施主体编码")))
        bundle.materials.append(material)

    doc_codes: dict[str, str] = {}
    for file, entry, data in _entries(root, "legal_documents", "document", problems):
        where = (file, entry)
        document = _read(SeedDocument, data, where, problems)
        if document is not None:
            _unique(doc_codes, document.code, where, "code", problems)
            bundle.documents.append(document)

    material_names = {m.code: m.name for m in bundle.materials}
    seed_files = attachments.SeedFiles(root, material_names)  # attachments.toml's problems
    item_codes: dict[str, str] = {}
    file_problems: list[tuple[str, str, str, str]] = []
    for part in _read_item_files(root, material_names, set(by_code), set(mat_codes), set(doc_codes)):
        problems.extend(part.problems)
        for where, code_problem, code, later, item in part.entries:
            if code_problem is not None:
                problems.append(code_problem)
            else:
                _unique(item_codes, code, where, "code", problems)
            problems.extend(later)
            if item is not None:
                code, department, item_type, packed, file = item
                bundle.items.append(
                    SeedItem(
                        code,
                        sys.intern(department),  # the same few strings for every item
                        sys.intern(item_type),
                        sys.intern(file),
                        part.zdict,
                        bundle.spill,
                        bundle.spill.put(packed),
                        len(packed),
                    )
                )
        file_problems.extend(part.file_problems)
        bundle.files.update(part.files)
    seed_files.problems.extend(file_problems)
    problems.extend(Problem(*p) for p in seed_files.problems)
    seen_targets: dict[str, str] = {}
    for file, entry, data in _entries(root, "targets", "target", problems):
        where = (file, entry)
        target = _read(SeedTarget, data, where, problems)
        if target is not None:
            _unique(seen_targets, f"{target.level} {target.deadline}", where, "deadline", problems)
            bundle.targets.append(target)

    for name, cls, attr in (
        ("synonyms.toml", vocabulary.SynonymFile, "synonyms"),
        ("topics.toml", vocabulary.TopicFile, "topics"),
    ):
        value, errors = vocabulary.read_file(root / name, cls)
        problems.extend(Problem(name, "-", e.field, e.message) for e in errors)
        if value is not None:
            setattr(bundle, attr, value)

    bundle.events = event_seeds.read_events(
        root,
        set(by_code),
        set(item_codes),
        lambda entry, name, message: problems.append(Problem(event_seeds.FILE, entry, name, message)),
    )

    if problems:
        raise SeedError(problems)
    return bundle


# ---- writing ----------------------------------------------------------------------------


async def _upsert(table: type, rows: list[dict[str, Any]], report: SeedReport, kind: str) -> dict[str, int]:
    """Insert or update rows keyed by `code`; return code -> id."""
    existing = {r["code"]: r for r in await table.select()}
    new = []
    for row in rows:
        old = existing.get(row["code"])
        if old is None:
            new.append(table(**row))
            report.count("created", kind)
        elif any(old[k] != v for k, v in row.items()):
            await table.update(row).where(table.code == row["code"])
            report.count("updated", kind)
        else:
            report.count("unchanged", kind)
    if new:
        await table.insert(*new)
    return {r["code"]: r["id"] for r in await table.select(table.id, table.code)}


async def _upsert_targets(targets: list[SeedTarget], report: SeedReport) -> None:
    """Targets are keyed by (level, deadline); admins may add more, which seeding leaves alone."""
    existing = {(r["level"], r["deadline"]): r for r in await Target.select()}
    for t in targets:
        old = existing.get((t.level, t.deadline))
        if old is None:
            await Target.insert(Target(level=t.level, percent=t.percent, deadline=t.deadline, note=t.note))
            report.count("created", "targets")
        elif (old["percent"], old["note"]) != (t.percent, t.note):
            await Target.update({Target.percent: t.percent, Target.note: t.note}).where(
                Target.id == old["id"]
            )
            report.count("updated", "targets")
        else:
            report.count("unchanged", "targets")


async def apply_seeds(
    bundle: SeedBundle,
    *,
    now: datetime | None = None,
    update: bool = False,
    progress: Callable[[int, int], None] | None = None,
    bulk: bool = True,
) -> SeedReport:
    """Write a checked bundle in one transaction. Items go BATCH at a time: new ones and
    updates in force already are published in bulk (`bulk=False` publishes updates one by one,
    the reference the bulk path is tested against); `progress(done, total)` after each batch."""
    now = now or system_now()
    report = SeedReport()
    async with write_transaction():
        named = {r["code"]: (r["name"], r["short_name"], r["level"]) for r in await Department.select()}
        dept_ids = await _upsert(
            Department,
            [{**msgspec.structs.asdict(d), "position": i} for i, d in enumerate(bundle.departments)],
            report,
            "departments",
        )
        doc_ids = await _upsert(
            LegalDocument,
            [msgspec.structs.asdict(d) for d in bundle.documents],
            report,
            "documents",
        )
        mat_ids = await _upsert(
            Material,
            [
                {
                    **msgspec.structs.asdict(m),
                    "issuer_department": dept_ids.get(m.issuer_department) if m.issuer_department else None,
                }
                for m in bundle.materials
            ],
            report,
            "materials",
        )
        await _upsert_targets(bundle.targets, report)
        for data in bundle.files.values():  # insert-if-absent: a second run stores nothing
            await attachments.store(data, now=now)
        for d in bundle.departments:  # a renamed department: its items' index entries say so
            if d.code in named and named[d.code] != (d.name, d.short_name, d.level):
                await search_index.refresh_department(dept_ids[d.code])
        ids = store.RefIds(materials=mat_ids, documents=doc_ids)
        catalogue = await store.load_catalogue()
        departments = {r["code"]: r for r in await Department.select()}
        zdicts = tuple(dict.fromkeys(s.zdict for s in bundle.items))
        which = {z: i for i, z in enumerate(zdicts)}
        preparer = bulk_work.Preparer(catalogue, await quality.gov_issued_codes(), zdicts, len(bundle.items))
        try:
            # Batches are prepared (in worker processes) a few ahead of the one being written.
            pending: deque[tuple[int, list[SeedItem], Future[list[bulk_work.Result]]]] = deque()
            total = len(bundle.items)
            for start in range(0, total, BATCH):
                chunk = bundle.items[start : start + BATCH]
                works = await _works(chunk, departments, which, update=update)
                pending.append((start, chunk, preparer.submit(works, now, update, bulk)))
                if len(pending) > AHEAD:
                    await _write_batch(
                        *pending.popleft(), total, departments, catalogue, ids, report, now, progress
                    )
            while pending:
                await _write_batch(
                    *pending.popleft(), total, departments, catalogue, ids, report, now, progress
                )
        finally:
            preparer.close()
        # After the items: the synonyms' pinyin loads pypinyin's dictionaries here (≈ 55 MB),
        # once the worker processes are gone rather than beside them.
        synonyms = await vocabulary.apply_seed(bundle.synonyms, bundle.topics, now)
        if synonyms["created"]:
            report.created["synonyms"] = synonyms["created"]
        await event_seeds.apply_events(bundle.events, now=now, update=update, report=report)
    return report


AHEAD = 2  # batches prepared ahead of the one being written (one per worker)


async def _write_batch(
    start: int,
    chunk: list[SeedItem],
    future: Future[list[bulk_work.Result]],
    total: int,
    departments: dict[str, dict[str, Any]],
    catalogue: Catalogue,
    ids: store.RefIds,
    report: SeedReport,
    now: datetime,
    progress: Callable[[int, int], None] | None,
) -> None:
    results = await asyncio.wrap_future(future)
    await _apply_items(chunk, results, departments, catalogue, ids, report, now=now)
    if progress is not None:
        progress(start + len(chunk), total)


async def _works(
    chunk: list[SeedItem],
    departments: dict[str, dict[str, Any]],
    zdicts: dict[bytes, int],
    *,
    update: bool,
) -> list[bulk_work.Work]:
    """A batch's seed items with what the database holds for those that exist: their row, their
    current guide and (when updating) their highest version, in three queries (one when none
    exists). Asked per batch: the process never holds a row of every item (100 000: ≈ 50 MB)."""
    rows = {
        r["code"]: r
        for r in await ServiceItem.select(*store.ITEM_COLUMNS).where(
            ServiceItem.code.is_in([s.code for s in chunk])
        )
    }
    current: dict[int, str] = {}
    versions: dict[int, int] = {}
    if rows:
        wanted = [r["current_edition"] for r in rows.values() if r["current_edition"] is not None]
        current = {
            r["id"]: r["snapshot"]
            for r in await Edition.select(Edition.id, Edition.snapshot).where(
                Edition.id.is_in(wanted or [-1])
            )
        }
        if update:
            ids = [r["id"] for r in rows.values()]
            for r in await Edition.select(Edition.item, Edition.version).where(Edition.item.is_in(ids)):
                versions[r["item"]] = max(versions.get(r["item"], 0), r["version"])
    works = []
    for seed in chunk:
        row = rows.get(seed.code)
        works.append(
            bulk_work.Work(
                code=seed.code,
                item_type=seed.item_type,
                packed=seed.packed,
                zdict=zdicts[seed.zdict],
                department=dict(departments[seed.department]),
                item=dict(row) if row is not None else None,
                current=(current.get(row["current_edition"]) or None) if row is not None else None,
                version=versions.get(row["id"], 0) if row is not None else 0,
            )
        )
    return works


async def _apply_items(
    chunk: list[SeedItem],
    results: list[bulk_work.Result],
    departments: dict[str, dict[str, Any]],
    catalogue: Catalogue,
    ids: store.RefIds,
    report: SeedReport,
    *,
    now: datetime,
) -> None:
    """One batch of seed items, prepared: those published one by one go first, in order, then
    the new ones and the new editions in bulk."""
    new: list[NewSeed] = []
    updates: list[tuple[str, bulk_work.Prepared]] = []
    for seed, result in zip(chunk, results, strict=True):
        kind = result.kind
        if kind is bulk_work.Kind.new:
            new.append(
                NewSeed(seed.code, seed.item_type, departments[seed.department]["id"], result.prepared)
            )
            report.count("created", "items")
        elif kind is bulk_work.Kind.later:  # announced now, in force later
            content = seed.content
            department = departments[seed.department]["id"]
            await ServiceItem.insert(
                ServiceItem(code=seed.code, department=department, item_type=seed.item_type, created_at=now)
            )
            await publish_seed(
                item=await store.item_row(seed.code),
                version=1,
                content=content,
                catalogue=catalogue,
                ids=ids,
                now=historical(now, content.effective_at),
            )
            report.count("created", "items")
        elif kind is bulk_work.Kind.unchanged:
            report.count("unchanged", "items")
        elif kind is bulk_work.Kind.differs:
            report.count("unchanged", "items")
            report.differs.append(seed.code)
        elif kind is bulk_work.Kind.update:
            updates.append((seed.code, result.prepared))
            report.count("updated", "items")
        else:
            item = await store.item_row(seed.code, lock=True)
            await publish_seed(
                item=item,
                version=await store.next_version(item["id"]),
                content=seed.content,
                catalogue=catalogue,
                ids=ids,
                now=now,
                change_note=_("依据种子数据更新"),
            )
            report.count("updated", "items")
    if new:
        await publish_new_seeds(new, ids=ids, now=now)
    if updates:
        await publish_seed_updates(updates, ids=ids, now=now, change_note=_("依据种子数据更新"))


async def load_seeds(root: Path, *, now: datetime | None = None, update: bool = False) -> SeedReport:
    return await apply_seeds(read_seeds(root), now=now, update=update)
