"""The edition lifecycle as data: one table of transitions that every channel asks.

    draft ──submit──> in_review ──approve/hold──> approved ──publish──> published ──> superseded
      ^                  │                           │  └──schedule──> scheduled ──activate──┘
      └────send_back─────┘                           └──withdraw──> withdrawn

No I/O here. Commands call `check()` before they write; pages and the API call `available()` so
a button is shown only when pressing it would work. `None` as a status means "the item has no
edition in the works" (it may have a published one).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from guides.i18n import _
from registry.access import Actor, PermissionDenied
from registry.errors import DomainError
from registry.vocab import EditionStatus as S


class TransitionError(DomainError):
    """The action does not apply to the edition's current status."""


class Action(StrEnum):
    open_draft = "open_draft"
    request_withdrawal = "request_withdrawal"
    save = "save"
    submit = "submit"
    send_back = "send_back"
    approve = "approve"  # approve and publish at once
    hold = "hold"  # approve, publish later (the due board shows it)
    release = "release"  # publish an approval that was held
    publish = "publish"
    schedule = "schedule"
    withdraw = "withdraw"
    activate = "activate"
    activate_withdrawal = "activate_withdrawal"
    supersede = "supersede"


class Who(StrEnum):
    editor = "editor"  # an editor of the item's department, or an admin
    reviewer = "reviewer"  # a reviewer or an admin
    system = "system"  # the publication machinery, after an approval


@dataclass(frozen=True, slots=True)
class Transition:
    action: Action
    sources: tuple[S | None, ...]
    target: S
    who: Who
    label: str
    refused: str  # why, when the edition is not in a source status
    four_eyes: bool = False  # refused to anyone who saved content into the edition


TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        Action.open_draft, (None,), S.draft, Who.editor, "新建草稿", "该事项已有未完成的版本，请先处理。"
    ),
    Transition(
        Action.request_withdrawal,
        (None,),
        S.draft,
        Who.editor,
        "申请取消事项",
        "该事项已有未完成的版本，请先处理。",
    ),
    Transition(
        Action.save, (S.draft,), S.draft, Who.editor, "保存草稿", "该版本已提交审核，审核退回后才能修改。"
    ),
    Transition(Action.submit, (S.draft,), S.in_review, Who.editor, "提交审核", "没有可提交的草稿。"),
    Transition(Action.send_back, (S.in_review,), S.draft, Who.reviewer, "退回修改", "没有待审核的版本。"),
    Transition(
        Action.approve,
        (S.in_review,),
        S.approved,
        Who.reviewer,
        "批准并发布",
        "没有待审核的版本。",
        four_eyes=True,
    ),
    Transition(
        Action.hold,
        (S.in_review,),
        S.approved,
        Who.reviewer,
        "批准，暂缓发布",
        "没有待审核的版本。",
        four_eyes=True,
    ),
    Transition(Action.release, (S.approved,), S.approved, Who.reviewer, "立即发布", "没有待发布的版本。"),
    Transition(Action.publish, (S.approved,), S.published, Who.system, "发布", "没有待发布的版本。"),
    Transition(
        Action.schedule, (S.approved,), S.scheduled, Who.system, "公告，到期生效", "没有待发布的版本。"
    ),
    Transition(Action.withdraw, (S.approved,), S.withdrawn, Who.system, "取消事项", "没有待发布的版本。"),
    Transition(Action.activate, (S.scheduled,), S.published, Who.system, "生效", "没有待生效的版本。"),
    Transition(
        Action.activate_withdrawal, (S.scheduled,), S.withdrawn, Who.system, "取消生效", "没有待生效的版本。"
    ),
    Transition(Action.supersede, (S.published,), S.superseded, Who.system, "被新版本替代", "不是现行版本。"),
)
BY_ACTION: dict[Action, Transition] = {t.action: t for t in TRANSITIONS}
# What a person can press on the staff pages (the rest happen by themselves).
HUMAN_ACTIONS = tuple(t.action for t in TRANSITIONS if t.who is not Who.system)


@dataclass(frozen=True, slots=True)
class Subject:
    """What the rules need to know about the edition and its item."""

    status: S | None
    department_code: str
    contributors: frozenset[int] = frozenset()  # everyone who saved content into the edition
    withdrawn: bool = False  # the item itself is withdrawn: nothing more happens to it
    published: bool = True  # the item has a current guide (a withdrawal needs one)


def refusal(action: Action, actor: Actor, subject: Subject) -> DomainError | None:
    """Why `actor` may not do `action` now, or None when they may."""
    t = BY_ACTION[action]
    if t.who is Who.editor and not actor.can_edit(subject.department_code):
        return PermissionDenied(_("您无权编辑该部门的事项。"))
    if t.who is Who.reviewer and not actor.can_review:
        return PermissionDenied(_("只有审核人员可以{label}。", label=_(t.label)))
    if subject.withdrawn and t.who is not Who.system:
        return TransitionError(_("事项已取消，不能再修改。"))
    if action is Action.request_withdrawal and not subject.published:
        return TransitionError(_("只有正在办理的事项才能申请取消。"))
    if subject.status not in t.sources:
        return TransitionError(_(t.refused))
    if t.four_eyes and actor.id is not None and actor.id in subject.contributors:
        return PermissionDenied(_("不能审核自己编辑的版本（双人复核）。"))
    return None


def check(action: Action, actor: Actor, subject: Subject) -> S:
    """The status after `action`; raises PermissionDenied or TransitionError when refused."""
    error = refusal(action, actor, subject)
    if error is not None:
        raise error
    return BY_ACTION[action].target


def available(actor: Actor, subject: Subject, actions: Iterable[Action] = HUMAN_ACTIONS) -> frozenset[Action]:
    """The actions this person may take now: what a page shows as buttons."""
    return frozenset(a for a in actions if refusal(a, actor, subject) is None)
