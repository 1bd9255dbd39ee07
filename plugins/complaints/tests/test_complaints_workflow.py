"""The state machine: every transition listed in one place, and only those happen."""

from __future__ import annotations

import itertools

import pytest

from core.errors import Conflict
from plugins.complaints import services
from plugins.complaints.models import Status
from plugins.complaints.services import workflow

S = Status


def test_the_transitions_table_is_the_documented_machine() -> None:
    t = workflow.TRANSITIONS
    assert set(t) == set(Status)
    # the main road
    for a, b in [
        (S.received, S.acknowledged),
        (S.acknowledged, S.in_review),
        (S.in_review, S.answered),
        (S.answered, S.closed),
        (S.answered, S.appealed),
        (S.appealed, S.appeal_review),
        (S.appeal_review, S.answered),
        (S.received, S.inadmissible),
        (S.inadmissible, S.appealed),
    ]:
        assert b in t[a], (a, b)
    for s in (S.received, S.acknowledged, S.in_review, S.appealed, S.appeal_review):
        assert S.withdrawn in t[s]
    # dead ends and forbidden roads
    assert t[S.closed] == frozenset() and t[S.withdrawn] == frozenset()
    assert S.answered not in t[S.closed]
    assert S.appealed not in t[S.received]
    assert S.closed not in t[S.in_review]  # closing needs an answer first
    assert S.withdrawn not in t[S.answered]
    assert all(s not in t[s] for s in Status)  # never to itself


@pytest.mark.parametrize("current,target", list(itertools.product(Status, Status)))
def test_change_status_refuses_what_the_table_does_not_allow(
    app, factories, current, target
) -> None:
    if target in workflow.TRANSITIONS[current]:
        return
    from core.principals import SYSTEM
    from plugins.complaints.models import Complaint

    c = Complaint(status=current)
    with app.app_context(), pytest.raises(Conflict) as exc:
        services.change_status(c, target, SYSTEM)
    assert exc.value.code == "wrong_status"
