"""The transition table, walked whole, with no database."""

from __future__ import annotations

import pytest

from registry.access import SYSTEM, Actor, PermissionDenied
from registry.editions.workflow import (
    BY_ACTION,
    HUMAN_ACTIONS,
    TRANSITIONS,
    Action,
    Subject,
    TransitionError,
    Who,
    available,
    check,
    refusal,
)
from registry.vocab import EditionStatus as S
from registry.vocab import Role

EDITOR = Actor(1, "editor", Role.editor, frozenset({"SGSJ"}))
OTHER_EDITOR = Actor(2, "other", Role.editor, frozenset({"SGSZ"}))
REVIEWER = Actor(3, "reviewer", Role.reviewer)
ADMIN = Actor(4, "admin", Role.admin)
PEOPLE = (EDITOR, OTHER_EDITOR, REVIEWER, ADMIN)
STATUSES: tuple[S | None, ...] = (None, *S)


def subject(status: S | None, contributors=frozenset({1})) -> Subject:
    return Subject(status=status, department_code="SGSJ", contributors=frozenset(contributors))


def test_every_action_has_exactly_one_transition():
    assert [t.action for t in TRANSITIONS] == list(BY_ACTION) == list(Action)


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", list(Action))
def test_the_table_decides_every_status_and_action_for_every_person(status, action):
    t = BY_ACTION[action]
    for person in (*PEOPLE, SYSTEM):
        error = refusal(action, person, subject(status, contributors=()))
        may = {
            Who.editor: person.can_edit("SGSJ"),
            Who.reviewer: person.can_review,
            Who.system: True,
        }[t.who]
        if not may:
            assert isinstance(error, PermissionDenied), (action, status, person.username)
        elif status not in t.sources:
            assert isinstance(error, TransitionError), (action, status, person.username)
            assert str(error) == t.refused
        else:
            assert error is None, (action, status, person.username)
            assert check(action, person, subject(status, contributors=())) == t.target


def test_walking_the_table_reaches_every_status_and_ends_only_in_history():
    reachable: set[S | None] = {None}
    frontier: list[S | None] = [None]
    while frontier:
        here = frontier.pop()
        for t in TRANSITIONS:
            if here in t.sources and t.target not in reachable:
                reachable.add(t.target)
                frontier.append(t.target)
    assert reachable == set(STATUSES)
    exits = {s for t in TRANSITIONS for s in t.sources}
    assert set(S) - exits == {S.superseded, S.withdrawn}  # history is final


def test_people_never_publish_directly():
    assert {BY_ACTION[a].target for a in HUMAN_ACTIONS} <= {S.draft, S.in_review, S.approved}


def test_four_eyes_counts_everyone_who_saved_into_the_edition():
    shared = subject(S.in_review, contributors={ADMIN.id, EDITOR.id})
    assert isinstance(refusal(Action.approve, ADMIN, shared), PermissionDenied)
    assert isinstance(refusal(Action.hold, ADMIN, shared), PermissionDenied)
    assert refusal(Action.approve, REVIEWER, shared) is None
    assert refusal(Action.send_back, ADMIN, shared) is None  # sending back is not approving


def test_pages_offer_only_what_the_person_may_do():
    in_review = subject(S.in_review, contributors={EDITOR.id})
    assert available(EDITOR, in_review) == frozenset()
    assert available(REVIEWER, in_review) == {Action.send_back, Action.approve, Action.hold}
    assert available(EDITOR, subject(S.draft)) == {Action.save, Action.submit}
    assert available(OTHER_EDITOR, subject(S.draft)) == frozenset()
    assert available(EDITOR, subject(None)) == {Action.open_draft, Action.request_withdrawal}
    withdrawn = Subject(status=None, department_code="SGSJ", withdrawn=True)
    assert available(ADMIN, withdrawn) == frozenset()
    unpublished = Subject(status=None, department_code="SGSJ", published=False)
    assert available(EDITOR, unpublished) == {Action.open_draft}
