"""The static-site export: published guides in, a folder any web server can serve out.

Pure: give it (Guide, fingerprint) pairs and departments, get files. Layout of the site:

    index.html                    departments and district-level units
    departments/{code}.html       one department's guides
    g/{code}/index.html           the online-hall page   (the guide's stable address /g/{code})
    g/{code}/print.html           the A4 print page
    g/{code}/qr.svg, qr.png       the QR code of {public URL}/g/{code}
    g/{code}/guide.json           the canonical JSON (its SHA-256 is the fingerprint)
    g/{code}/guide.md             Markdown
    files/{sha256}/{name}         attachments (空白表格, 示例样表, 结果样本), once per hash
    sitemap.xml                   absolute URLs under the public URL
    static/…                      CSS and vendored assets

Guides live under `g/` (not `guides/`) so the address a QR code carries, `{public URL}/g/{code}`,
also resolves when the export itself is what the public URL serves. Every link is relative, so
the folder also works opened from disk (file://). Files whose bytes are unchanged are not
rewritten; files an earlier export wrote that are no longer part of the site are removed (only
those: the list is kept in `.onetrip-export`, so nothing else in the folder is touched).

The manifest also keeps each guide's fingerprint and a key of everything else its files depend
on (the templates, the addresses, the channels): a guide whose fingerprint and key are those of
the last export, and whose files are all there, is not rendered again. The index, department and
sitemap pages keep a digest of what they list (departments and guide fingerprints) the same way.
A re-export after one change renders that guide, its department page and the indexes only; a
caller gives the other guides as `GuideSummary` (what the index pages show), found with
`guides_to_render`, and need not load them. A first export renders the guides in worker
processes (PARALLEL_FROM); the bytes are the same.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, partial
from multiprocessing import get_context
from pathlib import Path

import msgspec
from jinja2 import Environment

from guides.channels import CHANNELS, qr_texts, render
from guides.qr import QrCode, QrSource
from guides.snapshot import DepartmentRef, Guide, attachments_in, safe_file_name
from guides.templating import make_environment
from guides.urls import StaticUrls, Urls

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
MANIFEST = ".onetrip-export"
LAYOUT = "guides/site_layout.html"
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

Progress = Callable[[int, int], None]  # (files done, files in all)
KEY_PREFIX = "# render key "
# A first export renders every guide: from this many guides to render on, the guides' files are
# made in worker processes (each with its own Jinja environment), CHUNK guides at a time.
PARALLEL_FROM = 400
CHUNK = 200

_GUIDE_FIELDS = {f.name: f for f in msgspec.structs.fields(Guide)}


class GuideSummary(msgspec.Struct, frozen=True, kw_only=True):
    """What the index pages, the department pages and the sitemap show of a guide, decoded from
    its snapshot without the rest: a re-export passes this for every guide whose files are
    already made from its fingerprint (their files are then never rendered)."""

    code: str
    name: str
    item_type: str
    department: DepartmentRef
    published_at: datetime
    trips: int = _GUIDE_FIELDS["trips"].default
    promised_days: int = _GUIDE_FIELDS["promised_days"].default
    online_depth: int = _GUIDE_FIELDS["online_depth"].default

    @property
    def at_most_once(self) -> bool:
        return self.trips <= 1


summary_of = msgspec.json.Decoder(GuideSummary).decode  # snapshot JSON -> GuideSummary
SUMMARY_FIELDS: tuple[str, ...] = GuideSummary.__struct_fields__


_SUMMARY_VALUES = msgspec.json.Decoder(
    tuple.__class_getitem__(
        tuple(
            f.type if f.required else f.type | None  # null: not in the snapshot, the default
            for f in msgspec.structs.fields(GuideSummary)
        )
    )
)


def summary_from_values(values: str | bytes) -> GuideSummary:
    """A `GuideSummary` from the JSON array of its fields' values in SUMMARY_FIELDS order, as a
    database's JSON functions extract them from a snapshot (null: not there, the default)."""
    found = _SUMMARY_VALUES.decode(values)
    return GuideSummary(**{name: v for name, v in zip(SUMMARY_FIELDS, found, strict=True) if v is not None})


SiteGuide = Guide | GuideSummary


@dataclass(frozen=True, slots=True)
class SiteFile:
    """One file of the site: its path, how to make its bytes, and for a guide's files the
    guide's fingerprint (what they are made from)."""

    name: str
    make: Callable[[], bytes]
    fingerprint: str | None = None
    guide: SiteGuide | None = None  # a guide's file: the guide and the channel that makes it
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class DepartmentPage:
    """A department with its published guides (what index.html and departments/{code}.html show)."""

    department: DepartmentRef
    guides: tuple[SiteGuide, ...]

    @property
    def items(self) -> int:
        return len(self.guides)

    @property
    def at_most_once(self) -> int:
        return sum(g.at_most_once for g in self.guides)


@dataclass(slots=True)
class ExportReport:
    written: list[str] = field(default_factory=list)  # paths relative to the output folder
    skipped: list[str] = field(default_factory=list)  # unchanged bytes: left alone
    removed: list[str] = field(default_factory=list)  # written by an earlier export, gone now

    @property
    def counts(self) -> tuple[int, int, int]:
        return len(self.written), len(self.skipped), len(self.removed)


def _safe(name: str, what: str) -> str:
    """Codes become folder and file names: refuse anything that is not a plain name."""
    if not SAFE_NAME.fullmatch(name) or ".." in name:
        raise ValueError(f"{what} {name!r} cannot be used as a file name")
    return name


def department_pages(
    guides: Sequence[tuple[SiteGuide, str]], departments: Sequence[DepartmentRef]
) -> list[DepartmentPage]:
    """Departments in the given order, each with its guides by code; departments without a
    published guide are left out (there is nothing to link to)."""
    by_department: dict[str, list[SiteGuide]] = {}
    for guide, _fingerprint in guides:
        by_department.setdefault(guide.department.code, []).append(guide)
    known = {d.code for d in departments}
    # A guide whose department is not in the list still gets a page (from its snapshot).
    extra = {g.department.code: g.department for g, _ in guides if g.department.code not in known}
    return [
        DepartmentPage(d, tuple(sorted(by_department[d.code], key=lambda g: g.code)))
        for d in [*departments, *extra.values()]
        if d.code in by_department
    ]


def plan(
    guides: Sequence[tuple[SiteGuide, str]],
    departments: Sequence[DepartmentRef],
    urls: Urls,
    env: Environment,
    static_dir: Path = STATIC_DIR,
    qr: QrSource | None = None,
    attachments: Mapping[str, bytes] | None = None,
) -> list[SiteFile]:
    """Every file of the site: its relative path, a function that makes its bytes, and for a
    guide's files the guide's fingerprint (an attachment's: its SHA-256). QR codes come from `qr`
    (the registry's stored codes), else they are drawn; `attachments` holds the bytes of the
    guides' files by SHA-256. A `GuideSummary` stands for a guide without attachments whose
    files are made already (asking for their bytes is an error)."""
    return [
        f if isinstance(f, SiteFile) else SiteFile(f[0], partial(_not_loaded, f[0]), f[1])
        for f in _plan(guides, departments, urls, env, static_dir, qr, attachments)
    ]


def _plan(
    guides: Sequence[tuple[SiteGuide, str]],
    departments: Sequence[DepartmentRef],
    urls: Urls,
    env: Environment,
    static_dir: Path,
    qr: QrSource | None,
    attachments: Mapping[str, bytes] | None,
) -> list[SiteFile | tuple[str, str]]:
    """`plan`, with each file of a `GuideSummary` as just (name, fingerprint): a re-export of
    10 000 unchanged guides need not make 60 000 objects."""
    site = StaticUrls(urls.public_url)
    pages = department_pages(guides, departments)
    files: list[SiteFile | tuple[str, str]] = []

    def page(template: str, depth: int, **context: object) -> Callable[[], bytes]:
        def make() -> bytes:
            text = env.get_template(template).render(urls=site.at(depth), **context)
            return (text if text.endswith("\n") else text + "\n").encode("utf-8")

        return make

    # The index pages get a fingerprint too: a digest of the departments they show and of the
    # fingerprints of the guides they list (the guides' fingerprints cover everything they show
    # of them). One unchanged is a page not rendered again.
    fingerprints = {g.code: fp for g, fp in guides}
    site_digest = _digest([repr(p.department) for p in pages], fingerprints.items())
    guide_list = [g for g, _ in guides]
    files.append(
        SiteFile(
            "index.html",
            page(
                "guides/site_index.html",
                0,
                pages=pages,
                total_items=len(guide_list),
                total_once=sum(g.at_most_once for g in guide_list),
                total_zero=sum(g.trips == 0 for g in guide_list),
            ),
            site_digest,
        )
    )
    for p in pages:
        name = _safe(p.department.code, "department code")
        digest = _digest([repr(p.department)], ((g.code, fingerprints[g.code]) for g in p.guides))
        files.append(
            SiteFile(f"departments/{name}.html", page("guides/site_department.html", 1, page=p), digest)
        )
    channels = list(CHANNELS.values())
    for guide, fingerprint in guides:
        folder = f"g/{_safe(guide.code, 'item code')}"
        if not isinstance(guide, Guide):
            files.extend((f"{folder}/{c.filename}", fingerprint) for c in channels)
            continue
        for channel in channels:
            files.append(
                SiteFile(
                    f"{folder}/{channel.filename}",
                    lambda c=channel, g=guide, fp=fingerprint: render(
                        c, g, fp, site.at(2), env, qr=qr, layout=LAYOUT
                    ),
                    fingerprint,
                    guide,
                    channel.name,
                )
            )
    full = [(g, fp) for g, fp in guides if isinstance(g, Guide)]
    files.extend(_attachment_files(full, attachments or {}))
    base = urls.public_url.rstrip("/")
    files.append(
        SiteFile(
            "sitemap.xml", page("guides/sitemap.xml", 0, base=base, pages=pages, guides=guides), site_digest
        )
    )
    for path in sorted(p for p in static_dir.rglob("*") if p.is_file()):
        files.append(SiteFile(f"static/{path.relative_to(static_dir).as_posix()}", path.read_bytes))
    return files


def _digest(heads: Iterable[str], guides: Iterable[tuple[str, str]]) -> str:
    digest = hashlib.sha256()
    for head in heads:
        digest.update(head.encode("utf-8") + b"\n")
    digest.update("".join(f"{code}\t{fingerprint}\n" for code, fingerprint in guides).encode("utf-8"))
    return "page:" + digest.hexdigest()


def _not_loaded(name: str) -> bytes:
    raise ValueError(f"{name}: its guide was passed as a summary, but the file must be made")


def qr_texts_of(guides: Sequence[tuple[Guide, str]], urls: Urls) -> list[str]:
    """Every text the site's QR codes encode (what a caller with stored codes loads first)."""
    site = StaticUrls(urls.public_url).at(2)
    return [text for guide, _fingerprint in guides for text in qr_texts(guide, site)]


def render_key(urls: Urls, env: Environment) -> str:
    """What a guide's files depend on besides the guide: the addresses, the channels and every
    template's source. A change to any of them renders every guide again."""
    digest = hashlib.sha256()
    digest.update(repr((urls.public_url, urls.map_template, LAYOUT)).encode("utf-8"))
    digest.update(repr(sorted((c.name, c.filename, c.template) for c in CHANNELS.values())).encode("utf-8"))
    if env.loader is not None:
        for name in sorted(env.list_templates()):
            source, _filename, _uptodate = env.loader.get_source(env, name)
            digest.update(name.encode("utf-8") + b"\0" + source.encode("utf-8") + b"\0")
    return digest.hexdigest()


def _attachment_files(
    guides: Sequence[tuple[Guide, str]], attachments: Mapping[str, bytes]
) -> list[SiteFile]:
    """files/{sha256}/{name} for every attachment of the guides (the address StaticUrls links)."""
    found: dict[str, SiteFile] = {}
    for guide, _fingerprint in guides:
        for _path, a in attachments_in(guide):
            if a.sha256 not in attachments:
                raise ValueError(f"the file {a.sha256} of {guide.code} is missing")
            if safe_file_name(a.name, a.media_type) != a.name or len(a.sha256) != 64:
                raise ValueError(f"the file name {a.name!r} of {guide.code} cannot be used")
            name = f"files/{_safe(a.sha256, 'file hash')}/{a.name}"
            found[name] = SiteFile(name, lambda h=a.sha256: attachments[h], a.sha256)
    return [found[name] for name in sorted(found)]


def _write_if_changed(target: Path, data: bytes) -> bool:
    if target.is_file() and target.read_bytes() == data:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)
    return True


_last_read: list = []  # [(path, inode, size, mtime), Manifest] of the last manifest read


@dataclass(slots=True)
class Manifest:
    """What the last export wrote: every file, the fingerprint each guide file was made from,
    and the render key of that export."""

    files: dict[str, str | None] = field(default_factory=dict)
    key: str = ""

    mtime_ns: int = 0  # when the last export ended (it touches the manifest last)

    @classmethod
    def read(cls, out_dir: Path) -> Manifest:
        """The manifest in `out_dir` (empty if there is none). Do not modify it: the last one read
        is kept, and returned again while the file is unchanged (a re-export reads it thrice)."""
        path = out_dir / MANIFEST
        manifest = cls()
        try:
            with path.open(encoding="utf-8") as f:
                status = os.fstat(f.fileno())
                seen = (os.fspath(path.resolve()), status.st_ino, status.st_size, status.st_mtime_ns)
                if _last_read and _last_read[0] == seen:
                    return _last_read[1]
                manifest.mtime_ns = status.st_mtime_ns
                text = f.read()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return manifest
        for line in text.splitlines():
            if line.startswith(KEY_PREFIX):
                manifest.key = line.removeprefix(KEY_PREFIX)
            elif line:
                name, _tab, fingerprint = line.partition("\t")
                manifest.files[name] = fingerprint or None
        _last_read[:] = [seen, manifest]
        return manifest

    def text(self) -> bytes:
        lines = [f"{KEY_PREFIX}{self.key}"]
        for name in sorted(self.files):
            fingerprint = self.files[name]
            lines.append(f"{name}\t{fingerprint}" if fingerprint else name)
        return "".join(f"{line}\n" for line in lines).encode("utf-8")


def _remove(out_dir: Path, stale: Iterable[str]) -> list[str]:
    removed = []
    root = out_dir.resolve()
    for name in sorted(stale):
        path = (out_dir / name).resolve()
        if root not in path.parents or not path.is_file():
            continue  # a manifest edited by hand cannot make us delete outside the folder
        path.unlink()
        removed.append(name)
        parent = path.parent
        while parent != root and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
    return removed


def renders_everything(out_dir: Path, urls: Urls, env: Environment | None = None) -> bool:
    """Whether an export into `out_dir` makes every guide's files: none made there yet, or made
    with another render key (a caller then loads every guide in full at once)."""
    return Manifest.read(out_dir).key != render_key(urls, env or make_environment())


def guides_to_render(
    guides: Iterable[tuple[str, str]], out_dir: Path, urls: Urls, env: Environment | None = None
) -> set[str]:
    """The codes among (code, fingerprint) whose files an export into `out_dir` must make: the
    last export made them from another fingerprint or with another render key, or one of them
    is gone. A caller loads only these guides in full (the others as `GuideSummary`)."""
    previous = Manifest.read(out_dir)
    if previous.key != render_key(urls, env or make_environment()):
        return {code for code, _fingerprint in guides}
    known = previous.files
    filenames = [c.filename for c in CHANNELS.values()]
    root = os.path.join(out_dir, "g")
    stale = set()
    for code, fingerprint in guides:
        if any(known.get(f"g/{code}/{filename}") != fingerprint for filename in filenames):
            stale.add(code)
            continue
        folder = os.path.join(root, code)
        try:
            # The last export left every file of the folder there and then touched the manifest:
            # a folder not changed since (no file added, removed or renamed) has them all still.
            if os.stat(folder).st_mtime_ns < previous.mtime_ns:
                continue
            with os.scandir(folder) as entries:
                there = {e.name for e in entries if e.is_file()}
        except (FileNotFoundError, NotADirectoryError):
            there = set()
        if not there.issuperset(filenames):
            stale.add(code)
    return stale


def export(
    guides: Sequence[tuple[SiteGuide, str]],
    departments: Sequence[DepartmentRef],
    out_dir: Path,
    urls: Urls,
    *,
    progress: Progress | None = None,
    env: Environment | None = None,
    static_dir: Path = STATIC_DIR,
    qr: QrSource | None = None,
    attachments: Mapping[str, bytes] | None = None,
    processes: int | None = None,
    snapshots: Mapping[str, bytes] | None = None,
) -> ExportReport:
    """Write the static site of `guides` into `out_dir`; rewrite only files whose bytes changed.
    `attachments`: the bytes of every file the guides name, by SHA-256. A `GuideSummary` stands
    for a guide `guides_to_render` found made already (its files are not checked again).

    With the default environment and at least PARALLEL_FROM guides to render, the guides' files
    are made in `processes` worker processes (default: one per CPU; 1: in this process), each
    with its own Jinja environment; the bytes are the same either way. `snapshots` (optional):
    the stored canonical JSON of guides by code; a worker takes the guide from it, and writes it
    as guide.json when its SHA-256 is the guide's fingerprint (instead of encoding it again)."""
    own_env = env is None
    env = env or make_environment()
    files = _plan(guides, departments, urls, env, static_dir, qr, attachments)
    names = [f.name if isinstance(f, SiteFile) else f[0] for f in files]
    if len(set(names)) != len(names):
        raise ValueError("two guides or departments share a code")
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = Manifest.read(out_dir)
    fingerprints = [f.fingerprint if isinstance(f, SiteFile) else f[1] for f in files]
    current = Manifest(dict(zip(names, fingerprints, strict=True)), render_key(urls, env))
    same_key = previous.key == current.key
    known = previous.files
    root = os.fspath(out_dir)
    for f in files:
        if not isinstance(f, SiteFile) and (not same_key or known.get(f[0]) != f[1]):
            _not_loaded(f[0])  # a summary's file must be made: the caller should have loaded it

    def made_already(f: SiteFile) -> bool:
        return (
            f.fingerprint is not None
            and same_key
            and known.get(f.name) == f.fingerprint
            and os.path.isfile(os.path.join(root, f.name))
        )

    jobs = [
        f for f in files if isinstance(f, SiteFile) and isinstance(f.guide, Guide) and not made_already(f)
    ]
    parallel = own_env and processes != 1 and len({f.guide.code for f in jobs}) >= PARALLEL_FROM
    in_workers = {f.name for f in jobs} if parallel else set()
    results: dict[str, bool | None] = {}  # written, same bytes (not written), or made already

    def tick() -> None:
        if progress is not None:
            progress(len(results), len(files))

    def make_here() -> None:
        for f in files:
            if not isinstance(f, SiteFile):
                results[f[0]] = None  # a summary's: found made from the same guide
            elif f.name in in_workers:
                continue
            elif made_already(f):
                results[f.name] = None  # made from the same guide as last time: not rendered
            else:
                results[f.name] = _write_if_changed(out_dir / f.name, f.make())
            tick()

    if parallel:  # this process makes the other files meanwhile
        _make_in_processes(jobs, out_dir, urls, qr, processes, results, make_here, tick, snapshots or {})
    else:
        make_here()
    report = ExportReport()
    for name in names:
        (report.written if results[name] else report.skipped).append(name)
    report.removed = _remove(out_dir, set(previous.files) - set(names))
    _write_if_changed(out_dir / MANIFEST, current.text())
    os.utime(out_dir / MANIFEST)  # now: every file it lists is there (see guides_to_render)
    return report


def _make_in_processes(
    jobs: Sequence[SiteFile],
    out_dir: Path,
    urls: Urls,
    qr: QrSource | None,
    processes: int | None,
    results: dict[str, bool | None],
    meanwhile: Callable[[], None],
    tick: Callable[[], None],
    snapshots: Mapping[str, bytes],
) -> None:
    """Make (render and write) the guide files `jobs` in worker processes, CHUNK guides each,
    and run `meanwhile` here while they work; record in `results` whether each file was
    written (its bytes changed)."""
    by_guide: dict[str, tuple[Guide, str, list[str]]] = {}
    for f in jobs:
        assert isinstance(f.guide, Guide) and f.fingerprint is not None and f.channel is not None
        by_guide.setdefault(f.guide.code, (f.guide, f.fingerprint, []))[2].append(f.channel)
    site = StaticUrls(urls.public_url).at(2)
    work = list(by_guide.values())
    (out_dir / "g").mkdir(parents=True, exist_ok=True)
    workers = processes or min(-(-len(work) // CHUNK), os.cpu_count() or 1)
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        futures = []
        for start in range(0, len(work), CHUNK):
            part = work[start : start + CHUNK]
            codes: dict[str, QrCode] | None = None
            if qr is not None:  # the stored codes travel with the guides; without them, drawn
                codes = {
                    text: qr(text)
                    for guide, _fp, channels in part
                    for text in _qr_texts_of(guide, channels, site)
                }
            payload = [snapshots.get(guide.code) or msgspec.json.encode(guide) for guide, _fp, _c in part]
            entries = [(fp, tuple(channels)) for _guide, fp, channels in part]
            futures.append(
                pool.submit(_make_chunk, urls.public_url, os.fspath(out_dir), payload, entries, codes)
            )
        meanwhile()
        for future in futures:
            results.update(future.result())
            tick()


def _qr_texts_of(guide: Guide, channels: Collection[str], urls: Urls) -> list[str]:
    return [CHANNELS[c].qr(guide, urls) for c in channels if CHANNELS[c].qr is not None]


@cache
def _worker_environment() -> Environment:
    env = make_environment()
    env.auto_reload = False  # the templates do not change while an export runs
    return env


def _make_chunk(
    public_url: str,
    out_dir: str,
    payload: Sequence[bytes],
    entries: Sequence[tuple[str, tuple[str, ...]]],
    codes: Mapping[str, QrCode] | None,
) -> list[tuple[str, bool]]:
    """In a worker process: render and write the files of a chunk of guides."""
    env = _worker_environment()
    site = StaticUrls(public_url).at(2)
    source = codes.__getitem__ if codes is not None else None
    made = []
    for text, (fingerprint, channels) in zip(payload, entries, strict=True):
        guide = Guide.from_json(text)
        canonical = text if hashlib.sha256(text).hexdigest() == fingerprint else None
        folder = f"g/{guide.code}"
        documents = [
            (
                CHANNELS[name].filename,
                canonical
                if name == "json" and canonical is not None
                else render(CHANNELS[name], guide, fingerprint, site, env, qr=source, layout=LAYOUT),
            )
            for name in channels
        ]
        written = _write_folder(os.path.join(out_dir, folder), documents)
        made += [(f"{folder}/{filename}", w) for (filename, _data), w in zip(documents, written, strict=True)]
    return made


def _write_folder(folder: str, documents: Sequence[tuple[str, bytes]]) -> list[bool]:
    """`_write_if_changed` for the files of one folder: created once; in a new folder there is
    nothing to compare with."""
    try:
        os.mkdir(folder)
    except FileExistsError:
        return [_write_if_changed(Path(folder, name), data) for name, data in documents]
    for name, data in documents:
        temporary = os.path.join(folder, f".{name}.tmp")
        with open(temporary, "wb") as f:
            f.write(data)
        os.replace(temporary, os.path.join(folder, name))
    return [True] * len(documents)
