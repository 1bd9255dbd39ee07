"""The booking state machine: the ONLY place that says which status may follow which, and the
one function that changes a booking's status."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import update

from core.audit import services as audit
from core.db import session as db_session
from core.db import utcnow
from core.errors import Conflict
from core.principals import Principal

from ..models import Booking, BookingStatus
from .capacity import _release_place, _release_quota
from .labels import status_label
from .notify import _notify_cancelled

TRANSITIONS: dict[BookingStatus, frozenset[BookingStatus]] = {
    BookingStatus.confirmed: frozenset(
        {
            BookingStatus.cancelled,
            BookingStatus.checked_in,
            BookingStatus.no_show,
            BookingStatus.visitor_refused,
        }
    ),
    BookingStatus.checked_in: frozenset(
        {
            BookingStatus.completed,
            BookingStatus.visitor_refused,
            BookingStatus.detainee_refused,
            BookingStatus.ended_early,
        }
    ),
    BookingStatus.cancelled: frozenset(),
    BookingStatus.no_show: frozenset(),
    BookingStatus.completed: frozenset(),
    BookingStatus.visitor_refused: frozenset(),
    BookingStatus.detainee_refused: frozenset(),
    BookingStatus.ended_early: frozenset(),
}
STATUSES = tuple(TRANSITIONS)
ACTIVE_STATUSES = (BookingStatus.confirmed, BookingStatus.checked_in)
OUTCOMES = (
    BookingStatus.completed,
    BookingStatus.visitor_refused,
    BookingStatus.detainee_refused,
    BookingStatus.ended_early,
)
REASON_REQUIRED = frozenset(
    {
        BookingStatus.visitor_refused,
        BookingStatus.detainee_refused,
        BookingStatus.ended_early,
        BookingStatus.cancelled,
    }
)


def _transition(booking: Booking, new: BookingStatus, actor: Principal, reason: str = "") -> None:
    """Move a booking to ``new`` if TRANSITIONS allows it — atomically: the UPDATE only
    matches the status we read, so two clerks acting at once cannot both win."""
    old = booking.status
    if new not in TRANSITIONS.get(old, frozenset()):
        raise Conflict(
            _(
                "A visit that is %(old)s cannot become %(new)s.",
                old=status_label(old),
                new=status_label(new),
            ),
            code="invalid_transition",
        )
    reason = str(reason or "")
    values: dict[str, Any] = {"status": new, "reason": reason[:300], "updated_at": utcnow()}
    if new == BookingStatus.checked_in:
        values["checked_in_at"] = utcnow()
    result = db_session().execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == old)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(_("This visit was changed meanwhile; reload."), code="stale")
    db_session().expire(booking)
    if new == BookingStatus.cancelled:
        _release_place(booking.slot_id, booking.places)
        _release_quota(booking.detainee_id, booking.week_start)
    audit.record(
        f"visits.booking.{new}",
        "visits_booking",
        booking.reference,
        establishment_id=booking.establishment_id,
        summary={"status": [old, new], "reason": reason},
        actor=actor,
    )


def _cancel_bookings(stmt: Any, actor: Principal, reason: Any) -> int:
    """Cancel (by the establishment) every booking the statement selects; families told why."""
    count = 0
    for booking in list(db_session().scalars(stmt)):
        _transition(booking, BookingStatus.cancelled, actor, reason)
        _notify_cancelled(booking, reason)
        count += 1
    return count
