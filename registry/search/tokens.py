"""Words for the search index and for queries: jieba segmentation, pinyin, character grams.

The index stores words computed here, separated by spaces, and each engine's own tokenizer
(FTS5 `unicode61`, PostgreSQL `to_tsvector('simple', …)`) only splits them at the spaces. So
both engines see the same words, and a query is made of the same words.

- `words(text)`: jieba's search mode (`居民身份证` → 居民 身份 身份证 居民身份证), lower case,
  punctuation dropped. Two-character words (户口, 社保, 医保) are words like any other.
- `pinyin_words(text)`: for names, full pinyin and initials from each character to the end of
  the name, so `jiehun`, `jhdj`, `dengji` and `gsdj` find 结婚登记 and 公司登记 typed as a prefix.
- `grams(text)`: a name's characters and character pairs, for tolerating a wrong or missing
  character.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
WORD = re.compile(r"[^\W_]+")  # letters and digits of any script; no punctuation, no "_"
ASCII_WORD = re.compile(r"[a-z0-9]+")

_lock = threading.Lock()
_ready = False


def _jieba():
    """jieba, with its dictionary loaded once per process (≈ 1–2 s the first time)."""
    global _ready
    import jieba

    if not _ready:
        with _lock:
            if not _ready:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _ready = True
    return jieba


def warm_up() -> None:
    """Load the dictionaries now (the app calls this at startup, off the event loop)."""
    _jieba()
    pinyin_of("乌鲁木齐")


def clean(word: str) -> str:
    """A token as both engines keep it: letters and digits only, lower case."""
    return "".join(WORD.findall(word.lower()))


def has_han(text: str) -> bool:
    return HAN.search(text) is not None


@lru_cache(maxsize=65_536)
def _search_words(text: str) -> tuple[str, ...]:
    return tuple(w for w in (clean(t) for t in _jieba().lcut_for_search(text)) if w)


@lru_cache(maxsize=65_536)
def cut(text: str) -> tuple[str, ...]:
    """jieba's precise mode: the words a query is made of."""
    return tuple(w for w in (clean(t) for t in _jieba().lcut(text)) if w)


def words(text: str) -> list[str]:
    """The index words of a text, in order, duplicates kept (bm25 counts them)."""
    out: list[str] = []
    for line in text.splitlines():
        if line.strip():
            out.extend(_search_words(line))
    return out


@lru_cache(maxsize=65_536)
def pinyin_of(word: str) -> tuple[str, str]:
    """(full pinyin, initials) of a word: 结婚 → ("jiehun", "jh"); ASCII stays as it is."""
    from pypinyin import Style, lazy_pinyin

    if not has_han(word):
        return word, word
    syllables = [s for s in (clean(p) for p in lazy_pinyin(word, style=Style.NORMAL, errors="ignore")) if s]
    return "".join(syllables), "".join(s[0] for s in syllables)


def pinyin_words(text: str) -> list[str]:
    """Full pinyin and initials of a name from each of its characters to the end: a query typed
    as a prefix of one of them (`jiehun`, `jhdj`, `dengji`) finds the name, since every word and
    run of words is such a prefix — two tokens per character, whatever the name's length."""
    out: list[str] = []
    for line in text.splitlines():
        out.extend(_pinyin_suffixes("".join(HAN.findall(line))))
    return list(dict.fromkeys(out))


@lru_cache(maxsize=65_536)
def _pinyin_suffixes(han: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin

    if not han:
        return ()
    syllables = [clean(p) for p in lazy_pinyin(han, style=Style.NORMAL, errors="ignore")]
    out = []
    for i in range(len(syllables)):
        out.append("".join(syllables[i:]))
        out.append("".join(s[:1] for s in syllables[i:]))
    return tuple(out)


def grams(text: str) -> list[str]:
    """Characters and character pairs of the Chinese runs of a text."""
    out: list[str] = []
    for run in re.findall(r"[\u3400-\u9fff\uf900-\ufaff]+", text):
        out.extend(run)
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return list(dict.fromkeys(out))


def joined(tokens: list[str]) -> str:
    return " ".join(tokens)
