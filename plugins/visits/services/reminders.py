"""The reminder the day before a visit (``idmaj visits remind``, run daily)."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select

from core.db import session as db_session
from core.db import utcnow
from core.i18n import current_language

from ..models import Booking, BookingStatus, Slot
from .common import local_date, local_moment
from .notify import _in_locale, _notify, _slot_when


def send_reminders(now: dt.datetime | None = None) -> int:
    """Queue a reminder for every confirmed visit of tomorrow (local time), once."""
    now = now or utcnow()
    tomorrow = local_date(now) + dt.timedelta(days=1)
    stmt = (
        select(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(
            Booking.status == BookingStatus.confirmed,
            Booking.reminder_sent_at.is_(None),
            Booking.visitor_id.is_not(None),
            Slot.starts_at >= local_moment(tomorrow, "00:00"),
            Slot.starts_at < local_moment(tomorrow + dt.timedelta(days=1), "00:00"),
        )
    )
    count = 0
    for booking in db_session().scalars(stmt):
        with _in_locale(booking.visitor):
            _notify(
                booking.visitor,
                "visits.reminder",
                _("Reminder: visit tomorrow, reference %(ref)s", ref=booking.reference),
                _(
                    "Your visit to %(name)s is tomorrow at %(when)s. Bring your national "
                    "identity card.",
                    name=booking.detainee.display_name(current_language()),
                    when=_slot_when(booking.slot),
                ),
            )
        booking.reminder_sent_at = now
        count += 1
    db_session().flush()
    return count
