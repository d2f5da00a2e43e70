"""The public side of life events: every published bundle merged with its items' current guides.

There are few bundles (dozens, not thousands), so all of them are loaded and merged at once and
cached per change-log head (`PublicReads.memo`): any publication — of a bundle or of one of its
items — moves the head, and the next request merges again.
"""

from __future__ import annotations

import re

from guides.events import EventGuide, MergedEvent, merge
from registry.events import store
from registry.reads.public import PublicReads
from registry.tables import LifeEvent, LifeEventEdition

MEMO_KEY = "life-events"


async def published_events() -> dict[str, MergedEvent]:
    """code -> merged guide of every published, not withdrawn bundle, in code order."""
    rows = (
        await LifeEventEdition.select(LifeEventEdition.snapshot)
        .where(
            (LifeEventEdition.id == LifeEventEdition.event.current_edition)
            & (LifeEventEdition.event.withdrawn == False)  # noqa: E712
        )
        .order_by(LifeEventEdition.event.id)
    )
    events = [EventGuide.from_json(r["snapshot"]) for r in rows if r["snapshot"]]
    guides = await store.current_guides(sorted({c for e in events for c in e.content.items}))
    return {e.code: merge(e, guides) for e in events}


async def cached(public: PublicReads) -> dict[str, MergedEvent]:
    """`published_events()` once per change-log head in this process."""
    return await public.memo(MEMO_KEY, published_events)


async def event_exists(code: str) -> bool:
    return await LifeEvent.exists().where(LifeEvent.code == code)


_SPACE = re.compile(r"\s+")


def matching(events: dict[str, MergedEvent], query: str, *, limit: int = 5) -> list[MergedEvent]:
    """Bundles whose name or keywords match the query (either contains the other), best first:
    a simple match is enough for a few dozen bundles, and the item search stays untouched."""
    q = _SPACE.sub("", query or "").lower()
    if not q:
        return []
    scored = []
    for event in events.values():
        content = event.content
        score = 0
        if q == content.name.lower():
            score = 4
        elif q in content.name.lower() or content.name.lower() in q:
            score = 3
        elif any(q in k.lower() or (len(k) >= 2 and k.lower() in q) for k in content.keywords):
            score = 2
        elif any(q in item.name.lower() for item in event.items) and len(q) >= 2:
            score = 1
        if score:
            scored.append((-score, content.name, event))
    return [e for _s, _n, e in sorted(scored, key=lambda t: (t[0], t[1]))][:limit]
