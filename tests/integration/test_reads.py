"""The public read side at scale (issue 9): the same answers as the plain queries, cached per
change-log head and per fingerprint, ETag/304, and a publication seen by another process."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from bs4 import BeautifulSoup

from registry import queries
from registry.reads.public import LRU, Current, Lookups, PublicReads, read_head
from registry.settings import PROJECT_ROOT
from tests.integration.test_channels import publish_new_edition

CODE = "650100-SGAJ-001"


async def test_lists_and_counts_match_the_plain_queries_on_every_page(seeded_db):
    reads = PublicReads()
    assert await reads.department_summaries() == await queries.department_summaries()
    filters = [
        queries.ItemFilter(),
        queries.ItemFilter(level="district"),
        queries.ItemFilter(level="city", trips="1"),
        queries.ItemFilter(trips="2+"),
        queries.ItemFilter(department="SGAJ"),
        queries.ItemFilter(department="SGAJ", level="district"),
    ]
    for flt in filters:
        expected_total = await queries.count_items(flt)
        assert await reads.count_items(flt) == expected_total
        # A page size of 7 makes pages start and end inside departments.
        for page in range(1, expected_total // 7 + 3):
            assert await reads.list_items(flt, page=page, page_size=7) == await queries.list_items(
                flt, page=page, page_size=7
            ), (flt, page)


async def test_head_moves_with_each_publication(seeded_db):
    before = await read_head()
    await publish_new_edition(CODE, promised_days=3)
    after = await read_head()
    assert after.seq == before.seq + 1


async def test_cached_answers_last_until_the_head_moves(seeded_db):
    now = [0.0]
    reads = PublicReads(interval=10.0, clock=lambda: now[0])
    first = await reads.current(CODE)
    reads_before = reads.head_reads
    assert await reads.current(CODE) == first
    assert reads.head_reads == reads_before  # within the interval: no database read of the head
    # Another process publishes (this one's invalidate() is not called: simulate by bypassing it).
    await publish_new_edition(CODE, promised_days=3)
    reads._checked = now[0]  # as if nothing told this process
    assert await reads.current(CODE) == first  # stale within the interval, by design
    now[0] += 10.5
    changed = await reads.current(CODE)
    assert changed.fingerprint != first.fingerprint
    guide = await reads.snapshot(changed.edition_id, changed.fingerprint)
    assert guide.promised_days == 3


def test_lru_is_bounded_by_size_and_count():
    by_bytes = LRU(max_bytes=100)
    for i in range(10):
        by_bytes.put(i, b"x" * 30)
    assert by_bytes.size <= 100 and len(by_bytes) == 3
    assert by_bytes.get(9) == b"x" * 30 and by_bytes.get(0) is None
    by_count = LRU(entries=2)
    by_count.put("a", 1)
    by_count.put("b", 2)
    by_count.get("a")
    by_count.put("c", 3)
    assert by_count.get("b") is None and by_count.get("a") == 1


def test_lookups_give_back_what_they_were_given_packed_or_not():
    fingerprint = "0123456789abcdef" * 4
    kept = [
        Current("ok", edition_id=7, fingerprint=fingerprint, version=3, reviewed_on="2026-11-30"),
        Current("withdrawn", edition_id=2**31, fingerprint=fingerprint, version=1),
        # Not packed: an announcement, a law-change flag, an upper-case or odd fingerprint, none.
        Current(
            "ok", edition_id=8, fingerprint=fingerprint, version=2, scheduled_id=9, scheduled_fingerprint="x"
        ),
        Current("ok", edition_id=8, fingerprint=fingerprint, version=2, review_flag="设定依据已修订"),
        Current("ok", edition_id=8, fingerprint=fingerprint.upper(), version=2),
        Current("ok", edition_id=8, fingerprint="not-a-digest", version=2),
        Current("missing"),
    ]
    lookups = Lookups(100)
    for i, found in enumerate(kept):
        lookups.put(f"C{i}", found)
    assert [lookups.get(f"C{i}") for i in range(len(kept))] == kept
    assert type(lookups._data["C0"]) is bytes and type(lookups._data["C2"]) is Current
    lookups.drop(["C0", "C9"])
    assert lookups.get("C0") is None and len(lookups) == len(kept) - 1


def test_lookups_are_bounded_oldest_out_first():
    lookups = Lookups(3)
    for i in range(5):
        lookups.put(f"C{i}", Current("ok", edition_id=i, fingerprint="ab" * 32, version=1))
    assert len(lookups) == 3
    assert lookups.get("C1") is None and lookups.get("C4").edition_id == 4


async def test_a_publication_forgets_only_its_own_items_lookup(seeded_db):
    now = [0.0]
    reads = PublicReads(interval=1.0, clock=lambda: now[0])
    other = "650100-SGAJ-002"
    first, kept = await reads.current(CODE), await reads.current(other)
    await publish_new_edition(CODE, promised_days=3)
    now[0] += 2
    changed = await reads.current(CODE)
    assert changed.fingerprint != first.fingerprint
    assert (await reads.snapshot(changed.edition_id, changed.fingerprint)).promised_days == 3
    # The other item's lookup survived the head's move: it is read from memory, not the database.
    assert reads.lookups.get(other) == kept
    assert len(reads.lookups) == 2


async def test_a_move_of_the_head_beyond_publications_forgets_every_lookup(seeded_db):
    now = [0.0]
    reads = PublicReads(interval=1.0, clock=lambda: now[0])
    await reads.current(CODE)
    await reads.current("650100-SGAJ-002")
    head = await reads.head()
    # An admin's edit of a department moves the head's reference digest, not its sequence.
    from registry.tables import Department

    await Department.update({Department.short_name: "公安局（新）"}).where(Department.code == "SGAJ")
    now[0] += 2
    assert (await reads.head()).seq == head.seq
    assert len(reads.lookups) == 0


def test_a_value_offered_once_is_not_kept_offered_twice_it_is():
    documents = LRU(max_bytes=1000)
    assert documents.offer("a", b"page") == b"page" and documents.get("a") is None
    documents.offer("b", b"other")
    assert documents.offer("a", b"page") == b"page" and documents.get("a") == b"page"
    assert documents.get("b") is None  # offered once: still not kept


async def test_preload_loads_every_published_items_current_edition(seeded_db):
    from registry.reads.public import _load_current
    from registry.tables import ServiceItem

    reads = PublicReads()
    published = [
        r["code"]
        for r in await ServiceItem.select(ServiceItem.code).where(ServiceItem.current_edition.is_not_null())
    ]
    assert await reads.preload(chunk=7) == len(published) == len(reads.lookups)  # chunks of 7: many
    for code in published:
        assert reads.lookups.get(code) == await _load_current(code), code


async def test_a_chunk_read_while_the_head_moved_is_read_again(seeded_db, monkeypatch):
    from registry.reads import public

    reads = PublicReads(interval=0.0)  # every chunk reads the head
    await reads.head()
    calls = []
    real = public.Edition.raw

    async def raw(sql, *args):
        rows = await real(sql, *args)
        if sql == public.PRELOAD_SQL and not calls:
            calls.append(args)
            reads._head = None  # as if a publication moved the head during this read …
            rows = [{**r, "fingerprint": "0" * 64} for r in rows]  # … which this read predates
        return rows

    monkeypatch.setattr(public.Edition, "raw", raw)
    stored = await reads.preload(chunk=1000)
    assert len(calls) == 1 and stored == len(reads.lookups) > 80
    assert all(
        reads.lookups.get(r["code"]).fingerprint != "0" * 64 for r in await real(public.PRELOAD_SQL, 0, 1000)
    )


async def test_livez_touches_no_database(client):
    response = await client.get("/livez")
    assert response.status_code == 200
    assert response.text == "ok"
    assert response.headers["content-type"].startswith("text/plain")


async def test_hall_page_etag_304_and_a_new_etag_after_publication(client):
    first = await client.get(f"/g/{CODE}")
    etag = first.headers["etag"]
    again = await client.get(f"/g/{CODE}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    await publish_new_edition(CODE, name="居民身份证换领（新）")
    changed = await client.get(f"/g/{CODE}", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    title = BeautifulSoup(changed.text, "html.parser").select_one("h1").get_text()
    assert "居民身份证换领（新）" in title


async def test_home_and_lists_follow_a_publication(client):
    home = await client.get("/")
    listed = await client.get("/items", params={"trips": "0", "department": "SGAJ"})
    await publish_new_edition(CODE, trips=0, trips_reason="", online_depth=4)
    listed_after = await client.get("/items", params={"trips": "0", "department": "SGAJ"})
    assert CODE not in listed.text and CODE in listed_after.text
    assert (await client.get("/")).text != home.text


@pytest.mark.parametrize(
    "url", ["/items?page=0", "/items?trips=3", "/api/items?page=x", "/api/items?level=x"]
)
async def test_bad_list_parameters_are_a_400_in_chinese(client, url):
    response = await client.get(url)
    assert response.status_code == 400
    assert any("\u4e00" <= ch <= "\u9fff" for ch in response.text)


async def test_far_pages_are_empty_not_errors(client):
    response = await client.get("/api/items", params={"page": "5000"})
    assert response.status_code == 200
    assert response.json()["items"] == [] and response.json()["total"] > 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
async def test_another_process_sees_a_publication_within_one_second(seeded_db):
    port = _free_port()
    env = {
        **os.environ,
        "ONETRIP_DATABASE_URL": seeded_db.settings.database_url,
        "ONETRIP_STATE_DIR": seeded_db.settings.state_dir,
        "ONETRIP_PUBLISH_INTERVAL": "0",
        "PICCOLO_CONF": "registry.piccolo_conf",
    }
    server = subprocess.Popen(  # noqa: ASYNC220 - a server for the test's whole duration
        [sys.executable, "-m", "registry", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as http:
            for _ in range(600):  # 30 s: a loaded two-core machine takes 20 s to start one
                try:
                    await http.get("/livez")
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.05)
            before = await http.get(f"/g/{CODE}")
            assert before.status_code == 200 and "居民身份证换领（第二版）" not in before.text
            await http.get(f"/g/{CODE}")  # now cached in the server
            await publish_new_edition(CODE, name="居民身份证换领（第二版）")  # committed here
            published = time.monotonic()
            seen = None
            while time.monotonic() - published < 3:
                if "居民身份证换领（第二版）" in (await http.get(f"/g/{CODE}")).text:
                    seen = time.monotonic() - published
                    break
            assert seen is not None and seen <= 1.0, seen
    finally:
        server.terminate()
        server.wait(timeout=10)
