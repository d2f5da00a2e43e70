"""The names a typo can mean: the distinct names of the indexed items, held in memory and built
once per change-log head (registry.web.search memoizes `load()` on PublicReads, which drops it
when anything is published, withdrawn or switched), so a query with a wrong or missing
character is answered without scanning the index.

A registry of 100 000 items has few distinct names (every district implements the same items:
about 1 200 in the generated registry), and a name with one edit still contains an unchanged
half of the query (pigeonhole: one edit falls in one half). So `close(query)` finds where each
half occurs in one string of all the names (`str.find`, in C), and checks only those names with
one compiled pattern of every one-edit variant of the query.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache

from registry.search import tokens
from registry.tables import SearchEntry

MAX_NAMES = 50  # the names a typo may stand for, closest first


def han(text: str) -> str:
    """A name as typos are checked on: its Chinese characters only."""
    return "".join(tokens.HAN.findall(text))


@lru_cache(maxsize=4096)
def _variants(query: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(the query itself, the query with one character replaced, added or dropped) as patterns
    within one line."""
    q = [re.escape(c) for c in query]
    alternatives = set()
    for i in range(len(q)):
        alternatives.add("".join(q[:i] + q[i + 1 :]))  # a character too many in the query
        alternatives.add("".join([*q[:i], "[^\n]", *q[i + 1 :]]))  # a wrong character
    for i in range(len(q) + 1):
        alternatives.add("".join([*q[:i], "[^\n]", *q[i:]]))  # a missing character
    ordered = sorted(alternatives, key=len, reverse=True)
    return re.compile(re.escape(query)), re.compile("|".join(ordered))


@dataclass(frozen=True, slots=True)
class NameIndex:
    """Distinct names: `keys[i]` (Chinese characters only) stands for the names `names[i]`."""

    keys: tuple[str, ...]
    names: tuple[tuple[str, ...], ...]
    joined: str  # the keys, one a line
    starts: tuple[int, ...]  # where each key starts in `joined`

    @classmethod
    def build(cls, names: list[str]) -> NameIndex:
        grouped: dict[str, list[str]] = {}
        for name in names:
            key = han(name)
            if key:
                grouped.setdefault(key, []).append(name)
        keys = tuple(sorted(grouped))
        starts, position = [], 0
        for key in keys:
            starts.append(position)
            position += len(key) + 1
        return cls(keys, tuple(tuple(sorted(set(grouped[k]))) for k in keys), "\n".join(keys), tuple(starts))

    def _containing(self, part: str) -> set[int]:
        """The keys `part` occurs in."""
        found: set[int] = set()
        at = self.joined.find(part)
        while at != -1:
            i = bisect.bisect_right(self.starts, at) - 1
            found.add(i)
            # go on after this key's line: one hit per key is enough
            end = self.joined.find("\n", at)
            if end == -1:
                break
            at = self.joined.find(part, end + 1)
        return found

    def close(self, query: str, limit: int = MAX_NAMES) -> list[str]:
        """The names at most one character edit from containing `query` (Chinese characters of
        three or more), closest first: containing it as typed, then by how much longer the name
        is (the whole name mistyped before a longer name that contains it)."""
        query = han(query)
        if len(query) < 3:
            return []
        middle = len(query) // 2
        candidates = self._containing(query[:middle]) | self._containing(query[middle:])
        exact, edited = _variants(query)
        ranked = []
        for i in candidates:
            key = self.keys[i]
            if exact.search(key):
                ranked.append((0, len(key) - len(query), key, i))
            elif edited.search(key):
                ranked.append((1, abs(len(key) - len(query)), key, i))
        ranked.sort()
        return [name for *_rest, i in ranked[:limit] for name in self.names[i]]


async def load() -> NameIndex:
    """The names of every indexed item, now."""
    rows = await SearchEntry.raw("SELECT DISTINCT name FROM search_entry")
    return NameIndex.build([r["name"] for r in rows])
