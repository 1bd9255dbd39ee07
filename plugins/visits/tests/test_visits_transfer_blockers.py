"""Visits answers ``transfer_blockers``: a visit in progress (checked in today, not finished)
stops a move until it ends; a director may go ahead (overridable)."""

from __future__ import annotations

import pytest

from core.db import session, utcnow
from core.errors import Blocked
from core.principals import SYSTEM
from plugins.visits import services
from plugins.visits.models import Booking, BookingStatus


def _est(est_id):
    from core.establishments.models import Establishment

    return session().get(Establishment, est_id)


def _user(user):
    from core.identity.models import User

    return session().get(User, user.id)


def test_a_visit_in_progress_blocks_a_move_until_it_ends(app, world):
    from core.detainees.services import get_detainee, move

    with app.app_context():
        b = services.book(_user(world.visitor), world.slot_id, world.rn)
        booking = session().get(Booking, b.id)
        det = get_detainee(world.rn, SYSTEM)
        assert services.transfer_blockers(det) == []  # booked, not here yet
        booking.status = BookingStatus.checked_in
        booking.checked_in_at = utcnow()
        session().flush()
        (blocker,) = services.transfer_blockers(det)
        assert (blocker.code, blocker.module, blocker.overridable) == (
            "visit_in_progress",
            "visits",
            True,
        )
        with pytest.raises(Blocked):
            move(det, _est(world.other_id), SYSTEM)
        booking.status = BookingStatus.completed
        session().flush()
        assert services.transfer_blockers(det) == []
        move(det, _est(world.other_id), SYSTEM)
        assert get_detainee(world.rn, SYSTEM).establishment_id == world.other_id
