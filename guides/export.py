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
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment

from guides.channels import CHANNELS, render
from guides.snapshot import DepartmentRef, Guide, attachments_in, safe_file_name
from guides.templating import make_environment
from guides.urls import StaticUrls, Urls

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
MANIFEST = ".onetrip-export"
LAYOUT = "guides/site_layout.html"
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

Progress = Callable[[int, int], None]  # (files done, files in all)


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
    attachments: Mapping[str, bytes] | None = None,
) -> list[tuple[str, Callable[[], bytes]]]:
    """Every file of the site, as (relative path, a function that makes its bytes).
    `attachments` holds the bytes of the guides' files by SHA-256."""
    site = StaticUrls(urls.public_url)
    pages = department_pages(guides, departments)
    files: list[tuple[str, Callable[[], bytes]]] = []

    def page(template: str, depth: int, **context: object) -> Callable[[], bytes]:
        def make() -> bytes:
            text = env.get_template(template).render(urls=site.at(depth), **context)
            return (text if text.endswith("\n") else text + "\n").encode("utf-8")

        return make

    guide_list = [g for g, _ in guides]
    files.append(
        (
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
        files.append((f"departments/{name}.html", page("guides/site_department.html", 1, page=p)))
    for guide, fingerprint in guides:
        folder = f"g/{_safe(guide.code, 'item code')}"
        for channel in CHANNELS.values():
            files.append(
                (
                    f"{folder}/{channel.filename}",
                    lambda c=channel, g=guide, fp=fingerprint: render(
                        c, g, fp, site.at(2), env, layout=LAYOUT
                    ),
                )
            )
    files.extend(_attachment_files(guides, attachments or {}))
    base = urls.public_url.rstrip("/")
    files.append(("sitemap.xml", page("guides/sitemap.xml", 0, base=base, pages=pages, guides=guides)))
    for path in sorted(p for p in static_dir.rglob("*") if p.is_file()):
        files.append((f"static/{path.relative_to(static_dir).as_posix()}", path.read_bytes))
    return files


def _attachment_files(
    guides: Sequence[tuple[Guide, str]], attachments: Mapping[str, bytes]
) -> list[tuple[str, Callable[[], bytes]]]:
    """files/{sha256}/{name} for every attachment of the guides (the address StaticUrls links)."""
    found: dict[str, Callable[[], bytes]] = {}
    for guide, _fingerprint in guides:
        for _path, a in attachments_in(guide):
            if a.sha256 not in attachments:
                raise ValueError(f"the file {a.sha256} of {guide.code} is missing")
            if safe_file_name(a.name, a.media_type) != a.name or len(a.sha256) != 64:
                raise ValueError(f"the file name {a.name!r} of {guide.code} cannot be used")
            found[f"files/{_safe(a.sha256, 'file hash')}/{a.name}"] = lambda h=a.sha256: attachments[h]
    return sorted(found.items())


def _write_if_changed(target: Path, data: bytes) -> bool:
    if target.is_file() and target.read_bytes() == data:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)
    return True


def _previous(out_dir: Path) -> set[str]:
    manifest = out_dir / MANIFEST
    if not manifest.is_file():
        return set()
    return {line for line in manifest.read_text(encoding="utf-8").splitlines() if line}


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
    attachments: Mapping[str, bytes] | None = None,
) -> ExportReport:
    """Write the static site of `guides` into `out_dir`; rewrite only files whose bytes changed.
    `attachments`: the bytes of every file the guides name, by SHA-256."""
    env = env or make_environment()
    files = plan(guides, departments, urls, env, static_dir, attachments)
    names = [name for name, _make in files]
    if len(set(names)) != len(names):
        raise ValueError("two guides or departments share a code")
    out_dir.mkdir(parents=True, exist_ok=True)
    report = ExportReport()
    for done, (name, make) in enumerate(files, start=1):
        (report.written if _write_if_changed(out_dir / name, make()) else report.skipped).append(name)
        if progress is not None:
            progress(done, len(files))
    report.removed = _remove(out_dir, _previous(out_dir) - set(names))
    _write_if_changed(out_dir / MANIFEST, "".join(f"{n}\n" for n in sorted(names)).encode("utf-8"))
    return report
