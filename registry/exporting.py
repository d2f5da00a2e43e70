"""`onetrip export DIR`: the published registry as a static site (see guides/export.py)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from piccolo.engine.postgres import PostgresEngine

from guides import DepartmentRef, Guide
from guides.export import (
    SUMMARY_FIELDS,
    ExportReport,
    GuideSummary,
    Progress,
    SiteGuide,
    export,
    guides_to_render,
    qr_texts_of,
    renders_everything,
    summary_from_values,
)
from guides.i18n import _
from guides.snapshot import attachments_in
from guides.urls import Urls
from registry import attachments, qrcodes
from registry.settings import PROJECT_ROOT, Settings
from registry.tables import Department, Edition

DEFAULT_DIR = PROJECT_ROOT / "var" / "site"


def _current_editions():
    return (
        Edition.select(Edition.snapshot, Edition.fingerprint)
        .where(
            (Edition.id == Edition.item.current_edition)
            & (Edition.item.withdrawn == False)  # noqa: E712
            & Edition.fingerprint.is_not_null()
        )
        .order_by(Edition.item.department.position)
        .order_by(Edition.item.code)
    )


async def published_guides() -> list[tuple[Guide, str]]:
    """The current guide of every item still in service, with its fingerprint, by department."""
    return [(Guide.from_json(r["snapshot"]), r["fingerprint"]) for r in await _current_editions()]


# A snapshot naming an attachment holds this key; one that does not has no attachment (the
# text is only a hint: a guide whose text merely mentions it is loaded in full, which is harmless).
ATTACHMENT_HINT = '"sha256"'
CHUNK = 500  # editions per SELECT … IN (…)

_CURRENT = (
    " FROM service_item si JOIN edition e ON e.id = si.current_edition AND e.item = si.id"
    " JOIN department d ON d.id = si.department{lateral}"
    " WHERE si.withdrawn = {{}} AND e.fingerprint IS NOT NULL ORDER BY d.position, si.code"
)
# What the index pages show of each current guide, taken out of its snapshot by the database
# (reading 10 000 whole snapshots into Python costs more than the rest of a re-export).
_SQLITE_SUMMARIES = (
    "SELECT e.id AS id, e.fingerprint AS fingerprint, json_extract(e.snapshot, "
    + ", ".join(f"'$.{name}'" for name in SUMMARY_FIELDS)
    + f") AS summary, instr(e.snapshot, '{ATTACHMENT_HINT}') > 0 AS files"
    + _CURRENT.format(lateral="")
)
_POSTGRES_SUMMARIES = (
    "SELECT e.id AS id, e.fingerprint AS fingerprint, json_build_array("
    + ", ".join(f"s.j->'{name}'" for name in SUMMARY_FIELDS)
    + f")::text AS summary, strpos(e.snapshot, '{ATTACHMENT_HINT}') > 0 AS files"
    + _CURRENT.format(lateral=" CROSS JOIN LATERAL (SELECT e.snapshot::jsonb AS j) AS s")
)


async def current_summaries() -> list[tuple[int, GuideSummary, str, bool]]:
    """(edition id, summary, fingerprint, names a file?) of every current guide, in the order of
    `published_guides`, without reading whole snapshots."""
    postgres = isinstance(Edition._meta.db, PostgresEngine)
    rows = await Edition.raw(_POSTGRES_SUMMARIES if postgres else _SQLITE_SUMMARIES, False)
    return [(r["id"], summary_from_values(r["summary"]), r["fingerprint"], bool(r["files"])) for r in rows]


async def snapshots(ids: list[int]) -> dict[int, tuple[Guide, bytes]]:
    """The guides of the editions `ids`, with their stored snapshots (canonical JSON)."""
    found: dict[int, tuple[Guide, bytes]] = {}
    for start in range(0, len(ids), CHUNK):
        rows = await Edition.select(Edition.id, Edition.snapshot).where(
            Edition.id.is_in(ids[start : start + CHUNK])
        )
        for r in rows:
            text = r["snapshot"].encode("utf-8")
            found[r["id"]] = (Guide.from_json(text), text)
    return found


async def departments() -> list[DepartmentRef]:
    rows = await Department.select(
        Department.code, Department.name, Department.short_name, Department.level, Department.region
    ).order_by(Department.position)
    return [DepartmentRef(**r) for r in rows]


async def export_site(out_dir: Path, settings: Settings, progress: Progress | None = None) -> ExportReport:
    """Load every published guide and write the static site into `out_dir` (tables must be bound).

    Every snapshot is decoded as a `GuideSummary` (what the index pages show) first; only the
    guides whose files must be made, and those with attachments, are decoded in full, and only
    their QR codes are read."""
    urls = Urls(settings.base_url, map_template=settings.map_url)
    guides: list[tuple[SiteGuide, str]]
    texts: dict[str, bytes] = {}  # the stored snapshots of the guides loaded in full, by code
    if await asyncio.to_thread(renders_everything, out_dir, urls):
        guides = []
        for r in await _current_editions():
            text = r["snapshot"].encode("utf-8")
            guide = Guide.from_json(text)
            guides.append((guide, r["fingerprint"]))
            texts[guide.code] = text
        stale = set(texts)
    else:
        rows = await current_summaries()
        stale = await asyncio.to_thread(
            guides_to_render, [(s.code, fingerprint) for _id, s, fingerprint, _files in rows], out_dir, urls
        )
        loaded = await snapshots([id_ for id_, s, _fp, files in rows if files or s.code in stale])
        texts = {guide.code: text for guide, text in loaded.values()}
        guides = [(loaded[id_][0] if id_ in loaded else s, fp) for id_, s, fp, _files in rows]
    full = [(g, fp) for g, fp in guides if isinstance(g, Guide)]
    units = await departments()
    # QR codes are read as stored (drawn and stored now only if they never were).
    stored = await qrcodes.ensure(qr_texts_of([(g, fp) for g, fp in full if g.code in stale], urls))
    files = await attachments.contents({a.sha256 for g, _fp in full for _path, a in attachments_in(g)})
    # Rendering and writing files is blocking work: keep it off the event loop.
    return await asyncio.to_thread(
        export,
        guides,
        units,
        out_dir,
        urls,
        progress=progress,
        qr=stored.__getitem__,
        attachments=files,
        snapshots=texts,
    )


def progress_bar(stream: TextIO, width: int = 30) -> Callable[[int, int], None]:
    """`\\r[#####.....] 45/89` on a terminal."""

    def draw(done: int, total: int) -> None:
        filled = width * done // total if total else width
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            stream.write("\n")
        stream.flush()

    return draw


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from registry.db import bind, engine_for

    out_dir = Path(args.dir) if getattr(args, "dir", None) else DEFAULT_DIR
    if out_dir.exists() and not out_dir.is_dir():
        print(_("无法导出：{path} 不是文件夹。", path=out_dir), file=sys.stderr)
        return 1
    bind(engine_for(settings))
    progress = progress_bar(sys.stdout) if sys.stdout.isatty() else None
    try:
        report = asyncio.run(export_site(out_dir, settings, progress))
    except (OSError, ValueError) as exc:
        print(_("导出失败：{error}", error=exc), file=sys.stderr)
        return 1
    written, skipped, removed = report.counts
    line = _("写入 {n} 个文件，跳过 {m} 个未变文件", n=written, m=skipped)
    if removed:
        line += _("，删除 {k} 个过时文件", k=removed)
    print(line)
    print(_("静态站点：{path}", path=out_dir.resolve()))
    return 0
