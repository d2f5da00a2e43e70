"""情形引导 and the one-time notice (一次性告知单): which materials, fees and steps of a guide apply
to one citizen's answers.

A material, fee or step may carry `when = "agent=yes；hukou=other/province"`: it applies when, for
every question it names, the answer is one of the listed options. An unanswered question leaves
it undecided ("可能需要"), so a notice never hides something that may be needed.

At the counter a clerk can also mark each material brought (已收), missing (缺) or accepted now
and supplied later (容缺后补, with a deadline). The answers and the marks travel in the address,
so the notice's QR code reproduces it exactly; nothing is stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from guides.i18n import _
from guides.snapshot import Condition, Fee, Guide, GuideMaterial, Situation, Step

_SPLIT = re.compile(r"[;；,，\s]+")
_TERM = re.compile(
    r"([a-z0-9][a-z0-9-]{0,31})=([a-z0-9][a-z0-9-]{0,31}(?:/[a-z0-9][a-z0-9-]{0,31})*)", re.ASCII
)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)

Mark = Literal["brought", "missing", "deferred"]
MARKS: tuple[Mark, ...] = ("brought", "missing", "deferred")
MARK_LABELS = {"brought": "已收", "missing": "缺少", "deferred": "容缺后补"}
MAX_MARKS = 100  # no guide has more materials (the schema's limit)


def parse_when(text: str) -> dict[str, frozenset[str]]:
    """`"agent=yes；hukou=other/province"` → {"agent": {"yes"}, "hukou": {"other", "province"}}.
    Raises ValueError for anything else."""
    conditions: dict[str, frozenset[str]] = {}
    for term in _SPLIT.split(text.strip()):
        if not term:
            continue
        m = _TERM.fullmatch(term)
        if not m:
            raise ValueError(term)
        options = frozenset(m.group(2).split("/"))
        conditions[m.group(1)] = conditions.get(m.group(1), options) & options
    if not conditions:
        raise ValueError(text)
    return conditions


def applies(when: str, answers: Mapping[str, str]) -> bool | None:
    """True when every named question is answered with a listed option, False when one is
    answered otherwise, None while a named question is unanswered."""
    if not when:
        return True
    try:
        conditions = parse_when(when)
    except ValueError:
        return None
    undecided = False
    for question, options in conditions.items():
        answer = answers.get(question)
        if answer is None:
            undecided = True
        elif answer not in options:
            return False
    return None if undecided else True


def when_text(when: str, situations: tuple[Situation, ...]) -> str:
    """A `when` in words: "委托他人办理" or "户籍：外地户籍或本省其他地区"."""
    try:
        conditions = parse_when(when)
    except ValueError:
        return when
    by_key = {s.key: s for s in situations}
    parts = []
    for question, options in conditions.items():
        s = by_key.get(question)
        if s is None:
            continue
        labels = [o.label for o in s.options if o.key in options]
        parts.append(_("或").join(labels))
    return "；".join(parts)


def read_answers(query: Mapping[str, Any], situations: tuple[Situation, ...]) -> dict[str, str]:
    """The valid answers among the query's parameters (anything else is ignored)."""
    answers = {}
    for s in situations:
        value = query.get(s.key)
        if isinstance(value, str) and s.option(value) is not None:
            answers[s.key] = value
    return answers


@dataclass(frozen=True, slots=True)
class MaterialMark:
    mark: Mark
    due: date | None = None


def read_marks(query: Mapping[str, Any], materials: tuple[GuideMaterial, ...]) -> dict[str, MaterialMark]:
    """The clerk's marks: `m-{material code}=brought|missing|deferred`, and `due-{code}=YYYY-MM-DD`
    for a deferred one."""
    marks = {}
    for m in materials[:MAX_MARKS]:
        value = query.get(f"m-{m.code}")
        if value not in MARKS:
            continue
        due = None
        raw = query.get(f"due-{m.code}")
        if value == "deferred" and isinstance(raw, str) and _DATE.fullmatch(raw):
            try:
                due = date.fromisoformat(raw)
            except ValueError:
                due = None
        marks[m.code] = MaterialMark(value, due)
    return marks


@dataclass(frozen=True, slots=True)
class NoticeMaterial:
    material: GuideMaterial
    certain: bool  # False: depends on an unanswered question or on a condition in words
    condition: str  # when it is needed, in words ("" for always)
    mark: MaterialMark | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """The one-time notice for one guide and one set of answers (and, at the counter, marks)."""

    guide: Guide
    answers: dict[str, str]
    materials: list[NoticeMaterial]
    fees: list[Fee]
    steps: list[Step]
    marks: dict[str, MaterialMark] = field(default_factory=dict)
    conditions: list[Condition] = field(default_factory=list)  # 视情形的受理条件 that apply

    @property
    def unanswered(self) -> list[Situation]:
        return [s for s in self.guide.situations if s.key not in self.answers]

    @property
    def answered(self) -> list[tuple[Situation, str]]:
        """(question, chosen option's label), in the guide's order."""
        out = []
        for s in self.guide.situations:
            if s.key in self.answers:
                option = s.option(self.answers[s.key])
                out.append((s, option.label if option else ""))
        return out

    @property
    def missing(self) -> list[NoticeMaterial]:
        return [m for m in self.materials if m.mark is not None and m.mark.mark == "missing"]

    @property
    def deferred(self) -> list[NoticeMaterial]:
        return [m for m in self.materials if m.mark is not None and m.mark.mark == "deferred"]

    def to_dict(self, address: str) -> dict[str, Any]:
        """The notice as open data (`/g/{code}/notice.json`)."""
        return {
            "code": self.guide.code,
            "name": self.guide.name,
            "version": self.guide.version,
            "address": address,
            "answers": [
                {"question": s.key, "text": s.question, "answer": self.answers[s.key], "label": label}
                for s, label in self.answered
            ],
            "unanswered": [s.key for s in self.unanswered],
            "materials": [
                {
                    "code": m.material.code,
                    "name": m.material.name,
                    "form": m.material.form,
                    "copies": m.material.copies,
                    "medium": m.material.medium,
                    "necessity": m.material.necessity_label,
                    "certain": m.certain,
                    "condition": m.condition,
                    **(
                        {"mark": m.mark.mark, "due": m.mark.due.isoformat() if m.mark.due else None}
                        if m.mark
                        else {}
                    ),
                }
                for m in self.materials
            ],
            "conditions": [
                {"text": c.text, "certain": applies(c.when, self.answers) is True} for c in self.conditions
            ],
            "fees": [{"name": f.name, "amount": f.amount, "basis": f.basis} for f in self.fees],
            "steps": [
                {"name": s.name, "actor": s.actor, "duration": s.duration, "description": s.description}
                for s in self.steps
            ],
            "promised_days": self.guide.promised_days,
            "trips": self.guide.trips,
        }


def build_notice(
    guide: Guide, answers: Mapping[str, str], marks: Mapping[str, MaterialMark] | None = None
) -> Notice:
    marks = marks or {}
    materials = []
    for m in guide.materials:
        verdict = applies(m.when, answers)
        if verdict is False:
            continue
        condition = when_text(m.when, guide.situations) if m.when else ""
        if not m.required and not m.when:
            verdict = None  # a condition only in words: the citizen decides
            condition = m.condition
        elif not m.required and verdict is None:
            condition = m.condition or condition
        materials.append(NoticeMaterial(m, verdict is True, condition, marks.get(m.code)))
    fees = [f for f in guide.fees if applies(f.when, answers) is not False]
    steps = [s for s in guide.steps if applies(s.when, answers) is not False]
    conditions = [c for c in guide.situational_conditions if applies(c.when, answers) is not False]
    return Notice(guide, dict(answers), materials, fees, steps, dict(marks), conditions)
