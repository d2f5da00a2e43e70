"""`onetrip export`: the published registry as a static site that works from a plain folder."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import io
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup

from guides import canonical_json
from guides import export as guides_export
from guides.export import SUMMARY_FIELDS
from guides.qr import qr_svg
from guides.snapshot import attachments_in
from registry import exporting
from registry.exporting import cmd_export, current_summaries, export_site, progress_bar, published_guides
from registry.tables import Department, ServiceItem
from tests.integration.test_channels import publish_new_edition

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
GUIDE_FILES = ("index.html", "print.html", "qr.svg", "qr.png", "guide.json", "guide.md")


def broken_links(root: Path) -> list[str]:
    """Every relative href/src in every exported page must name a file that exists."""
    broken = []
    for page in root.rglob("*.html"):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for tag in soup.select("a[href], link[href], img[src], script[src]"):
            target = tag.get("href") or tag.get("src")
            parts = urlsplit(target)
            if parts.scheme or target.startswith(("#", "/")):
                if target.startswith("/"):
                    broken.append(f"{page.relative_to(root)}: absolute link {target}")
                continue
            if not (page.parent / unquote(parts.path)).resolve().is_file():
                broken.append(f"{page.relative_to(root)}: {target}")
    return broken


async def test_export_writes_a_static_site_with_working_links(seeded_db, tmp_path):
    out = tmp_path / "site"
    report = await export_site(out, seeded_db.settings)
    guides = await published_guides()
    assert len(guides) >= 80
    written, skipped, removed = report.counts
    assert written > 6 * len(guides) and skipped == removed == 0

    for guide, fingerprint in guides:
        folder = out / "g" / guide.code
        assert sorted(p.name for p in folder.iterdir()) == sorted(GUIDE_FILES)
        assert (folder / "guide.json").read_bytes() == canonical_json(guide)
        assert (folder / "qr.svg").read_bytes() == qr_svg(f"http://localhost:8000/g/{guide.code}")
        assert fingerprint in (folder / "guide.md").read_text(encoding="utf-8")

    index = BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "html.parser")
    departments = [a["href"] for a in index.select(".dept-grid a")]
    assert departments and all(href.startswith("departments/") for href in departments)
    assert broken_links(out) == []

    sitemap = ET.parse(out / "sitemap.xml").getroot()
    locations = {loc.text for loc in sitemap.iter(f"{SITEMAP}loc")}
    assert {f"http://localhost:8000/g/{g.code}" for g, _ in guides} <= locations
    assert "http://localhost:8000/" in locations
    assert all(loc.startswith("http://localhost:8000/") for loc in locations)

    again = await export_site(out, seeded_db.settings)
    assert again.counts == (0, written, 0)


async def test_a_changed_item_rewrites_only_its_files_and_the_indexes(small_db, tmp_path):
    out = tmp_path / "site"
    first = await export_site(out, small_db.settings)
    assert first.counts[1:] == (0, 0)

    await publish_new_edition("650100-SGSJ-001", promised_days=2)
    second = await export_site(out, small_db.settings)
    item = "g/650100-SGSJ-001"
    assert sorted(second.written) == sorted(
        [
            f"{item}/index.html",
            f"{item}/print.html",
            f"{item}/guide.json",
            f"{item}/guide.md",
            "departments/SGSJ.html",  # lists the promised days
            "sitemap.xml",  # the guide's lastmod
        ]
    )
    assert second.removed == []  # the QR code of the stable address is unchanged: skipped
    assert f"{item}/qr.svg" in second.skipped and f"{item}/qr.png" in second.skipped

    await ServiceItem.update({ServiceItem.withdrawn: True}).where(ServiceItem.code == "650102-TSQ-001")
    third = await export_site(out, small_db.settings)
    assert sorted(third.removed) == sorted(
        ["departments/TSQ.html", *(f"g/650102-TSQ-001/{name}" for name in GUIDE_FILES)]
    )
    assert not (out / "g" / "650102-TSQ-001").exists()
    assert "index.html" in third.written and "sitemap.xml" in third.written
    assert broken_links(out) == []


async def test_export_leaves_files_it_did_not_write_alone(small_db, tmp_path):
    out = tmp_path / "site"
    out.mkdir()
    (out / "README.txt").write_text("mine", encoding="utf-8")
    await export_site(out, small_db.settings)
    await export_site(out, small_db.settings)
    assert (out / "README.txt").read_text(encoding="utf-8") == "mine"


async def test_cmd_export_reports_in_chinese(small_db, tmp_path, capsys):
    args = argparse.Namespace(dir=str(tmp_path / "site"))
    assert await asyncio.to_thread(cmd_export, small_db.settings, args) == 0
    first = capsys.readouterr().out
    assert "写入" in first and "跳过 0 个未变文件" in first
    assert await asyncio.to_thread(cmd_export, small_db.settings, args) == 0
    assert "写入 0 个文件" in capsys.readouterr().out

    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    not_a_folder = argparse.Namespace(dir=str(tmp_path / "a-file"))
    assert await asyncio.to_thread(cmd_export, small_db.settings, not_a_folder) == 1
    assert "不是文件夹" in capsys.readouterr().err


def test_progress_bar():
    stream = io.StringIO()
    draw = progress_bar(stream, width=10)
    draw(45, 90)
    draw(90, 90)
    assert stream.getvalue() == "\r[#####.....] 45/90\r[##########] 90/90\n"


async def test_a_re_export_renders_only_guides_whose_fingerprint_changed(small_db, tmp_path, monkeypatch):
    out = tmp_path / "site"
    await export_site(out, small_db.settings)
    rendered: list[tuple[str, str]] = []
    real = guides_export.render

    def counting(channel, guide, *args, **kwargs):
        rendered.append((guide.code, channel.filename))
        return real(channel, guide, *args, **kwargs)

    monkeypatch.setattr(guides_export, "render", counting)
    again = await export_site(out, small_db.settings)
    assert rendered == [] and again.counts[0] == 0

    await publish_new_edition("650100-SGSJ-001", promised_days=2)
    changed = await export_site(out, small_db.settings)
    assert sorted(rendered) == sorted(("650100-SGSJ-001", name) for name in GUIDE_FILES)
    assert "g/650100-SGSJ-001/guide.json" in changed.written

    # A guide file gone from the folder is made again, even though its guide did not change.
    (out / "g" / "650102-TSQ-001" / "print.html").unlink()
    rendered.clear()
    await export_site(out, small_db.settings)
    assert rendered == [("650102-TSQ-001", "print.html")]

    # Another public address changes every page: everything is rendered again.
    rendered.clear()
    moved = dataclasses.replace(small_db.settings, public_url="https://example.gov.cn")
    await export_site(out, moved)
    guides = await published_guides()
    assert len(rendered) == len(GUIDE_FILES) * len(guides)


def site_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


async def test_the_database_gives_what_the_index_pages_show_of_each_guide(small_db):
    guides = await published_guides()
    summaries = await current_summaries()
    assert [s.code for _id, s, _fp, _files in summaries] == [g.code for g, _fp in guides]
    for (guide, fingerprint), (_id, summary, fp, files) in zip(guides, summaries, strict=True):
        assert fp == fingerprint
        for name in SUMMARY_FIELDS:
            assert getattr(summary, name) == getattr(guide, name)
        assert summary.at_most_once == guide.at_most_once
        assert files == bool(attachments_in(guide))


async def test_a_re_export_after_one_change_loads_and_renders_only_what_changed(
    small_db, tmp_path, monkeypatch
):
    out = tmp_path / "site"
    await export_site(out, small_db.settings)
    loaded: list[str] = []
    templates: list[str] = []
    real_snapshots, real_environment = exporting.snapshots, guides_export.make_environment

    async def counting_snapshots(ids):
        found = await real_snapshots(ids)
        loaded.extend(g.code for g, _text in found.values() if not attachments_in(g))
        return found

    def counting_environment():
        env = real_environment()
        get_template = env.get_template

        def counted(name, *args, **kwargs):
            if not name.startswith(("_", "guides/_", guides_export.LAYOUT)):  # not a part
                templates.append(name)
            return get_template(name, *args, **kwargs)

        env.get_template = counted
        return env

    monkeypatch.setattr(exporting, "snapshots", counting_snapshots)
    monkeypatch.setattr(guides_export, "make_environment", counting_environment)
    again = await export_site(out, small_db.settings)
    assert again.counts[0] == 0
    assert loaded == [] and templates == []  # nothing read in full, nothing rendered

    await publish_new_edition("650100-SGSJ-001", promised_days=2)
    changed = await export_site(out, small_db.settings)
    assert loaded == ["650100-SGSJ-001"]
    assert sorted(templates) == sorted(
        [
            "guides/hall.html",
            "guides/print.html",
            "guides/guide.md",
            "guides/site_index.html",  # its counts could have changed: rendered, same bytes
            "guides/site_department.html",  # the guide's department only
            "guides/sitemap.xml",
        ]
    )
    assert "index.html" in changed.skipped and "departments/SGSJ.html" in changed.written

    # A department renamed: its page and the index are made again, no guide is.
    loaded.clear()
    templates.clear()
    await Department.update({Department.name: "改名后的部门"}).where(Department.code == "SGSJ")
    renamed = await export_site(out, small_db.settings)
    assert sorted(renamed.written) == ["departments/SGSJ.html", "index.html"]
    assert loaded == [] and "guides/hall.html" not in templates

    fresh = tmp_path / "fresh"
    await export_site(fresh, small_db.settings)
    assert site_files(out) == site_files(fresh)  # incremental and from scratch: the same bytes


async def test_worker_processes_make_the_same_site(small_db, tmp_path, monkeypatch):
    used: list[int] = []
    real = guides_export._make_in_processes

    def counting(jobs, *args, **kwargs):
        used.append(len(jobs))
        return real(jobs, *args, **kwargs)

    monkeypatch.setattr(guides_export, "_make_in_processes", counting)
    monkeypatch.setattr(guides_export, "PARALLEL_FROM", 10**9)
    alone = await export_site(tmp_path / "alone", small_db.settings)
    assert used == []

    monkeypatch.setattr(guides_export, "PARALLEL_FROM", 2)
    monkeypatch.setattr(guides_export, "CHUNK", 7)  # several chunks, the last one short
    steps: list[tuple[int, int]] = []
    workers = await export_site(
        tmp_path / "workers", small_db.settings, progress=lambda done, total: steps.append((done, total))
    )
    guides = await published_guides()
    assert used == [len(GUIDE_FILES) * len(guides)]
    assert workers.written == alone.written and workers.counts == alone.counts
    assert site_files(tmp_path / "workers") == site_files(tmp_path / "alone")
    assert [d for d, _t in steps] == sorted(d for d, _t in steps) and steps[-1][0] == steps[-1][1]

    # A guide file removed is made again in this process (one guide is under PARALLEL_FROM).
    (tmp_path / "workers" / "g" / guides[0][0].code / "print.html").unlink()
    again = await export_site(tmp_path / "workers", small_db.settings)
    assert again.written == [f"g/{guides[0][0].code}/print.html"] and len(used) == 1
