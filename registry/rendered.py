"""Guide pages rendered once per publication and stored (issue 14).

A process keeps rendered pages in memory (registry.reads.public), but a registry of 100 000 items
is larger than any such cache, and rendering a hall page costs ≈ 1–2 ms. So the pages that depend
on nothing but a published snapshot are rendered when it is published and stored in the
`rendered_document` table; a request that misses this process's memory reads one row by its key.

- **What is stored:** the printout and the API document of every published snapshot
  (`print:{fingerprint}`, `api:{fingerprint}`), and the
  hall page of the day (`hall:{fingerprint}:{reviewed_on}:{day}`: the page shows 最近审核 and each
  venue's hours today). One hall page per fingerprint is kept: storing the next day's replaces
  it. Not stored — rendered per request and kept in memory only: a hall page with an announced
  coming edition or a law-change notice, or answering a scanned old printout.
- **When:** publication (registry.editions.publication.publish) renders the edition it publishes
  inside its transaction; `onetrip seed` renders what it loaded, in processes (`fill`); any page
  still missing (an older registry, another public address, a new day's hall page) is rendered
  on its first request and stored soon after (`remember`, written in batches).
- **Never stale:** a row carries the *stamp* of what rendered it — the templates, the `guides`
  code and the public address. After an upgrade that changes any of them, every stored page is a
  miss and is rendered again on its first request (and overwritten).
- Bodies are stored gzip-compressed (a hall page of 16 KB stores in ≈ 5 KB), the form served as
  is to every client that accepts gzip (every browser): a request neither renders nor compresses.
  With each body, the CSP sources of its inline `<style>` blocks (`Stored`).
- **One read:** a request for a guide this process holds nothing of reads its current edition and
  the stored page in one query (registry.reads.public.CURRENT_STORED_SQL, keys built by
  `key_sql`); with the edition already known, the page alone.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
import zlib
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment

from guides import Guide
from guides.channels import CHANNELS, api_item, code_qr_text, render
from guides.qr import QrCode, draw
from guides.templating import TEMPLATES_DIR, inline_style_hashes, make_environment
from guides.urls import Urls
from registry.db import execute_many, point_read, write_transaction
from registry.inputs import entries_text
from registry.tables import Edition
from registry.vocab import EditionStatus, jinja_globals, local_today, system_now
from registry.workdays import day_facts, default_calendar

log = logging.getLogger(__name__)

BATCH = 200  # guides per chunk handed to a rendering process, and per write transaction
UPSERT_SQL = (
    "INSERT INTO rendered_document (key, stamp, body, styles) VALUES ({}, {}, {}, {})"
    " ON CONFLICT (key) DO UPDATE SET stamp = excluded.stamp, body = excluded.body, styles = excluded.styles"
)
QR_SQL = "INSERT INTO qr_code (text, svg, png) VALUES ({}, {}, {}) ON CONFLICT (text) DO NOTHING"
Progress = Callable[[int, int], None]


def environment(urls: Urls) -> Environment:
    """The Jinja environment of the web app and of every stored rendering (one definition)."""
    env = make_environment()
    env.globals["urls"] = urls
    env.globals.update(jinja_globals())
    env.globals["entries_text"] = entries_text
    return env


@cache
def _shared_environment(public_url: str, map_template: str) -> Environment:
    """One environment per address for publications outside the web app (compiled templates
    are kept by the environment)."""
    return environment(Urls(public_url, map_template=map_template))


_SOURCES = (TEMPLATES_DIR, Path(__file__).resolve().parent.parent / "guides")
_MODULES = ("vocab.py", "inputs.py", "rendered.py")  # registry modules the pages depend on


@cache
def _sources_digest() -> str:
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    files = [p for root in _SOURCES for p in sorted(root.rglob("*")) if p.is_file() and p.suffix != ".pyc"]
    files += [here / name for name in _MODULES]
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def stamp(urls: Urls) -> str:
    """What a stored page depends on besides its snapshot: the code and templates that render it
    and the addresses it links to."""
    return _stamp(urls.public_url, urls.map_template)


@cache
def _stamp(public_url: str, map_template: str) -> str:
    parts = (_sources_digest(), public_url, map_template)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def compress(body: bytes) -> bytes:
    """The stored form of a page: gzip (RFC 1952) at level 6 with no timestamp, so the same page
    always gives the same bytes, served as they are to a client that accepts gzip."""
    return zlib.compress(body, 6, wbits=31)


def decompress(stored: bytes) -> bytes:
    return zlib.decompress(stored, wbits=31)


@dataclass(frozen=True, slots=True)
class Stored:
    """A page as stored and served: its gzip bytes (`compress`) and the Content-Security-Policy
    sources of its inline `<style>` blocks, computed from the page when it was rendered."""

    body: bytes
    styles: tuple[str, ...] = ()

    @classmethod
    def of(cls, page: bytes) -> Stored:
        return cls(compress(page), inline_style_hashes(page))

    @classmethod
    def from_row(cls, body: Any, styles: str | None) -> Stored:
        return cls(bytes(body), tuple((styles or "").split()))


@dataclass(frozen=True, slots=True)
class Fetched:
    """A stored page read along with the item's current edition (registry.reads.public): the
    row found under `key`, if any, whatever its stamp."""

    key: str | None
    stamp: str | None
    stored: Stored | None


def key_sql() -> str:
    """The key of an item's stored page of one kind, in SQL, from its current edition's row
    (`si` service_item, `e` edition) and two parameters, the kind ('hall', 'print', 'api') and
    the day (YYYY-MM-DD): what `hall_key`, `print_key` and `api_key` make (the caller compares)."""
    return (
        "CASE WHEN CAST({} AS TEXT) = 'hall'"
        " THEN 'hall:' || e.fingerprint || ':' || COALESCE(SUBSTR(CAST(si.reviewed_on AS TEXT), 1, 10), '')"
        " || ':' || CAST({} AS TEXT)"
        " ELSE CAST({} AS TEXT) || ':' || e.fingerprint END"
    )


def hall_key(fingerprint: str, reviewed_on: str, day: date) -> str:
    return f"hall:{fingerprint}:{reviewed_on}:{day.isoformat()}"


def print_key(fingerprint: str) -> str:
    return f"print:{fingerprint}"


def api_key(fingerprint: str) -> str:
    return f"api:{fingerprint}"


def hall_storable(*, scheduled: bool, review_flag: str) -> bool:
    """Is the hall page a function of the snapshot, its review date and the day alone?"""
    return not scheduled and not review_flag


def hall_page(
    guide: Guide,
    fingerprint: str,
    urls: Urls,
    env: Environment,
    *,
    announcement: dict | None = None,
    outdated: dict | None = None,
    today_facts: Any = None,
    reviewed_on: str = "",
    review_flag: str = "",
) -> bytes:
    """The online hall page (what the web app serves at /g/{code} and stores)."""
    return render(
        CHANNELS["hall"],
        guide,
        fingerprint,
        urls,
        env,
        announcement=announcement,
        outdated=outdated,
        today_facts=today_facts,
        reviewed_on=reviewed_on,
        review_flag=review_flag,
    )


def print_page(
    guide: Guide, fingerprint: str, urls: Urls, env: Environment, qr: Callable[[str], QrCode]
) -> bytes:
    return render(CHANNELS["print"], guide, fingerprint, urls, env, qr=qr)


def pages(
    guide: Guide,
    fingerprint: str,
    urls: Urls,
    env: Environment,
    qr: Callable[[str], QrCode],
    *,
    reviewed_on: str,
    day: date,
) -> dict[str, bytes]:
    """The stored pages of a just-published guide (no announcement, no law-change flag)."""
    return {
        api_key(fingerprint): api_item(guide, fingerprint),
        print_key(fingerprint): print_page(guide, fingerprint, urls, env, qr),
        hall_key(fingerprint, reviewed_on, day): hall_page(
            guide, fingerprint, urls, env, today_facts=_day_facts(day), reviewed_on=reviewed_on
        ),
    }


def _day_facts(day: date) -> Any:
    return day_facts(default_calendar(), day)


# ---- reading and writing --------------------------------------------------------------------


async def read(key: str, stamp_: str, fetched: Fetched | None = None) -> Stored | None:
    """The stored page, or None when it is not stored or was rendered by other code. `fetched`:
    the row as read with the current edition, when it was (then no query)."""
    if fetched is not None and fetched.key == key:
        return fetched.stored if fetched.stamp == stamp_ else None
    rows = await point_read("SELECT stamp, body, styles FROM rendered_document WHERE key = {}", key)
    if not rows or rows[0]["stamp"] != stamp_:
        return None
    return Stored.from_row(rows[0]["body"], rows[0]["styles"])


async def _write(found: dict[str, Stored], stamp_: str) -> None:
    """Store pages in the current write transaction; a hall page replaces the other hall pages
    of its fingerprint (another day's, another review date's)."""
    for key in found:
        if key.startswith("hall:"):
            fingerprint = key.split(":")[1]
            await Edition.raw(
                "DELETE FROM rendered_document WHERE key >= {} AND key < {} AND key <> {}",
                f"hall:{fingerprint}:",
                f"hall:{fingerprint};",  # ";" follows ":": the range of this fingerprint's keys
                key,
            )
    await execute_many(
        UPSERT_SQL, [(key, stamp_, page.body, " ".join(page.styles)) for key, page in found.items()]
    )


async def store(found: dict[str, bytes], stamp_: str) -> None:
    """Store rendered pages (in the caller's transaction, or one of their own)."""
    async with write_transaction():
        await _write({k: Stored.of(v) for k, v in found.items()}, stamp_)


_LATER: dict[str, tuple[Stored, str]] = {}  # pages rendered by requests, not stored yet
_FLUSHING: list[asyncio.Task] = []
FLUSH_DELAY = 0.2  # seconds: pages rendered meanwhile are stored in the same transaction


def remember(key: str, stored: Stored, stamp_: str) -> None:
    """Store, soon, a page a request had to render: many requests' pages are written in one
    transaction, off the request. A failure only costs a later request a render."""
    _LATER[key] = (stored, stamp_)
    loop = asyncio.get_running_loop()
    if not _FLUSHING or _FLUSHING[0].done() or _FLUSHING[0].get_loop() is not loop:
        _FLUSHING[:] = [loop.create_task(_flush())]


async def _flush() -> None:
    await asyncio.sleep(FLUSH_DELAY)
    while _LATER:
        batch = dict(_LATER)
        _LATER.clear()
        try:
            async with write_transaction():
                for stamp_ in {st for _b, st in batch.values()}:
                    await _write({k: b for k, (b, st) in batch.items() if st == stamp_}, stamp_)
        except Exception:  # a locked or read-only database must not fail anything
            log.warning("could not store %d rendered pages", len(batch), exc_info=True)


async def flushed() -> None:
    """Wait until the pages `remember` was given are stored (tests, shutdown)."""
    for _i in range(500):  # the app may run in another event loop (a test client's): poll
        if not (_FLUSHING and not _FLUSHING[0].done() and not _FLUSHING[0].get_loop().is_closed()):
            return
        await asyncio.sleep(0.01)


async def stored_keys(keys: Sequence[str], stamp_: str) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ", ".join("{}" for _k in chunk)
        rows = await Edition.raw(
            f"SELECT key FROM rendered_document WHERE stamp = {{}} AND key IN ({marks})", stamp_, *chunk
        )
        found.update(r["key"] for r in rows)
    return found


async def for_publication(
    guide: Guide, fingerprint: str, qr: dict[str, QrCode], *, reviewed_on: str, day: date
) -> None:
    """Render a just-published guide's stored pages (off the event loop) and store them in the
    publication's transaction."""
    from registry.qrcodes import publication_urls

    urls = publication_urls()
    env = _shared_environment(urls.public_url, urls.map_template)
    found = await asyncio.to_thread(
        pages, guide, fingerprint, urls, env, qr.__getitem__, reviewed_on=reviewed_on, day=day
    )
    await store(found, stamp(urls))


# ---- filling in bulk, in processes ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Job:
    snapshot: str
    fingerprint: str
    reviewed_on: str
    hall: bool  # render the hall page of `day` (storable and missing)
    print: bool  # render the printout (missing)
    api: bool  # make the API document (missing)
    draw: tuple[str, ...]  # QR texts not stored yet


_WORKER: dict[str, Any] = {}


def _worker_init(public_url: str, map_template: str) -> None:
    urls = Urls(public_url, map_template=map_template)
    _WORKER.update(urls=urls, env=environment(urls))


def _render_jobs(jobs: Sequence[Job], day: date) -> tuple[list[QrCode], dict[str, Stored]]:
    """In a worker process: draw the missing QR codes and render the missing pages."""
    urls, env = _WORKER["urls"], _WORKER["env"]
    facts = _day_facts(day)
    codes: list[QrCode] = []
    found: dict[str, bytes] = {}
    for job in jobs:
        guide = Guide.from_json(job.snapshot)
        drawn = {text: draw(text) for text in job.draw}
        codes.extend(drawn.values())
        if job.print:
            # The printout's code: just drawn, or already stored (drawn again here: a rare case).
            found[print_key(job.fingerprint)] = print_page(
                guide, job.fingerprint, urls, env, lambda text, drawn=drawn: drawn.get(text) or draw(text)
            )
        if job.api:
            found[api_key(job.fingerprint)] = api_item(guide, job.fingerprint)
        if job.hall:
            found[hall_key(job.fingerprint, job.reviewed_on, day)] = hall_page(
                guide, job.fingerprint, urls, env, today_facts=facts, reviewed_on=job.reviewed_on
            )
    return codes, {k: Stored.of(v) for k, v in found.items()}


CURRENT_CHUNK_SQL = """
SELECT si.id AS id, si.code AS code, e.version AS version, e.snapshot AS snapshot,
       e.fingerprint AS fingerprint, si.reviewed_on AS reviewed_on, si.review_flag AS review_flag,
       (SELECT COUNT(*) FROM edition s WHERE s.item = si.id AND s.status = 'scheduled') AS scheduled
FROM service_item si JOIN edition e ON e.id = si.current_edition
WHERE si.id > {} AND si.withdrawn = {} AND e.snapshot IS NOT NULL
ORDER BY si.id
LIMIT {}
"""


async def _jobs(rows: Sequence[dict[str, Any]], urls: Urls, stamp_: str, day: date) -> list[Job]:
    """What is missing for these current guides: pages with this stamp, QR codes."""
    from registry import qrcodes

    wanted = []
    for r in rows:
        reviewed_on = str(r["reviewed_on"] or "")[:10]
        hall = hall_storable(scheduled=bool(r["scheduled"]), review_flag=r["review_flag"] or "")
        texts = (code_qr_text(r["code"], urls), urls.guide_printed(r["code"], r["version"]))
        wanted.append((r, reviewed_on, hall, texts))
    keys = [key(r["fingerprint"]) for r, *_rest in wanted for key in (print_key, api_key)]
    keys += [hall_key(r["fingerprint"], on, day) for r, on, hall, _t in wanted if hall]
    have = await stored_keys(keys, stamp_)
    drawn = set(await qrcodes.stored([t for *_rest, texts in wanted for t in texts]))
    jobs = []
    for r, reviewed_on, hall, texts in wanted:
        job = Job(
            snapshot=r["snapshot"],
            fingerprint=r["fingerprint"],
            reviewed_on=reviewed_on,
            hall=hall and hall_key(r["fingerprint"], reviewed_on, day) not in have,
            print=print_key(r["fingerprint"]) not in have,
            api=api_key(r["fingerprint"]) not in have,
            draw=tuple(t for t in dict.fromkeys(texts) if t not in drawn),
        )
        if job.hall or job.print or job.api or job.draw:
            jobs.append(job)
    return jobs


async def fill(
    urls: Urls,
    *,
    processes: int | None = None,
    progress: Progress | None = None,
    batch: int = BATCH,
    day: date | None = None,
) -> int:
    """Render and store every current guide's pages (the hall page of `day`, default today) and
    QR codes that are not stored yet with this stamp, in `processes` processes while this one
    reads and writes. Returns how many guides needed work. Idempotent: a second run finds
    nothing to do."""
    from registry.tables import ServiceItem

    day = day or local_today(system_now())
    stamp_ = stamp(urls)
    (row,) = await ServiceItem.raw(
        "SELECT COUNT(*) AS n FROM service_item WHERE current_edition IS NOT NULL AND withdrawn = {}", False
    )
    total, done, worked, after = row["n"], 0, 0, 0
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Future] = set()
    workers = processes or os.cpu_count() or 1

    async def write(future: Awaitable[tuple[list[QrCode], dict[str, Stored]]]) -> None:
        codes, found = await future
        async with write_transaction():
            await execute_many(QR_SQL, [(c.text, c.svg, c.png) for c in codes])
            await _write(found, stamp_)

    # spawn, as everywhere else: a forked child would inherit the event loop and the state of
    # the database threads (a lock held mid-fork never comes free in the child).
    with ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_init,
        initargs=(urls.public_url, urls.map_template),
    ) as pool:
        while True:
            rows = await ServiceItem.raw(CURRENT_CHUNK_SQL, after, False, batch)
            if not rows:
                break
            after = rows[-1]["id"]
            jobs = await _jobs(rows, urls, stamp_, day)
            worked += len(jobs)
            if jobs:
                pending.add(loop.run_in_executor(pool, _render_jobs, jobs, day))
            while len(pending) > 2 * workers:  # bounded memory
                finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for future in finished:
                    await write(future)
            done += len(rows)
            if progress is not None:
                progress(done, total)
        for future in asyncio.as_completed(pending):
            await write(future)
    await prune()
    return worked


async def prune() -> int:
    """Delete the stored pages of snapshots no longer published or announced (superseded
    editions, withdrawn items): what `fill` leaves behind after a bulk update. Returns how many."""
    live = {
        r["fingerprint"]
        for r in await Edition.raw(
            "SELECT fingerprint FROM edition WHERE status IN ({}, {}) AND fingerprint IS NOT NULL",
            EditionStatus.published.value,
            EditionStatus.scheduled.value,
        )
    }
    dead = [
        r["key"]
        for r in await Edition.raw("SELECT key FROM rendered_document")
        if r["key"].split(":")[1] not in live
    ]
    for start in range(0, len(dead), 500):
        chunk = dead[start : start + 500]
        async with write_transaction():
            await Edition.raw(
                f"DELETE FROM rendered_document WHERE key IN ({', '.join('{}' for _k in chunk)})", *chunk
            )
    return len(dead)
