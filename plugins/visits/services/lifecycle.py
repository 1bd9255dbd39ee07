"""Life events of a detainee (transfer, release) as they touch visits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from core.db import session as db_session
from core.db import utcnow
from core.detainees.models import Detainee
from core.i18n import lazy_gettext as _l
from core.i18n import local_zone
from core.principals import Principal, current_principal
from core.scoping import can_see_establishment, unscoped
from core.vetoes import Blocker

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


def transfer_blockers(detainee: Detainee) -> list[Blocker]:
    """A visit in progress (checked in today, not finished) stops the detainee's move until
    the visit ends; a director may go ahead anyway (overridable)."""
    zone = local_zone()
    start = dt.datetime.combine(dt.datetime.now(zone).date(), dt.time(), tzinfo=zone)
    stmt = select(Booking.id).where(
        Booking.detainee_id == detainee.id,
        Booking.status == BookingStatus.checked_in,
        Booking.checked_in_at >= start.astimezone(dt.UTC),
    )
    if can_see_establishment(current_principal(), detainee.establishment_id):
        found = db_session().scalar(stmt.limit(1))
    else:  # the destination's staff complete a move: they must see it too
        with unscoped("visits: is a visit in progress for a detainee being moved?"):
            found = db_session().scalar(stmt.limit(1))
    if found is None:
        return []
    message = _l("Visits: the detainee is in a visit right now; wait until it ends.")
    return [Blocker("visit_in_progress", "visits", message, overridable=True)]
