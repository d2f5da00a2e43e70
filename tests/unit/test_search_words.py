"""Words, plans and highlighting of the search, without a database."""

from __future__ import annotations

import pytest

from registry.search import tokens
from registry.search.query import edit_distance_within, fts5, highlight, plan, tsquery
from registry.search.vocabulary import Vocabulary, normalize, split_means

VOCAB = Vocabulary.build({"驾照": ("机动车驾驶证",), "开个体户": ("个体工商户设立登记",)}, ("怎么", "办理"))


def test_two_character_words_are_words():
    for word in ("户口", "社保", "医保"):
        assert word in tokens.words(f"办理{word}相关业务")
    assert {"身份证", "居民身份证"} <= set(tokens.words("居民身份证换领"))


def test_pinyin_full_and_initials_from_every_word():
    words = tokens.pinyin_words("结婚登记（内地居民）")
    assert "jiehundengjineidijumin" in words and "jhdjndjm" in words
    assert any(w.startswith("dengji") for w in words)
    assert tokens.pinyin_of("结婚") == ("jiehun", "jh")


def test_grams_are_characters_and_pairs():
    assert tokens.grams("结婚登记") == ["结", "婚", "登", "记", "结婚", "婚登", "登记"]


def test_a_plan_uses_synonyms_and_drops_filler_words():
    p = plan("怎么换驾照", VOCAB)
    assert p.meanings == ["机动车驾驶证"]
    assert "怎么" not in fts5(p.exact)
    assert '"机动车"' in fts5(p.exact) and '"驾驶证"' in fts5(p.exact)
    assert plan("jiazhao", VOCAB).meanings == ["机动车驾驶证"]  # a term's pinyin works too
    assert plan("ＧＳＤＪ", VOCAB).exact == ("prefix", "gsdj")  # full-width letters, upper case


def test_query_rendering_quotes_every_word():
    node = ("or", (("and", (("word", "身份证"), ("prefix", "sfz"))), ("word", "驾照")))
    assert fts5(node) == '(("身份证" AND "sfz"*) OR "驾照")'
    assert tsquery(node) == "(('身份证' & 'sfz':*) | '驾照')"
    for text in ('"); DROP TABLE x; --', "a' | b", "*:&!()"):
        p = plan(text, VOCAB)
        rendered = fts5(p.exact) + tsquery(p.exact) if p.exact else ""
        assert ";" not in rendered and "!" not in rendered and "'|" not in rendered


def test_code_queries():
    assert plan("650100-sgaj-001", VOCAB).code == "650100-SGAJ-001"
    assert plan("身份证", VOCAB).code is None


@pytest.mark.parametrize(
    ("query", "name", "distance"),
    [
        ("结婚登记", "结婚登记（内地居民）", 0),
        ("结昏登记", "内地居民结婚登记", 1),
        ("居民身证换领", "居民身份证换领", 1),
    ],
)
def test_edit_distance_to_part_of_a_name(query, name, distance):
    assert edit_distance_within(query, name) == distance


def test_highlighting_escapes_first():
    html = str(highlight('<b>身份证</b> & "amp"', ["身份证", "amp", "<b>"]))
    assert "<b>" not in html and "&lt;" in html
    assert "身份证</mark>" in html
    assert "&amp;" in html and "&<mark>" not in html
    assert str(highlight("a<script>", ["script"])) == "a&lt;<mark>script</mark>&gt;"


def test_normalize_and_split():
    assert normalize("  ＡＢ  身份证 ") == "ab 身份证"
    assert split_means("居民身份证｜户口簿、驾驶证") == ("居民身份证", "户口簿", "驾驶证")
