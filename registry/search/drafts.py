"""Staff search over what the public does not see yet: editions in the works (draft, in review,
approved and held). The search index holds only current guides (what citizens can find), so
staff search looks at the open editions here: there are few of them at any time (an item has
at most one), so they are read and matched in Python, on the same words a query is planned
into, and on the item code."""

from __future__ import annotations

from dataclasses import dataclass

from registry.access import Actor
from registry.search import tokens
from registry.search.names import han
from registry.search.vocabulary import Vocabulary, normalize
from registry.tables import Edition
from registry.vocab import OPEN_STATUSES

LIMIT = 50


@dataclass(frozen=True, slots=True)
class OpenEdition:
    code: str
    name: str
    status: str
    version: int
    department_name: str
    published: bool  # the item has a current guide (this edition would replace it)


def matches(q: str, name: str, code: str, vocabulary: Vocabulary) -> bool:
    """Does a staff query find this edition: its words (filler words dropped) all in the name,
    a colloquial term's meaning in the name, or part of the code?"""
    text = normalize(q)
    if not text:
        return False
    lowered = name.lower()
    if text.replace(" ", "") in code.lower() or text in lowered:
        return True
    stripped = text
    for word in vocabulary.ignore:
        if word in stripped and stripped.replace(word, " ").strip():
            stripped = stripped.replace(word, " ")
    words = [w for part in stripped.split() for w in tokens.cut(part)]
    if words and all(w in lowered for w in words):
        return True
    meanings = vocabulary.synonyms.get(text, ())
    if any(han(m) and han(m) in han(name) for m in meanings):
        return True
    initials = "".join(tokens.pinyin_of(w)[1] for w in tokens.cut(name))
    return text.isascii() and text.isalpha() and len(text) >= 2 and text in initials


async def open_editions(
    q: str, actor: Actor, vocabulary: Vocabulary, limit: int = LIMIT
) -> list[OpenEdition]:
    """The editions in the works that `q` finds and `actor` may see (reviewers and admins: all;
    editors: their departments'), by code."""
    query = Edition.select(
        Edition.name,
        Edition.status,
        Edition.version,
        Edition.item.code,
        Edition.item.current_edition,
        Edition.item.department.code,
        Edition.item.department.short_name,
    ).where(Edition.status.is_in([s.value for s in OPEN_STATUSES]))
    if not actor.can_review:
        query = query.where(Edition.item.department.code.is_in(sorted(actor.departments) or ["-"]))
    found = [
        OpenEdition(
            code=r["item.code"],
            name=r["name"],
            status=r["status"],
            version=r["version"],
            department_name=r["item.department.short_name"],
            published=r["item.current_edition"] is not None,
        )
        for r in await query
        if matches(q, r["name"], r["item.code"], vocabulary)
    ]
    return sorted(found, key=lambda e: e.code)[:limit]
