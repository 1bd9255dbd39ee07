"""The gate: check-in, outcomes, no-shows and the day sheet (page, print and CSV)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from core.csv_safety import write_rows
from core.db import session as db_session
from core.db import utcnow
from core.errors import Conflict, NotFound, ValidationFailed
from core.establishments.models import Establishment
from core.i18n import local_zone, show_datetime
from core.identity.models import User
from core.identity.services import require
from core.scoping import ensure_in_scope

from ..models import Booking, BookingStatus, Slot
from .bans import refuse_banned_at_gate
from .common import _fail, _staff, local_date, local_moment
from .references import normalise_reference
from .slots import list_slots
from .transitions import OUTCOMES, REASON_REQUIRED, _transition

CHECK_IN_EARLY = dt.timedelta(hours=2)


def check_in(actor: User, code: str, now: dt.datetime | None = None) -> Booking:
    """Check a visitor in by reference or by the QR code's text."""
    now = now or utcnow()
    require(actor, "visits.gate")
    ref = normalise_reference(code)
    booking = db_session().scalar(select(Booking).where(Booking.reference == ref))
    if booking is None:
        raise NotFound(_("No visit with this reference."), code="booking_not_found")
    ensure_in_scope(actor, booking.establishment_id)
    slot = booking.slot
    if booking.status == BookingStatus.checked_in:
        # scanned twice at the gate: say so plainly, with when, instead of a state-machine error
        raise Conflict(
            _(
                "These visitors were already checked in at %(time)s.",
                time=show_datetime(booking.checked_in_at, "HH:mm"),
            ),
            code="already_checked_in",
        )
    if booking.status == BookingStatus.confirmed:
        if now < slot.starts_at - CHECK_IN_EARLY:
            raise _fail(_("This visit is not today or has not opened yet."), "too_early")
        if now > slot.ends_at:
            raise _fail(_("This visit is over."), "too_late")
        # a ban by national id: the visitor's and each companion's (issue 10 point 4)
        refuse_banned_at_gate(booking, local_date(now))
    _transition(booking, BookingStatus.checked_in, actor)
    return booking


def record_outcome(actor: User, booking: Booking, outcome: str, reason: str = "") -> Booking:
    _staff(actor, "visits.gate", booking.establishment_id)
    reason = (reason or "").strip()
    if outcome not in OUTCOMES:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={"outcome": _("Choose one of the allowed values.")},
        )
    if outcome in REASON_REQUIRED and not reason:
        raise ValidationFailed(
            _("Please correct the highlighted fields."), fields={"reason": _("Give a reason.")}
        )
    _transition(booking, outcome, actor, reason)
    return booking


def mark_no_show(actor: User, booking: Booking, now: dt.datetime | None = None) -> Booking:
    _staff(actor, "visits.gate", booking.establishment_id)
    now = now or utcnow()
    if booking.slot.ends_at > now:
        raise _fail(_("A no-show can only be marked after the session ends."), "session_not_over")
    _transition(booking, BookingStatus.no_show, actor)
    return booking


def mark_slot_no_shows(actor: User, slot: Slot, now: dt.datetime | None = None) -> int:
    _staff(actor, "visits.gate", slot.establishment_id)
    now = now or utcnow()
    if slot.ends_at > now:
        raise _fail(_("A no-show can only be marked after the session ends."), "session_not_over")
    count = 0
    for booking in list(
        db_session().scalars(
            select(Booking).where(
                Booking.slot_id == slot.id, Booking.status == BookingStatus.confirmed
            )
        )
    ):
        _transition(booking, BookingStatus.no_show, actor)
        count += 1
    return count


@dataclass
class SheetRow:
    slot: Slot
    bookings: list[Booking]


def day_sheet(actor: User, establishment: Establishment, day: dt.date) -> list[SheetRow]:
    _staff(actor, "visits.view", establishment.id)
    slots = list_slots(
        establishment.id,
        local_moment(day, "00:00"),
        local_moment(day + dt.timedelta(days=1), "00:00"),
    )
    if not slots:
        return []
    bookings: dict[int, list[Booking]] = {s.id: [] for s in slots}
    for b in db_session().scalars(
        select(Booking)
        .where(Booking.slot_id.in_(list(bookings)))
        .order_by(Booking.visitor_name, Booking.id)
    ):
        bookings[b.slot_id].append(b)
    return [SheetRow(s, bookings[s.id]) for s in slots]


def day_sheet_csv(rows: Iterable[SheetRow]) -> str:
    out = io.StringIO()
    header = [
        "slot_start",
        "slot_end",
        "kind",
        "reference",
        "status",
        "detainee",
        "registration_number",
        "visitor",
        "visitor_national_id",
        "adults",
        "children",
        "companions",
    ]
    zone = local_zone()
    lines = (
        [
            f"{row.slot.starts_at.astimezone(zone):%Y-%m-%d %H:%M}",
            f"{row.slot.ends_at.astimezone(zone):%H:%M}",
            row.slot.kind,
            b.reference,
            b.status,
            b.detainee.full_name,
            b.detainee.registration_number,
            b.visitor_name,
            b.visitor_national_id,
            b.adults,
            b.children,
            "; ".join(f"{c.full_name} {c.national_id}".strip() for c in b.companions),
        ]
        for row in rows
        for b in row.bookings
    )
    # Every cell escaped (core.csv_safety), the detainee's and the companions' names included.
    write_rows(csv.writer(out), [header, *lines])
    return out.getvalue()
