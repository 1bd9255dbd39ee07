"""The state machine: unit tests of the table, and a hypothesis stateful test that random
sequences of actions by random people — on the real services and database — never reach a
forbidden state."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from core.errors import DomainError
from core.principals import SYSTEM
from plugins.transfers.services import machine
from plugins.transfers.tests.helpers import DEST, ORIGIN, OTHER, detainee, user


def test_the_happy_path_and_the_final_states():
    path = ["approve", "accept", "schedule", "depart", "complete"]
    status = "requested"
    for action in path:
        status = machine.target(action, status)
    assert status == "completed"
    for final in machine.FINAL:
        assert machine.next_actions(final) == []
        assert machine.reachable(final) == {final}


def test_cancel_from_every_state_before_completion_and_never_after():
    for status in machine.ACTIVE:
        assert machine.target("cancel", status) == "cancelled"
    for status in machine.FINAL:
        assert machine.target("cancel", status) is None


def test_refuse_only_after_approval_and_completion_only_after_departure():
    assert [s for s in machine.STATUSES if machine.target("refuse", s)] == ["approved"]
    assert [s for s in machine.STATUSES if machine.target("complete", s)] == ["in_transit"]
    assert machine.target("approve", "approved") is None


def test_every_status_is_reachable_from_requested():
    assert machine.reachable("requested") == set(machine.STATUSES)


def test_transition_raises_409_for_a_forbidden_step(app):
    from core.errors import Conflict

    with app.test_request_context(), pytest.raises(Conflict) as exc:
        machine.transition("complete", "requested")
    assert exc.value.status == 409


ACTORS = [
    ("director", ORIGIN),
    ("director", DEST),
    ("transfers_officer", ORIGIN),
    ("transfers_officer", DEST),
    ("transfers_officer", OTHER),
    ("registry_clerk", ORIGIN),
    ("system", ""),
]


def test_random_sequences_never_reach_a_forbidden_state(app, factories):
    """Random actions by random people on real transfers: a step either follows the machine
    (and the person may make it) or changes nothing; the timeline is a path of the machine;
    the detainee is at the destination exactly when the transfer is completed; a detainee
    never has two active transfers."""
    from core.db import session
    from plugins.transfers import services
    from plugins.transfers.models import ACTIVE_STATUSES, Transfer

    people = {
        key: (SYSTEM if key[0] == "system" else user(app, factories, key[0], key[1]))
        for key in ACTORS
    }

    class Journeys(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.rn = detainee(app, factories, legal_status="pretrial")
            self.transfers: list[int] = []
            self.expected: dict[int, str] = {}
            with app.app_context():  # every run starts with a transfer requested
                t = services.request_transfer(
                    self._det(), {"destination": DEST, "reason": "overcrowding"}, SYSTEM
                )
                self.transfers.append(t.id)
                self.expected[t.id] = "requested"
                session().commit()

        def _det(self) -> Any:
            from core.detainees.services import get_detainee

            return get_detainee(self.rn, SYSTEM)

        @rule(who=st.sampled_from(ACTORS))
        def request(self, who: Any) -> None:
            with app.app_context():
                try:
                    with session().begin_nested():
                        t = services.request_transfer(
                            self._det(), {"destination": DEST, "reason": "security"}, people[who]
                        )
                    self.transfers.append(t.id)
                    self.expected[t.id] = "requested"
                except DomainError:
                    # refused (someone without the right, a transfer already under way, the
                    # detainee already at the destination): nothing was created, and the
                    # invariants below check that nothing changed
                    pass
                session().commit()

        @rule(
            action=st.sampled_from(machine.ACTIONS),
            who=st.sampled_from(ACTORS),
            pick=st.integers(min_value=0, max_value=5),
            follow=st.booleans(),
            right_person=st.booleans(),
            authorised=st.booleans(),
        )
        def act(
            self,
            action: str,
            who: Any,
            pick: int,
            follow: bool,
            right_person: bool,
            authorised: bool,
        ) -> None:
            """``follow``: take a step the machine allows from the current status (else any
            action); ``right_person``: by someone who may (else anyone)."""
            if not self.transfers:
                return
            tid = self.transfers[pick % len(self.transfers)]
            with app.app_context():
                t = session().get(Transfer, tid)
                before = t.status.value
                steps = machine.next_actions(before)
                if follow and steps:
                    action = steps[pick % len(steps)]
                if right_person:
                    able = [
                        k for k in ACTORS if k[0] != "system" and services.may(people[k], action, t)
                    ]
                    who = able[pick % len(able)] if able else who
                actor = people[who]
                allowed = services.may(actor, action, t)
                kwargs: dict[str, Any] = {
                    "approve": {"judicial_authorisation": "AJ-9" if authorised else ""},
                    "refuse": {"reason": "no_space"},
                    "schedule": {"date": services.today_local()},
                    "cancel": {"reason": "test"},
                }.get(action, {})
                try:
                    with session().begin_nested():
                        getattr(services, action)(t, actor, **kwargs)
                    done = True
                except DomainError:
                    done = False
                session().commit()
                session().expire_all()
                after = session().get(Transfer, tid).status.value
                if done:
                    assert allowed, (action, who, before)
                    assert after == machine.target(action, before)
                    self.expected[tid] = after
                else:
                    assert after == before
                    # the only reason an allowed step fails: the missing authorisation
                    assert not allowed or (action == "approve" and not authorised)

        @invariant()
        def consistent(self) -> None:
            with app.app_context():
                session().expire_all()
                det = self._det()
                active = 0
                for tid, status in self.expected.items():
                    t = session().get(Transfer, tid)
                    assert t.status.value == status
                    assert t.status.value in machine.STATUSES
                    active += t.status.value in ACTIVE_STATUSES
                    steps = [
                        (e.from_status, e.action, e.to_status)
                        for e in t.events
                        if e.action in machine.TRANSITIONS
                    ]
                    for src, action, dst in steps:
                        assert machine.target(action, src) == dst
                    chain = ["requested"] + [dst for _s, _a, dst in steps]
                    assert [s for s, _a, _d in steps] == chain[:-1]
                    assert chain[-1] == t.status.value
                    if t.status.value == "completed":
                        assert t.completed_at is not None
                    if t.status.value == "approved":
                        assert t.judicial_authorisation
                assert active <= 1
                completed = any(s == "completed" for s in self.expected.values())
                assert (det.establishment.code == DEST) == completed

    run_state_machine_as_test(
        Journeys,
        settings=settings(
            max_examples=20,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
