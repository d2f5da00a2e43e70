"""`onetrip export DIR`: the published registry as a static site (see guides/export.py)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from guides import DepartmentRef, Guide
from guides.export import ExportReport, Progress, export, qr_texts_of
from guides.i18n import _
from guides.snapshot import attachments_in
from guides.urls import Urls
from registry import attachments, qrcodes
from registry.settings import PROJECT_ROOT, Settings
from registry.tables import Department, Edition

DEFAULT_DIR = PROJECT_ROOT / "var" / "site"


async def published_guides() -> list[tuple[Guide, str]]:
    """The current guide of every item still in service, with its fingerprint, by department."""
    rows = (
        await Edition.select(Edition.snapshot, Edition.fingerprint)
        .where(
            (Edition.id == Edition.item.current_edition)
            & (Edition.item.withdrawn == False)  # noqa: E712
            & Edition.fingerprint.is_not_null()
        )
        .order_by(Edition.item.department.position)
        .order_by(Edition.item.code)
    )
    return [(Guide.from_json(r["snapshot"]), r["fingerprint"]) for r in rows]


async def departments() -> list[DepartmentRef]:
    rows = await Department.select(
        Department.code, Department.name, Department.short_name, Department.level, Department.region
    ).order_by(Department.position)
    return [DepartmentRef(**r) for r in rows]


async def export_site(out_dir: Path, settings: Settings, progress: Progress | None = None) -> ExportReport:
    """Load every published guide and write the static site into `out_dir` (tables must be bound)."""
    guides = await published_guides()
    units = await departments()
    urls = Urls(settings.base_url, map_template=settings.map_url)
    # QR codes are read as stored (drawn and stored now only if they never were).
    stored = await qrcodes.ensure(qr_texts_of(guides, urls))
    files = await attachments.contents({a.sha256 for g, _fp in guides for _path, a in attachments_in(g)})
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
