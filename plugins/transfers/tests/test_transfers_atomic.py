"""Completion is atomic: a module whose reaction to the move fails rolls everything back —
the detainee stays, the transfer stays in transit, visits and funds untouched — and the
officer sees why."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.errors import Conflict
from core.plugins import hookimpl
from core.principals import SYSTEM
from plugins.transfers.tests.helpers import (
    BASE,
    DEST,
    ORIGIN,
    detainee,
    establishment_of,
    make_transfer,
    status_of,
    user,
)


class _FailingReaction:
    @hookimpl
    def on_detainee_transferred(self, detainee: Any) -> None:
        raise Conflict("The archive refuses the move.", code="archive_refuses")


def test_a_failing_reaction_rolls_the_whole_completion_back(app, factories, make_app):
    from core.db import session
    from core.detainees.models import Detainee, Placement
    from core.detainees.services import get_detainee
    from plugins.funds import services as funds
    from plugins.transfers.models import TransferEvent

    rn = detainee(app, factories)
    with app.app_context():
        funds.deposit(get_detainee(rn, SYSTEM), SYSTEM, amount="25.00", source="cash")
        session().commit()
    tid = make_transfer(app, rn, "in_transit")
    other = make_app(rolled_back=True)
    from core.plugins import get_plugin_manager

    with other.app_context():
        get_plugin_manager().register(_FailingReaction(), name="archive")
    officer = user(other, factories, "transfers_officer", DEST)
    client = other.test_client()
    from core.testing import TEST_PASSWORD

    token = client.post(
        "/api/v1/auth/token", json={"username": officer.username, "password": TEST_PASSWORD}
    ).json["token"]
    resp = client.post(f"{BASE}/{tid}/complete", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 409
    assert resp.json["error"]["message"] == "The archive refuses the move."
    assert status_of(app, tid) == "in_transit"
    assert establishment_of(app, rn) == ORIGIN
    with app.app_context():
        session().expire_all()
        det_id = session().scalar(select(Detainee.id).where(Detainee.registration_number == rn))
        assert (
            session().scalar(
                select(func.count(Placement.id)).where(Placement.detainee_id == det_id)
            )
            == 1
        )
        assert (
            session().scalar(
                select(func.count(TransferEvent.id)).where(TransferEvent.action == "complete")
            )
            == 0
        )
        account = funds.account_of(get_detainee(rn, SYSTEM))
        assert account.establishment.code == ORIGIN
        assert funds.balances_of(account).available == 2500


def test_completion_cancels_the_origins_future_visits_and_moves_the_account(
    app, factories, api_headers
):
    """One transaction: the move, visits' cancellation (families told), funds' account."""
    import datetime as dt

    from core.db import session, utcnow
    from core.detainees.services import get_detainee
    from core.notifications.models import OutboxMessage
    from plugins.funds import services as funds
    from plugins.visits.models import Booking, BookingStatus, Slot

    rn = detainee(app, factories)
    with app.app_context():
        det = get_detainee(rn, SYSTEM)
        funds.deposit(det, SYSTEM, amount="60.00", source="cash")
        visitor = factories.visitor()
        start = utcnow() + dt.timedelta(days=3)
        slot = Slot(
            establishment_id=det.establishment_id,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            capacity=10,
            booked=1,
        )
        session().add(slot)
        session().flush()
        booking = Booking(
            reference="TRTEST0001",
            slot_id=slot.id,
            establishment_id=det.establishment_id,
            detainee_id=det.id,
            visitor_id=visitor.id,
            visitor_name="Fatima Benali",
            week_start=start.date(),
            status=BookingStatus.confirmed,
        )
        session().add(booking)
        session().commit()
        booking_id = booking.id
        before = session().scalar(select(func.count(OutboxMessage.id)))
    tid = make_transfer(app, rn, "in_transit")
    officer = user(app, factories, "transfers_officer", DEST)
    resp = app.test_client().post(f"{BASE}/{tid}/complete", headers=api_headers(officer))
    assert resp.status_code == 200, resp.json
    with app.app_context():
        session().expire_all()
        assert session().get(Booking, booking_id).status == BookingStatus.cancelled
        assert session().scalar(select(func.count(OutboxMessage.id))) > before
        account = funds.account_of(get_detainee(rn, SYSTEM))
        assert account.establishment.code == DEST
        assert funds.balances_of(account).available == 6000
