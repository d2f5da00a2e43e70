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
the last export, and whose files are all there, is not rendered again. A re-export after one
change renders that guide and the indexes only.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment

from guides.channels import CHANNELS, qr_texts, render
from guides.qr import QrSource
from guides.snapshot import DepartmentRef, Guide, attachments_in, safe_file_name
from guides.templating import make_environment
from guides.urls import StaticUrls, Urls

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
MANIFEST = ".onetrip-export"
LAYOUT = "guides/site_layout.html"
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

Progress = Callable[[int, int], None]  # (files done, files in all)
KEY_PREFIX = "# render key "


@dataclass(frozen=True, slots=True)
class SiteFile:
    """One file of the site: its path, how to make its bytes, and for a guide's files the
    guide's fingerprint (what they are made from)."""

    name: str
    make: Callable[[], bytes]
    fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class DepartmentPage:
    """A department with its published guides (what index.html and departments/{code}.html show)."""

    department: DepartmentRef
    guides: tuple[Guide, ...]

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
    guides: Sequence[tuple[Guide, str]], departments: Sequence[DepartmentRef]
) -> list[DepartmentPage]:
    """Departments in the given order, each with its guides by code; departments without a
    published guide are left out (there is nothing to link to)."""
    by_department: dict[str, list[Guide]] = {}
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
    guides: Sequence[tuple[Guide, str]],
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
    guides' files by SHA-256."""
    site = StaticUrls(urls.public_url)
    pages = department_pages(guides, departments)
    files: list[SiteFile] = []

    def page(template: str, depth: int, **context: object) -> Callable[[], bytes]:
        def make() -> bytes:
            text = env.get_template(template).render(urls=site.at(depth), **context)
            return (text if text.endswith("\n") else text + "\n").encode("utf-8")

        return make

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
        )
    )
    for p in pages:
        name = _safe(p.department.code, "department code")
        files.append(SiteFile(f"departments/{name}.html", page("guides/site_department.html", 1, page=p)))
    for guide, fingerprint in guides:
        folder = f"g/{_safe(guide.code, 'item code')}"
        for channel in CHANNELS.values():
            files.append(
                SiteFile(
                    f"{folder}/{channel.filename}",
                    lambda c=channel, g=guide, fp=fingerprint: render(
                        c, g, fp, site.at(2), env, qr=qr, layout=LAYOUT
                    ),
                    fingerprint,
                )
            )
    files.extend(_attachment_files(guides, attachments or {}))
    base = urls.public_url.rstrip("/")
    files.append(
        SiteFile("sitemap.xml", page("guides/sitemap.xml", 0, base=base, pages=pages, guides=guides))
    )
    for path in sorted(p for p in static_dir.rglob("*") if p.is_file()):
        files.append(SiteFile(f"static/{path.relative_to(static_dir).as_posix()}", path.read_bytes))
    return files


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


@dataclass(slots=True)
class Manifest:
    """What the last export wrote: every file, the fingerprint each guide file was made from,
    and the render key of that export."""

    files: dict[str, str | None] = field(default_factory=dict)
    key: str = ""

    @classmethod
    def read(cls, out_dir: Path) -> Manifest:
        path = out_dir / MANIFEST
        manifest = cls()
        if not path.is_file():
            return manifest
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith(KEY_PREFIX):
                manifest.key = line.removeprefix(KEY_PREFIX)
            elif line:
                name, _tab, fingerprint = line.partition("\t")
                manifest.files[name] = fingerprint or None
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


def export(
    guides: Sequence[tuple[Guide, str]],
    departments: Sequence[DepartmentRef],
    out_dir: Path,
    urls: Urls,
    *,
    progress: Progress | None = None,
    env: Environment | None = None,
    static_dir: Path = STATIC_DIR,
    qr: QrSource | None = None,
    attachments: Mapping[str, bytes] | None = None,
) -> ExportReport:
    """Write the static site of `guides` into `out_dir`; rewrite only files whose bytes changed.
    `attachments`: the bytes of every file the guides name, by SHA-256."""
    env = env or make_environment()
    files = plan(guides, departments, urls, env, static_dir, qr, attachments)
    names = [f.name for f in files]
    if len(set(names)) != len(names):
        raise ValueError("two guides or departments share a code")
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = Manifest.read(out_dir)
    current = Manifest({f.name: f.fingerprint for f in files}, render_key(urls, env))
    same_key = previous.key == current.key
    report = ExportReport()
    for done, f in enumerate(files, start=1):
        if (
            f.fingerprint is not None
            and same_key
            and previous.files.get(f.name) == f.fingerprint
            and (out_dir / f.name).is_file()
        ):
            report.skipped.append(f.name)  # made from the same guide as last time: not rendered
        elif _write_if_changed(out_dir / f.name, f.make()):
            report.written.append(f.name)
        else:
            report.skipped.append(f.name)
        if progress is not None:
            progress(done, len(files))
    report.removed = _remove(out_dir, set(previous.files) - set(names))
    _write_if_changed(out_dir / MANIFEST, current.text())
    return report
