"""Life events of a detainee (transfer, release) as they touch visits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.db import utcnow
from core.detainees.models import Detainee
from core.identity.models import User

from ..models import Booking, BookingStatus, Slot
from .transitions import _cancel_bookings


def cancel_future_for_detainee(detainee: Detainee, actor: User | None, reason: Any) -> int:
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
    return _cancel_bookings(stmt, actor, reason)
