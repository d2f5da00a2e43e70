"""Stored renderings (registry.rendered, issue 14): a guide no cache of the process holds is one
indexed read, never a render; what is stored is exactly what would be rendered; nothing stale."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import date, timedelta

import pytest
from litestar.testing import AsyncTestClient

import guides
from guides.urls import Urls
from registry import qrcodes, rendered
from registry.app import create_app
from registry.db import write_transaction
from registry.qrcodes import publication_urls
from registry.reads.public import _load_current
from registry.settings import Settings
from registry.tables import Edition, ServiceItem
from registry.vocab import local_today, system_now
from tests.integration.test_channels import publish_new_edition

CODE = "650100-SGSJ-001"


async def stored_rows() -> dict[str, str]:
    return {r["key"]: r["stamp"] for r in await Edition.raw("SELECT key, stamp FROM rendered_document")}


def refuse_rendering(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make rendering a hall page or printout fail loudly; returns what someone tried."""
    asked: list[str] = []

    def refuse(*args, **kwargs):
        asked.append(args[0].code)
        raise AssertionError("rendered a page that should have been stored")

    monkeypatch.setattr(rendered, "hall_page", refuse)
    monkeypatch.setattr("registry.web.channels.render_channel", refuse)
    monkeypatch.setattr("registry.web.api.api_item", refuse)
    return asked


async def test_publication_stores_the_pages_the_public_then_gets(small_db, monkeypatch):
    monkeypatch.delenv("ONETRIP_PUBLIC_URL", raising=False)
    guide = await publish_new_edition(CODE, promised_days=3)
    urls = publication_urls()
    fingerprint = guides.fingerprint(guide)
    today = local_today(system_now())
    hall = rendered.hall_key(fingerprint, today.isoformat(), today)
    printout = rendered.print_key(fingerprint)
    rows = await stored_rows()
    assert rows[hall] == rows[printout] == rendered.stamp(urls)
    stored_hall = rendered.decompress((await rendered.read(hall, rendered.stamp(urls))).body)
    stored_print = rendered.decompress((await rendered.read(printout, rendered.stamp(urls))).body)
    stored_api = rendered.decompress(
        (await rendered.read(rendered.api_key(fingerprint), rendered.stamp(urls))).body
    )

    # A new process (empty caches) serves the stored bytes and renders nothing.
    asked = refuse_rendering(monkeypatch)
    app = create_app(small_db.settings, engine=small_db.engine, pool=False)
    async with AsyncTestClient(app=app) as client:
        page = await client.get(f"/g/{CODE}")
        printed = await client.get(f"/g/{CODE}/print")
        api = await client.get(f"/api/items/{CODE}")
    assert asked == []
    assert api.content == stored_api and api.json()["fingerprint"] == fingerprint
    assert page.status_code == printed.status_code == 200
    assert page.content == stored_hall and printed.content == stored_print
    assert guide.name.encode() in page.content and f"?v={guide.version}".encode() in printed.content


async def test_a_page_rendered_on_request_is_stored_and_equals_the_rendering(small_db):
    """Pages never stored (a registry from before, another address) are rendered on their first
    request and stored; the next process reads them: the same bytes."""
    base = "https://c.example.cn"
    settings = Settings(database_url=small_db.settings.database_url, public_url=base, publish_interval=0)
    stamp = rendered.stamp(Urls(base))
    assert not any(s == stamp for s in (await stored_rows()).values())
    app = create_app(settings, engine=small_db.engine, pool=False)
    async with AsyncTestClient(app=app) as client:
        first = await client.get(f"/g/{CODE}")
        first_print = await client.get(f"/g/{CODE}/print")
        await rendered.flushed()
    stored = {k for k, s in (await stored_rows()).items() if s == stamp}
    assert {k.split(":")[0] for k in stored} == {"hall", "print"}
    app = create_app(settings, engine=small_db.engine, pool=False)
    async with AsyncTestClient(app=app) as client:
        again = await client.get(f"/g/{CODE}")
        again_print = await client.get(f"/g/{CODE}/print")
    assert again.content == first.content and again_print.content == first_print.content
    assert base.encode() in again.content


async def test_another_stamp_is_a_miss_never_a_stale_page(small_db):
    """A stored page rendered by other templates or for another address is not served."""
    await publish_new_edition(CODE, promised_days=4)
    urls = publication_urls()
    key = max(k for k in await stored_rows() if k.startswith("print:"))
    assert await rendered.read(key, rendered.stamp(urls)) is not None
    assert await rendered.read(key, "0" * 16) is None
    async with write_transaction():
        await Edition.raw("UPDATE rendered_document SET body = {} WHERE key = {}", b"junk", key)
        await Edition.raw("UPDATE rendered_document SET stamp = {} WHERE key = {}", "old", key)
    settings = Settings(
        database_url=small_db.settings.database_url, public_url=urls.public_url, publish_interval=0
    )
    app = create_app(settings, engine=small_db.engine, pool=False)
    async with AsyncTestClient(app=app) as client:
        page = await client.get(f"/g/{CODE}/print")
    assert page.status_code == 200 and b"junk" not in page.content


async def test_a_new_day_replaces_the_stored_hall_page(small_db):
    fingerprint = "f" * 64
    day = date(2026, 12, 1)
    await rendered.store({rendered.hall_key(fingerprint, "2026-11-30", day): b"<p>1</p>"}, "s")
    await rendered.store({rendered.print_key(fingerprint): b"<p>p</p>"}, "s")
    later = rendered.hall_key(fingerprint, "2026-11-30", day + timedelta(days=1))
    await rendered.store({later: b"<p>2</p>"}, "s")
    keys = [k for k in await stored_rows() if fingerprint in k]
    assert sorted(keys) == sorted([later, rendered.print_key(fingerprint)])
    assert rendered.decompress((await rendered.read(later, "s")).body) == b"<p>2</p>"


async def test_flagged_guides_are_rendered_per_request_not_stored(small_db):
    async with write_transaction():
        await ServiceItem.update({ServiceItem.review_flag: "amended"}).where(ServiceItem.code == CODE)
    before = await stored_rows()
    app = create_app(small_db.settings, engine=small_db.engine, pool=False)
    async with AsyncTestClient(app=app) as client:
        page = await client.get(f"/g/{CODE}")
        await rendered.flushed()
    assert "设定依据已修订或废止".encode() in page.content
    assert {k for k in await stored_rows() if k.startswith("hall:")} == {
        k for k in before if k.startswith("hall:")
    }


async def test_fill_renders_every_current_guide_once(small_db):
    urls = Urls("https://fill.example.cn")
    current = [
        r["code"]
        for r in await ServiceItem.raw(
            "SELECT code FROM service_item WHERE current_edition IS NOT NULL AND withdrawn = {}", False
        )
    ]
    seen: list[tuple[int, int]] = []
    worked = await rendered.fill(urls, processes=2, progress=lambda done, total: seen.append((done, total)))
    assert worked == len(current) and seen[-1] == (len(current), len(current))
    stamp = rendered.stamp(urls)
    rows = {k: s for k, s in (await stored_rows()).items() if s == stamp}
    assert sum(k.startswith("print:") for k in rows) == len(current)
    assert sum(k.startswith("api:") for k in rows) == len(current)
    assert sum(k.startswith("hall:") for k in rows) == len(current)
    texts = [urls.guide_absolute(code) for code in current]
    assert set(await qrcodes.stored(texts)) == set(texts)
    # Idempotent: nothing left to do; and what it stored is what a request renders.
    assert await rendered.fill(urls, processes=2) == 0
    settings = Settings(
        database_url=small_db.settings.database_url, public_url=urls.public_url, publish_interval=0
    )
    app = create_app(settings, engine=small_db.engine, pool=False)
    key = next(k for k in rows if k.startswith("hall:"))
    stored = await rendered.read(key, stamp)
    async with write_transaction():
        await Edition.raw("DELETE FROM rendered_document WHERE key = {}", key)
    async with AsyncTestClient(app=app) as client:
        code = (
            await ServiceItem.raw(
                "SELECT si.code AS code FROM service_item si JOIN edition e ON e.id = si.current_edition"
                " WHERE e.fingerprint = {}",
                key.split(":")[1],
            )
        )[0]["code"]
        assert (await client.get(f"/g/{code}")).content == rendered.decompress(stored.body)


async def test_fill_prunes_the_pages_of_superseded_snapshots(small_db):
    urls = Urls("https://prune.example.cn")
    await rendered.fill(urls, processes=1)
    before = await stored_rows()
    guide = await publish_new_edition(CODE, promised_days=6)
    await rendered.fill(urls, processes=1)
    after = await stored_rows()
    new = guides.fingerprint(guide)
    assert rendered.print_key(new) in after and rendered.api_key(new) in after
    gone = {k for k in before if k not in after}
    # The superseded snapshot's pages are gone, nothing else.
    assert gone and all(rendered.print_key(new) not in k for k in gone)
    live = {
        r["fingerprint"]
        for r in await Edition.raw(
            "SELECT fingerprint FROM edition WHERE status IN ('published', 'scheduled')"
        )
    }
    assert {k.split(":")[1] for k in after} <= live


async def _raw(client: AsyncTestClient, path: str, **headers: str) -> tuple[int, dict, bytes]:
    """Status, headers and the body as sent (not decoded by the client)."""
    async with client.stream("GET", path, headers=headers) as response:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
    return response.status_code, response.headers, body


@pytest.mark.parametrize("path", [f"/g/{CODE}", f"/g/{CODE}/print", f"/api/items/{CODE}"])
async def test_stored_pages_are_sent_compressed_to_clients_that_accept_gzip(small_db, monkeypatch, path):
    """A browser (Accept-Encoding: gzip) gets the stored bytes as they are; a client that does not
    accept gzip gets them decompressed; each form has its own ETag and its own 304."""
    monkeypatch.delenv("ONETRIP_PUBLIC_URL", raising=False)
    await publish_new_edition(CODE, promised_days=5)
    stored = {
        k: (await rendered.read(k, rendered.stamp(publication_urls()))).body for k in await stored_rows()
    }
    app = create_app(small_db.settings, engine=small_db.engine, pool=False)
    async with AsyncTestClient(app=app) as client:
        status, zipped, body = await _raw(client, path, **{"Accept-Encoding": "gzip, deflate, br"})
        assert status == 200 and zipped["content-encoding"] == "gzip"
        assert "Accept-Encoding" in zipped["vary"]
        assert body in stored.values()  # the stored row, byte for byte: nothing compressed per request
        status, plain, text = await _raw(client, path, **{"Accept-Encoding": "identity"})
        assert status == 200 and "content-encoding" not in plain and "Accept-Encoding" in plain["vary"]
        assert text == rendered.decompress(body)
        assert int(plain["content-length"]) == len(text) and int(zipped["content-length"]) == len(body)
        refused, _h, text2 = await _raw(client, path, **{"Accept-Encoding": "gzip;q=0, *"})
        assert refused == 200 and text2 == text
        assert zipped["etag"] != plain["etag"]
        for sent, encoding in ((zipped, "gzip"), (plain, "identity")):
            asked = {"If-None-Match": sent["etag"], "Accept-Encoding": encoding}
            assert (await client.get(path, headers=asked)).status_code == 304


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("gzip, deflate, br, zstd", True),
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", True),
        ("GZIP", True),
        ("x-gzip", True),
        ("*", True),
        ("", False),
        ("identity", False),
        ("br", False),
        ("gzip;q=0", False),
        ("gzip;q=0.000, *", False),
        ("*, gzip;q=0", False),
        ("*;q=0", False),
        ("gzip;q=abc", False),
    ],
)
def test_accept_encoding(header, accepted):
    from registry.web.rendering import accepts_gzip

    assert accepts_gzip(header) is accepted


async def test_the_key_sql_makes_is_the_key_python_makes(small_db):
    """The stored page read with the current edition (one query) is looked up under the key the
    SQL builds; it must be the key the pages are stored under, for every kind, with and without
    a review date."""
    from registry.reads.public import CURRENT_STORED_SQL

    day = date(2026, 12, 2)
    async with write_transaction():
        await ServiceItem.update({ServiceItem.reviewed_on: date(2026, 11, 3)}).where(ServiceItem.code == CODE)
    other = (await ServiceItem.raw("SELECT code FROM service_item WHERE code <> {} LIMIT 1", CODE))[0]["code"]
    async with write_transaction():
        await ServiceItem.update({ServiceItem.reviewed_on: None}).where(ServiceItem.code == other)
    for code in (CODE, other):
        found = await _load_current(code)
        expected = {
            "hall": rendered.hall_key(found.fingerprint, found.reviewed_on, day),
            "print": rendered.print_key(found.fingerprint),
            "api": rendered.api_key(found.fingerprint),
        }
        for kind, key in expected.items():
            kind_day = (kind, day.isoformat(), kind)
            (row,) = await Edition.raw(CURRENT_STORED_SQL, *kind_day, *kind_day, code)
            assert row["page_key"] == key, (code, kind)
    assert (await _load_current(CODE)).reviewed_on == "2026-11-03"
    assert (await _load_current(other)).reviewed_on == ""


async def test_a_guide_no_cache_holds_is_one_read(small_db, monkeypatch):
    """A new process serving a stored hall page, printout or API document reads the database
    once per request: the current edition and its stored page come in one query."""
    from registry import db
    from registry.reads import public

    monkeypatch.delenv("ONETRIP_PUBLIC_URL", raising=False)
    await publish_new_edition(CODE, promised_days=6)
    reads: list[str] = []
    original = db.point_read

    async def counting(sql, *args):
        reads.append(sql)
        return await original(sql, *args)

    monkeypatch.setattr(public, "point_read", counting)
    monkeypatch.setattr(rendered, "point_read", counting)
    asked = refuse_rendering(monkeypatch)
    for path in (f"/g/{CODE}", f"/g/{CODE}/print", f"/api/items/{CODE}"):
        app = create_app(small_db.settings, engine=small_db.engine, pool=False)
        async with AsyncTestClient(app=app) as client:
            reads.clear()
            response = await client.get(path)
            assert response.status_code == 200 and asked == []
            assert len(reads) == 1, (path, reads)
            if path.endswith("/print"):  # the CSP allows the stored page's inline style
                style = re.search(r"<style>(.*?)</style>", response.text, re.DOTALL).group(1)
                digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
                assert f"'sha256-{digest}'" in response.headers["content-security-policy"]
            reads.clear()
            # Asked for again: its page alone (the current edition is in memory), and kept …
            assert (await client.get(path)).status_code == 200 and len(reads) == 1, (path, reads)
            reads.clear()
            assert (await client.get(path)).status_code == 200 and reads == []  # … then memory
