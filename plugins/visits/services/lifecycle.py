"""Life events of a detainee (transfer, release) as they touch visits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.db import utcnow
from core.detainees.models import Detainee
from core.principals import Principal
from core.scoping import unscoped

from ..models import Booking, BookingStatus, Slot
from .transitions import _cancel_bookings


def cancel_future_for_detainee(detainee: Detainee, actor: Principal, reason: Any) -> int:
    """Cancel the detainee's future visits (transfer, release); ``reason`` may be lazy, so each
    family reads it in their own language."""
    stmt = (
        select(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(
            Booking.detainee_id == detainee.id,
            Booking.status == BookingStatus.confirmed,
            Slot.starts_at > utcnow(),
        )
    )
    # every establishment's: a move may be completed by the destination's staff
    with unscoped("visits: the detainee's future visits are cancelled wherever booked"):
        return _cancel_bookings(stmt, actor, reason)
