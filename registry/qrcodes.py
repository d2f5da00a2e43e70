"""QR codes drawn once and stored (issue 14).

A QR code's bytes depend only on the text it encodes, and drawing one costs ≈ 40 ms of pure
Python (SVG and PNG). So each text is drawn once and its bytes kept in the `qr_code` table, keyed
by the text itself: an item's stable address `{public URL}/g/{code}` and a printout's versioned
address `…?v=N`. Keying by the text means a different public URL can never serve a stale code:
it is simply another text.

- Publication (registry.editions.publication.publish) draws the codes of the edition it
  publishes, in a worker thread, and stores them in the same transaction.
- Loading seeds in bulk does not draw (100 000 items would take over an hour): those codes, an
  existing registry's, and any drawn for another public URL are drawn on their first read and
  stored then (`ensure`), never again.
- Serving (registry.web.channels) and the static export (registry.exporting) only read.

The notice's QR code encodes a citizen's answers: it is drawn on demand (and cached in memory
by guides.qr), not stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from guides.channels import qr_texts
from guides.qr import QrCode, draw
from guides.snapshot import Guide
from guides.urls import Urls
from registry.db import point_read, write_transaction
from registry.settings import Settings
from registry.tables import Edition

CHUNK = 500  # texts per SELECT … IN (…)
INSERT_SQL = "INSERT INTO qr_code (text, svg, png) VALUES ({}, {}, {}) ON CONFLICT (text) DO NOTHING"


def publication_urls() -> Urls:
    """The URLs a publication's QR codes encode: the public URL from the environment (what
    `onetrip serve` also uses; read when asked, never at import time)."""
    settings = Settings.from_env()
    return Urls(settings.base_url, map_template=settings.map_url)


async def stored(texts: Iterable[str]) -> dict[str, QrCode]:
    """The stored codes of `texts` (those not stored yet are left out)."""
    wanted = list(dict.fromkeys(texts))
    found: dict[str, QrCode] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        marks = ", ".join("{}" for _t in chunk)
        sql = f"SELECT text, svg, png FROM qr_code WHERE text IN ({marks})"
        # A page's one or two codes: a point read; an export's hundreds: a reader thread's.
        for row in await (point_read(sql, *chunk) if len(chunk) <= 2 else Edition.raw(sql, *chunk)):
            found[row["text"]] = QrCode(row["text"], bytes(row["svg"]), bytes(row["png"]))
    return found


async def ensure(texts: Iterable[str]) -> dict[str, QrCode]:
    """The codes of `texts`: read when stored; otherwise drawn (in a worker thread, off the event
    loop), stored, and returned. Concurrent callers may both draw a text; the first insert wins
    and the bytes are identical anyway."""
    wanted = list(dict.fromkeys(texts))
    found = await stored(wanted)
    missing = [t for t in wanted if t not in found]
    if missing:
        drawn = await asyncio.to_thread(lambda: [draw(t) for t in missing])
        async with write_transaction():
            for code in drawn:
                await Edition.raw(INSERT_SQL, code.text, code.svg, code.png)
        found.update((code.text, code) for code in drawn)
    return found


async def ensure_for(guide: Guide, urls: Urls | None = None) -> dict[str, QrCode]:
    """Every QR code a guide's channels show (stable and printed address), stored."""
    return await ensure(qr_texts(guide, urls or publication_urls()))


async def count() -> int:
    (row,) = await Edition.raw("SELECT COUNT(*) AS n FROM qr_code")
    return row["n"]


def _draw_many(texts: list[str]) -> list[QrCode]:
    return [draw(t) for t in texts]


async def fill(urls: Urls | None = None, *, processes: int | None = None, batch: int = 200) -> int:
    """Draw and store every current guide's QR codes not stored yet, in `processes` processes:
    what a registry loaded in bulk (or moved to another public URL) can run once, instead of
    drawing each code on its first request. Returns how many were drawn."""
    from concurrent.futures import ProcessPoolExecutor

    urls = urls or publication_urls()
    rows = await Edition.raw(
        "SELECT e.snapshot AS snapshot FROM service_item si JOIN edition e ON e.id = si.current_edition"
        " WHERE e.snapshot IS NOT NULL"
    )
    texts = [t for r in rows for t in qr_texts(Guide.from_json(r["snapshot"]), urls)]
    have = set(await stored(texts))
    missing = [t for t in dict.fromkeys(texts) if t not in have]
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(processes) as pool:
        chunks = [missing[i : i + batch] for i in range(0, len(missing), batch)]
        for drawn in asyncio.as_completed([loop.run_in_executor(pool, _draw_many, c) for c in chunks]):
            codes = await drawn
            async with write_transaction():
                for code in codes:
                    await Edition.raw(INSERT_SQL, code.text, code.svg, code.png)
    return len(missing)
