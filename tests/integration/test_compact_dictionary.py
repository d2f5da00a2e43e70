"""A served process keeps jieba's word frequencies in a marisa trie (registry.search.tokens):
2 MB instead of a 62 MB dict. The index is written by processes that keep the dict (seeding,
publication in tests), and queries are cut by the served process: both must give the same
words, or a query would miss what the index holds.

Each side runs in a process of its own: the dictionary is jieba's module state.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib

from registry.settings import PROJECT_ROOT

SCRIPT = """
import json, sys
from pathlib import Path
from registry.search import tokens

if sys.argv[1] == "trie":
    tokens.warm_up_compact(Path(sys.argv[2]))
    import jieba
    assert isinstance(jieba.dt.FREQ, tokens.TrieFrequencies), type(jieba.dt.FREQ)
else:
    tokens.warm_up()
texts = json.loads(Path(sys.argv[3]).read_text(encoding="utf-8"))
print(json.dumps([[tokens.words(t), list(tokens.cut(t))] for t in texts], ensure_ascii=False))
"""


def seed_texts() -> list[str]:
    """Every string of the real seeded items (names, conditions, materials, steps, FAQ …)."""
    texts: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for path in sorted((PROJECT_ROOT / "seeds" / "items").glob("*.toml")):
        walk(tomllib.loads(path.read_text(encoding="utf-8")))
    return texts


def segmented(kind: str, folder, texts_file) -> list:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, kind, str(folder), str(texts_file)],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_trie_segments_every_seeded_text_as_the_dict_does(tmp_path):
    texts = seed_texts()
    assert len(texts) > 5000
    texts_file = tmp_path / "texts.json"
    texts_file.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    with_dict = segmented("dict", tmp_path, texts_file)
    with_trie = segmented("trie", tmp_path / "state", texts_file)  # builds the trie there first
    assert list((tmp_path / "state").glob("jieba-*.marisa"))
    assert with_trie == with_dict
    # … and a second process loads the trie it finds (no rebuild, same words).
    built = next((tmp_path / "state").glob("jieba-*.marisa")).stat().st_mtime_ns
    assert segmented("trie", tmp_path / "state", texts_file) == with_dict
    assert next((tmp_path / "state").glob("jieba-*.marisa")).stat().st_mtime_ns == built
