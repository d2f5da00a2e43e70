"""Words, plans and highlighting of the search, without a database."""

from __future__ import annotations

import pytest

from registry.search import tokens
from registry.search.names import NameIndex
from registry.search.query import fts5, highlight, plan, tsquery
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


NAMES = NameIndex.build(
    [
        "结婚登记（内地居民）",
        "内地居民结婚登记",
        "居民身份证换领",
        "居民身份证换领",  # a second item of the same name
        "居住证申领",
        "离婚登记",
        "公司登记",
    ]
)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("结昏登记", {"结婚登记（内地居民）", "内地居民结婚登记"}),  # a wrong character
        ("居民身证换领", {"居民身份证换领"}),  # a missing character
        ("居民身份份证换领", {"居民身份证换领"}),  # a character too many
        ("居住正申领", {"居住证申领"}),
        ("结婚登", {"结婚登记（内地居民）", "内地居民结婚登记", "离婚登记"}),  # 离婚登: one edit
        ("居X证", set()),  # not Chinese: too short once dropped
        ("身份登记", set()),  # two edits from anything
    ],
)
def test_names_one_edit_away(typed, expected):
    assert set(NAMES.close(typed)) == expected


def test_names_closest_first():
    index = NameIndex.build(["婚姻登记", "结婚登记", "结婚登记补发证明"])
    # contained as typed, shortest first, before names one edit away
    assert index.close("结婚登记") == ["结婚登记", "结婚登记补发证明"]
    assert index.close("结昏登记") == ["结婚登记", "结婚登记补发证明"]
    assert index.close("婚姻登") == ["婚姻登记", "结婚登记", "结婚登记补发证明"]  # 婚登 is one edit
    assert index.close("离昏登记") == []


def test_names_scale_by_distinct_names():
    index = NameIndex.build([f"居民身份证换领{i % 3}" for i in range(3000)])
    assert len(index.keys) == 1  # Chinese characters only: the digits are not part of the key
    assert len(index.close("居民身证换领")) == 3  # …but every name it stands for is returned


def test_highlighting_escapes_first():
    html = str(highlight('<b>身份证</b> & "amp"', ["身份证", "amp", "<b>"]))
    assert "<b>" not in html and "&lt;" in html
    assert "身份证</mark>" in html
    assert "&amp;" in html and "&<mark>" not in html
    assert str(highlight("a<script>", ["script"])) == "a&lt;<mark>script</mark>&gt;"


def test_normalize_and_split():
    assert normalize("  ＡＢ  身份证 ") == "ab 身份证"
    assert split_means("居民身份证｜户口簿、驾驶证") == ("居民身份证", "户口簿", "驾驶证")
