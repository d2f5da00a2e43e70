"""Queries that found nothing: the text, how often, when last. No personal data."""

from __future__ import annotations

from datetime import datetime

from registry.search.vocabulary import normalize
from registry.tables import SearchMiss

UPSERT = (
    "INSERT INTO search_miss (query, hits, last_seen) VALUES ({}, 1, {}) "
    "ON CONFLICT (query) DO UPDATE SET hits = search_miss.hits + 1, last_seen = excluded.last_seen"
)


async def record(query: str, now: datetime) -> None:
    """Count one search for `query` that found nothing (one atomic statement: no lost counts)."""
    text = normalize(query)[:100]
    if text:
        await SearchMiss.raw(UPSERT, text, now)


async def top(limit: int = 200) -> list[dict]:
    return await SearchMiss.select().order_by(SearchMiss.hits, ascending=False).limit(limit)


async def forget(query: str) -> None:
    await SearchMiss.delete().where(SearchMiss.query == normalize(query))
