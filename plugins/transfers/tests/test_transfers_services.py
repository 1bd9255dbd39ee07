"""The transfer services: the whole journey, vetoes, overrides, atomic completion."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from core.errors import Blocked, Conflict, Forbidden, ValidationFailed
from core.plugins import hookimpl
from core.principals import SYSTEM
from core.vetoes import Blocker
from plugins.transfers.tests.helpers import (
    DEST,
    ORIGIN,
    detainee,
    establishment_of,
    make_transfer,
    status_of,
    user,
)


def _services() -> Any:
    from plugins.transfers import services

    return services


def test_the_whole_journey_moves_the_detainee_and_writes_the_timeline(app, factories):
    rn = detainee(app, factories)
    tid = make_transfer(app, rn, "completed")
    assert status_of(app, tid) == "completed"
    assert establishment_of(app, rn) == DEST
    from core.db import session
    from core.detainees.models import Detainee, Placement
    from plugins.transfers.models import Transfer

    with app.app_context():
        t = session().get(Transfer, tid)
        assert [e.action for e in t.events] == [
            "request",
            "approve",
            "accept",
            "schedule",
            "depart",
            "complete",
        ]
        det = session().scalar(select(Detainee).where(Detainee.registration_number == rn))
        places = (
            session()
            .scalars(
                select(Placement).where(Placement.detainee_id == det.id).order_by(Placement.id)
            )
            .all()
        )
        assert [p.establishment.code for p in places] == [ORIGIN, DEST]
        assert places[0].ended_at is not None and places[1].ended_at is None
        from core.audit.models import AuditEvent

        actions = set(
            session().scalars(
                select(AuditEvent.action).where(
                    AuditEvent.object_type == "transfers_transfer", AuditEvent.object_id == str(tid)
                )
            )
        )
        assert {"transfers.request", "transfers.approve", "transfers.complete"} <= actions


def test_a_detainee_has_at_most_one_active_transfer(app, factories):
    rn = detainee(app, factories)
    make_transfer(app, rn)
    with pytest.raises(Conflict) as exc:
        make_transfer(app, rn)
    assert exc.value.code == "transfer_active"


def test_the_database_refuses_a_second_active_transfer(app, factories):
    """The partial unique index, not only the service's check."""
    from sqlalchemy.exc import IntegrityError

    from core.db import session
    from plugins.transfers.models import Transfer

    rn = detainee(app, factories)
    tid = make_transfer(app, rn)
    with app.app_context():
        t = session().get(Transfer, tid)
        twin = Transfer(
            detainee_id=t.detainee_id,
            origin_id=t.origin_id,
            destination_id=t.destination_id,
            kind="transfer",
            reason="security",
        )
        with pytest.raises(IntegrityError), session().begin_nested():
            session().add(twin)
            session().flush()
        # a finished one does not count
        session().rollback()


def test_a_finished_transfer_lets_a_new_one_be_requested(app, factories):
    rn = detainee(app, factories)
    make_transfer(app, rn, "cancelled")
    assert status_of(app, make_transfer(app, rn)) == "requested"


def test_pretrial_needs_a_judicial_authorisation(app, factories):
    rn = detainee(app, factories, legal_status="pretrial")
    tid = make_transfer(app, rn)
    s = _services()
    with app.app_context():
        with pytest.raises(ValidationFailed) as exc:
            s.approve(s.get_transfer(tid, SYSTEM), SYSTEM)
        assert "judicial_authorisation" in exc.value.fields
        s.approve(s.get_transfer(tid, SYSTEM), SYSTEM, judicial_authorisation="TPI-CASA 2026/77")
        assert s.get_transfer(tid, SYSTEM).judicial_authorisation == "TPI-CASA 2026/77"


@pytest.mark.parametrize(
    "data, field",
    [
        ({"reason": "other"}, "reason_text"),
        ({"reason": "nonsense"}, "reason"),
        ({"kind": "rocket"}, "kind"),
        ({"destination": "NOWHERE"}, "destination"),
        ({"destination": ORIGIN}, "destination"),
        ({"destination": "", "kind": "court", "reason": "court"}, "place"),
        ({"planned_for": "2001-01-01"}, "planned_for"),
        ({"planned_for": "99999-01-01"}, "planned_for"),
        ({"note": "a\x00b"}, "note"),
        ({"reason_text": "x" * 301, "reason": "other"}, "reason_text"),
    ],
)
def test_bad_requests_are_refused_on_their_field(app, factories, data, field):
    rn = detainee(app, factories)
    with pytest.raises(ValidationFailed) as exc:
        make_transfer(app, rn, **data)
    assert field in exc.value.fields


def test_a_court_trip_returns_to_the_origin_and_moves_nothing(app, factories):
    rn = detainee(app, factories)
    tid = make_transfer(
        app,
        rn,
        "completed",
        destination="",
        kind="court",
        reason="court",
        place="Tribunal de première instance de Casablanca",
    )
    assert status_of(app, tid) == "completed"
    assert establishment_of(app, rn) == ORIGIN


class _Veto:
    def __init__(self, overridable: bool) -> None:
        self.overridable = overridable

    @hookimpl
    def transfer_blockers(self, detainee: Any) -> list[Any]:
        return [Blocker("test_veto", "vetoer", "Vetoed by the test.", self.overridable)]


def _with_plugin(make_app: Any, plugin: Any) -> Any:
    from core.plugins import get_plugin_manager

    other = make_app(rolled_back=True)
    with other.app_context():
        get_plugin_manager().register(plugin, name="vetoer")
    return other


def test_a_veto_stops_the_request_and_nothing_is_created(app, factories, make_app):
    rn = detainee(app, factories)
    other = _with_plugin(make_app, _Veto(False))
    with pytest.raises(Blocked) as exc:
        make_transfer(other, rn)
    assert exc.value.fields["blockers"][0]["code"] == "test_veto"
    from core.db import session
    from plugins.transfers.models import Transfer

    with app.app_context():
        assert session().scalar(select(func.count(Transfer.id))) == 0


def test_a_director_overrides_an_overridable_blocker_and_the_officer_completes(
    app, factories, make_app
):
    rn = detainee(app, factories)
    tid = make_transfer(app, rn)  # nothing blocks yet
    other = _with_plugin(make_app, _Veto(True))
    director = user(other, factories, "director")
    officer_b = user(other, factories, "transfers_officer", DEST)
    officer_a = user(other, factories, "transfers_officer")
    s = _services()
    from core.db import session

    with other.app_context():
        with pytest.raises(Blocked):
            s.approve(s.get_transfer(tid, SYSTEM), director)
        s.approve(s.get_transfer(tid, SYSTEM), director, override_reason="court order")
        t = s.get_transfer(tid, SYSTEM)
        assert [(o.code, o.reason, o.actor_username) for o in t.overrides] == [
            ("test_veto", "court order", director.username)
        ]
        s.accept(s.get_transfer(tid, SYSTEM), officer_b)
        s.schedule(s.get_transfer(tid, SYSTEM), officer_a, date=s.today_local())
        s.depart(s.get_transfer(tid, SYSTEM), officer_a)
        s.complete(s.get_transfer(tid, SYSTEM), officer_b)
        session().commit()
    assert establishment_of(app, rn) == DEST


def test_a_blocker_that_is_not_overridable_cannot_be_overridden(app, factories, make_app):
    rn = detainee(app, factories)
    tid = make_transfer(app, rn)
    other = _with_plugin(make_app, _Veto(False))
    director = user(other, factories, "director")
    s = _services()
    with other.app_context():
        with pytest.raises(Blocked):
            s.approve(s.get_transfer(tid, SYSTEM), director, override_reason="please")
        with pytest.raises(Blocked):
            s.override(s.get_transfer(tid, SYSTEM), director, reason="please")
        assert s.get_transfer(tid, SYSTEM).status.value == "requested"


def test_an_officer_cannot_override(app, factories, make_app):
    rn = detainee(app, factories)
    tid = make_transfer(app, rn)
    other = _with_plugin(make_app, _Veto(True))
    officer = user(other, factories, "transfers_officer")
    s = _services()
    with other.app_context(), pytest.raises(Forbidden):
        s.override(s.get_transfer(tid, SYSTEM), officer, reason="hurry")


def test_a_veto_raised_before_departure_stops_it(app, factories, make_app):
    rn = detainee(app, factories)
    tid = make_transfer(app, rn, "scheduled")
    other = _with_plugin(make_app, _Veto(False))
    s = _services()
    with other.app_context(), pytest.raises(Blocked):
        s.depart(s.get_transfer(tid, SYSTEM), SYSTEM)
    assert status_of(app, tid) == "scheduled"


def test_money_on_hold_blocks_and_a_director_may_override(app, factories, api_headers):
    """Funds' blocker (set through its public API: a plugin imports no other plugin)."""
    from core.db import session

    rn = detainee(app, factories)
    tid = make_transfer(app, rn)
    client = app.test_client()
    accountant = api_headers(user(app, factories, "accountant"))
    assert (
        client.post(
            f"/api/v1/funds/accounts/{rn}/deposits",
            json={"amount": "100.00", "source": "cash"},
            headers=accountant,
        ).status_code
        == 201
    )
    assert (
        client.post(
            f"/api/v1/funds/accounts/{rn}/hold",
            json={"amount": "40.00", "memo": "damage to a cell"},
            headers=accountant,
        ).status_code
        == 200
    )
    director = user(app, factories, "director")
    s = _services()
    with app.app_context():
        t = s.get_transfer(tid, SYSTEM)
        found = s.blockers(t, SYSTEM)
        assert [(b.module, b.code, b.overridable) for b in found] == [
            ("funds", "money_on_hold", True)
        ]
        with pytest.raises(Blocked):
            s.approve(t, director)
        s.approve(s.get_transfer(tid, SYSTEM), director, override_reason="new prison opens")
        for step in ("accept", "schedule", "depart", "complete"):
            t = s.get_transfer(tid, SYSTEM)
            if step == "schedule":
                s.schedule(t, SYSTEM, date=s.today_local())
            else:
                getattr(s, step)(t, SYSTEM)
        session().commit()
    assert establishment_of(app, rn) == DEST
    reader = api_headers(user(app, factories, "accountant", DEST))
    account = client.get(f"/api/v1/funds/accounts/{rn}", headers=reader)
    assert account.status_code == 200
    assert account.json["held"] == "40.00" and account.json["balance"] == "100.00"


def test_the_port_requests_a_move_for_another_module(app, factories):
    from core.ports import port
    from core.ports.transfers import TRANSFER_REQUESTS, TransferRequests

    rn = detainee(app, factories)
    doctor = user(app, factories, "doctor")
    with app.app_context():
        p = port(TRANSFER_REQUESTS, TransferRequests)
        assert p.active_transfer(rn) is None
        ref = p.request_move(
            doctor, rn, destination=DEST, kind="hospital", reason="medical", note="referral 42"
        )
        assert ref.status == "requested"
        assert p.active_transfer(rn).id == ref.id
        with pytest.raises(Conflict):
            p.request_move(doctor, rn, destination=DEST, kind="hospital", reason="medical")
