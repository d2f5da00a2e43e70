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

import hashlib
import logging
import os
import re
import subprocess
import sys
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
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


# ---- jieba's dictionary in a trie, for served processes ---------------------------------------
#
# jieba keeps its word frequencies in a dict of ≈ 500 000 words and word prefixes: 62 MB of a
# served process's ≈ 200 MB at startup, for segmenting queries and single publications. A marisa
# trie holds the same words and frequencies in ≈ 2 MB. Segmentation is the same (jieba only asks
# `word in FREQ`, `FREQ[word]` and `FREQ.get(word)`), ≈ 2.7× slower per character: nothing for a
# query, too slow for loading 100 000 items, so bulk work (seeding, reindexing) keeps the dict.


class TrieFrequencies:
    """jieba's `Tokenizer.FREQ` (word → frequency, 0 for a prefix that is no word), read-only."""

    __slots__ = ("_trie",)

    def __init__(self, trie: Any) -> None:
        self._trie = trie

    def __contains__(self, word: object) -> bool:
        return word in self._trie

    def __getitem__(self, word: str) -> int:
        return self._trie[word][0][0]

    def get(self, word: str, default: int | None = None) -> int | None:
        found = self._trie.get(word)
        return found[0][0] if found else default

    def __len__(self) -> int:
        return len(self._trie)


TRIE_FORMAT = "<I"  # one unsigned 32-bit frequency per word (jieba's total is 60 101 967)


def trie_path(folder: Path) -> Path:
    """Where the trie of this jieba version's dictionary is kept (built once per installation)."""
    import jieba

    dictionary = Path(jieba.__file__).with_name("dict.txt")
    digest = hashlib.sha256(dictionary.read_bytes()).hexdigest()[:12]
    return folder / f"jieba-{jieba.__version__}-{digest}.marisa"


def build_trie(path: Path) -> None:
    """Write the trie of jieba's word frequencies to `path` (atomically), its total beside it.
    Run in its own process (`python -m registry.search.tokens PATH`): the served process never
    holds the dict."""
    import marisa_trie

    tokenizer = _jieba().dt
    trie = marisa_trie.RecordTrie(TRIE_FORMAT, ((w, (f,)) for w, f in tokenizer.FREQ.items()))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    trie.save(str(partial))
    partial.with_suffix(".total").write_text(str(tokenizer.total))
    partial.with_suffix(".total").replace(path.with_suffix(".total"))
    partial.replace(path)


def warm_up_compact(folder: Path) -> None:
    """As `warm_up`, with jieba's frequencies in a trie kept in `folder` (built there, in a
    child process, the first time): what `onetrip serve` calls."""
    global _ready
    import jieba
    import marisa_trie

    path = trie_path(folder)
    if not path.exists():
        built = subprocess.run([sys.executable, "-m", "registry.search.tokens", str(path)], check=False)
        if built.returncode != 0 or not path.exists():  # a read-only state dir, say: the dict
            log.warning("could not build jieba's trie in %s; keeping its dictionary in memory", folder)
            warm_up()
            return
    with _lock:
        if not _ready:
            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.dt
            trie = marisa_trie.RecordTrie(TRIE_FORMAT).load(str(path))
            tokenizer.FREQ = TrieFrequencies(trie)
            tokenizer.total = int(path.with_suffix(".total").read_text())
            tokenizer.initialized = True  # jieba.initialize() would load the dict
            _ready = True
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


if __name__ == "__main__":  # `python -m registry.search.tokens PATH`: build_trie in its own process
    build_trie(Path(sys.argv[1]))
