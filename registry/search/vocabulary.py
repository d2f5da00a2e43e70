"""Synonyms, colloquial terms and filler words (data: seeds/synonyms.toml, then admins), and the
topics to browse by (seeds/topics.toml). Loaded from the database once per change-log head."""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from msgspec import Struct

from guides.i18n import _
from guides.snapshot import F
from registry.db import after_commit
from registry.errors import FieldError, ValidationError
from registry.inputs import read
from registry.reads.public import invalidate
from registry.search import tokens
from registry.tables import SearchSynonym, SearchTopic

SEPARATORS = ("|", "｜", "、", ",", "，", ";", "；")

Term = Annotated[str, F("用语", min_length=1, max_length=100)]


class SynonymEntry(Struct, frozen=True, forbid_unknown_fields=True):
    """One `[[synonym]]` of seeds/synonyms.toml: what people type, and what it means."""

    terms: Annotated[tuple[Term, ...], F("群众说法", min_length=1, max_length=50)]
    means: Annotated[tuple[Term, ...], F("对应事项用语", min_length=1, max_length=10)]


class SynonymFile(Struct, frozen=True, forbid_unknown_fields=True):
    ignore: Annotated[tuple[Term, ...], F("可忽略的词", max_length=500)] = ()
    synonym: Annotated[tuple[SynonymEntry, ...], F("同义词", max_length=5000)] = ()


class TopicEntry(Struct, frozen=True, forbid_unknown_fields=True):
    code: Annotated[str, F("编码", min_length=1, max_length=32)]
    name: Annotated[str, F("名称", min_length=1, max_length=100)]
    terms: Annotated[tuple[Term, ...], F("事项名称包含", min_length=1, max_length=50)]


class TopicFile(Struct, frozen=True, forbid_unknown_fields=True):
    topic: Annotated[tuple[TopicEntry, ...], F("主题", max_length=200)] = ()


class SynonymForm(Struct, frozen=True, forbid_unknown_fields=True):
    """An admin's edit on the synonyms page."""

    term: Term
    means: Annotated[str, F("对应事项用语", max_length=1000)] = ""
    kind: Literal["synonym", "ignore"] = "synonym"


def normalize(text: str) -> str:
    """One form of what people type: full-width letters and digits as ASCII, lower case, single
    spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def split_means(text: str) -> tuple[str, ...]:
    for sep in SEPARATORS[1:]:
        text = text.replace(sep, SEPARATORS[0])
    return tuple(dict.fromkeys(normalize(m) for m in text.split(SEPARATORS[0]) if m.strip()))


@dataclass(frozen=True)
class Topic:
    code: str
    name: str
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Vocabulary:
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()
    topics: tuple[Topic, ...] = ()
    # longest first, so 开个体户 wins over 个体户
    ordered: tuple[str, ...] = ()
    by_pinyin: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls, synonyms: dict[str, tuple[str, ...]], ignore: tuple[str, ...], topics: tuple[Topic, ...] = ()
    ) -> Vocabulary:
        by_pinyin = {}
        for term in synonyms:
            full, _initials = tokens.pinyin_of(term)
            if tokens.has_han(term) and len(full) >= 4:
                by_pinyin.setdefault(full, term)
        return cls(
            synonyms=synonyms,
            ignore=tuple(sorted(ignore, key=len, reverse=True)),
            topics=topics,
            ordered=tuple(sorted(synonyms, key=len, reverse=True)),
            by_pinyin=by_pinyin,
        )

    def topic(self, code: str) -> Topic | None:
        return next((t for t in self.topics if t.code == code), None)


async def load() -> Vocabulary:
    synonyms: dict[str, tuple[str, ...]] = {}
    ignore: list[str] = []
    for row in await SearchSynonym.select(SearchSynonym.term, SearchSynonym.means, SearchSynonym.kind):
        if row["kind"] == "ignore":
            ignore.append(normalize(row["term"]))
        elif means := split_means(row["means"]):
            synonyms[normalize(row["term"])] = means
    topics = tuple(
        Topic(r["code"], r["name"], split_means(r["terms"]))
        for r in await SearchTopic.select().order_by(SearchTopic.position).order_by(SearchTopic.id)
    )
    return Vocabulary.build(synonyms, tuple(ignore), topics)


# ---- seed files ---------------------------------------------------------------------------


def read_file(path: Path, cls: type) -> tuple[object | None, list[FieldError]]:
    """A seed file through the one input reader: (value, problems)."""
    if not path.is_file():
        return cls(), []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return None, [FieldError("-", _("不是有效的 TOML：{e}", e=exc))]
    try:
        return read(cls, data), []
    except ValidationError as exc:
        return None, exc.errors


def seed_synonyms(data: SynonymFile) -> dict[str, tuple[str, str]]:
    """term -> (means joined by "|", kind), merging entries that share a term."""
    merged: dict[str, list[str]] = {}
    for entry in data.synonym:
        for term in entry.terms:
            merged.setdefault(normalize(term), []).extend(normalize(m) for m in entry.means)
    out = {t: ("|".join(dict.fromkeys(ms)), "synonym") for t, ms in merged.items()}
    for word in data.ignore:
        out.setdefault(normalize(word), ("", "ignore"))
    return out


async def apply_seed(synonyms: SynonymFile, topics: TopicFile, now: datetime) -> dict[str, int]:
    """Add the seeded terms that are missing (an admin's edit of a term is never overwritten);
    topics are replaced by the file's."""
    counts = {"created": 0, "unchanged": 0}
    existing = {r["term"] for r in await SearchSynonym.select(SearchSynonym.term)}
    new = [
        SearchSynonym(term=term, means=means, kind=kind, changed_at=now)
        for term, (means, kind) in seed_synonyms(synonyms).items()
        if term not in existing
    ]
    counts["created"] = len(new)
    counts["unchanged"] = len(existing)
    if new:
        await SearchSynonym.insert(*new)
    if topics.topic:
        wanted = [(t.code, t.name, "|".join(t.terms), i) for i, t in enumerate(topics.topic)]
        current = [
            (r["code"], r["name"], r["terms"], r["position"])
            for r in await SearchTopic.select().order_by(SearchTopic.position)
        ]
        if current != wanted:
            await SearchTopic.delete(force=True)
            await SearchTopic.insert(
                *(SearchTopic(code=c, name=n, terms=terms, position=p) for c, n, terms, p in wanted)
            )
    return counts


# ---- admins' edits ------------------------------------------------------------------------


async def list_synonyms() -> list[dict]:
    return await SearchSynonym.select().order_by(SearchSynonym.kind).order_by(SearchSynonym.term)


async def save_synonym(form: SynonymForm, now: datetime) -> None:
    term = normalize(form.term)
    means = "|".join(split_means(form.means))
    if form.kind == "synonym" and not means:
        raise ValidationError([FieldError("means", _("请填写对应的事项用语"))])
    values = {SearchSynonym.means: means, SearchSynonym.kind: form.kind, SearchSynonym.changed_at: now}
    updated = await SearchSynonym.update(values).where(SearchSynonym.term == term).returning(SearchSynonym.id)
    if not updated:
        await SearchSynonym.insert(SearchSynonym(term=term, means=means, kind=form.kind, changed_at=now))
    after_commit(invalidate)  # this process's cached pages use the new words at once


async def delete_synonym(synonym_id: int) -> None:
    await SearchSynonym.delete().where(SearchSynonym.id == synonym_id)
    after_commit(invalidate)
