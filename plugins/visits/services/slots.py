"""Single slots (bookable visiting times) and blocked dates; cancelling either cancels its
bookings and tells the families why."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.audit import services as audit
from core.db import session as db_session
from core.db import utcnow
from core.errors import Conflict, NotFound, ValidationFailed
from core.establishments.models import Establishment
from core.principals import Principal

from ..models import SLOT_KINDS, BlockedDate, Booking, BookingStatus, Slot, SlotStatus
from .common import _parse_date, _staff, local_date, local_moment
from .transitions import _cancel_bookings


def blocked_days(establishment_id: int, start: dt.date, end: dt.date) -> set[dt.date]:
    return set(
        db_session().scalars(
            select(BlockedDate.day).where(
                BlockedDate.establishment_id == establishment_id,
                BlockedDate.day >= start,
                BlockedDate.day <= end,
            )
        )
    )


def create_slot(
    actor: Principal,
    establishment: Establishment,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int,
    kind: str = "ordinary",
) -> Slot:
    _staff(actor, "visits.manage", establishment.id)
    errors: dict[str, str] = {}
    if starts_at.tzinfo is None:
        errors["starts_at"] = _("Enter a date and time with its offset (ISO 8601).")
    if ends_at.tzinfo is None:
        errors["ends_at"] = _("Enter a date and time with its offset (ISO 8601).")
    if not errors and ends_at <= starts_at:
        errors["ends_at"] = _("The end must come after the start.")
    if not errors and starts_at <= utcnow():
        errors["starts_at"] = _("Choose a time in the future.")
    if not 1 <= capacity <= 1000:
        errors["capacity"] = _("Enter a number from %(lo)d to %(hi)d.", lo=1, hi=1000)
    if kind not in SLOT_KINDS:
        errors["kind"] = _("Choose one of the allowed values.")
    if not errors and local_date(starts_at) in blocked_days(
        establishment.id, local_date(starts_at), local_date(starts_at)
    ):
        errors["starts_at"] = _("There are no visits on this date.")
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    slot = Slot(
        establishment_id=establishment.id,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        booked=0,
        status=SlotStatus.open,
    )
    db_session().add(slot)
    db_session().flush()
    audit.record(
        "visits.slot.create",
        "visits_slot",
        slot.id,
        establishment_id=establishment.id,
        summary={"starts_at": starts_at.isoformat(), "capacity": capacity, "kind": kind},
        actor=actor,
    )
    return slot


def get_slot(slot_id: int) -> Slot:
    slot = db_session().get(Slot, slot_id)
    if slot is None:
        raise NotFound(_("This visiting time does not exist."), code="slot_not_found")
    return slot


def list_slots(
    establishment_id: int | None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    *,
    only_open: bool = False,
    kind: str | None = None,
) -> list[Slot]:
    stmt = select(Slot).order_by(Slot.starts_at, Slot.kind, Slot.id)
    if establishment_id is not None:
        stmt = stmt.where(Slot.establishment_id == establishment_id)
    if start is not None:
        stmt = stmt.where(Slot.starts_at >= start)
    if end is not None:
        stmt = stmt.where(Slot.starts_at < end)
    if only_open:
        stmt = stmt.where(Slot.status == SlotStatus.open)
    if kind:
        stmt = stmt.where(Slot.kind == kind)
    return list(db_session().scalars(stmt))


def cancel_slot(actor: Principal, slot: Slot, reason: str) -> int:
    """Cancel a session: its bookings are cancelled and the families told why."""
    _staff(actor, "visits.manage", slot.establishment_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={"reason": _("Give a reason.")},
        )
    if slot.status == SlotStatus.cancelled:
        raise Conflict(_("This session is already cancelled."), code="already_cancelled")
    slot.status = SlotStatus.cancelled
    slot.cancel_reason = reason[:300]
    count = _cancel_bookings(
        select(Booking).where(
            Booking.slot_id == slot.id, Booking.status == BookingStatus.confirmed
        ),
        actor,
        reason,
    )
    audit.record(
        "visits.slot.cancel",
        "visits_slot",
        slot.id,
        establishment_id=slot.establishment_id,
        summary={"reason": reason, "bookings_cancelled": count},
        actor=actor,
    )
    return count


def _already_blocked() -> Conflict:
    return Conflict(
        _("This date is already blocked."),
        code="already_blocked",
        fields={"day": _("This date is already blocked.")},
    )


def block_date(actor: Principal, establishment: Establishment, day: Any, reason: str) -> int:
    """Block a date: no slots are generated, existing ones are cancelled (families notified)."""
    _staff(actor, "visits.manage", establishment.id)
    errors: dict[str, str] = {}
    parsed = _parse_date(day, "day", errors)
    reason = (reason or "").strip()
    if parsed is None and "day" not in errors:
        errors["day"] = _("This field is required.")
    if not reason:
        errors["reason"] = _("Give a reason.")
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    assert parsed is not None
    sess = db_session()
    exists = sess.scalar(
        select(BlockedDate).where(
            BlockedDate.establishment_id == establishment.id, BlockedDate.day == parsed
        )
    )
    if exists is not None:
        raise _already_blocked()
    try:
        # a SAVEPOINT: of two officers blocking the same date at once, the second loses on the
        # unique constraint with the same 409 as the check above (not a 500)
        with sess.begin_nested():
            sess.add(
                BlockedDate(establishment_id=establishment.id, day=parsed, reason=reason[:300])
            )
            sess.flush()
    except IntegrityError as exc:
        raise _already_blocked() from exc
    cancelled = 0
    for slot in list_slots(
        establishment.id,
        local_moment(parsed, "00:00"),
        local_moment(parsed + dt.timedelta(days=1), "00:00"),
        only_open=True,
    ):
        slot.status = SlotStatus.cancelled
        slot.cancel_reason = reason[:300]
        cancelled += _cancel_bookings(
            select(Booking).where(
                Booking.slot_id == slot.id, Booking.status == BookingStatus.confirmed
            ),
            actor,
            reason,
        )
    audit.record(
        "visits.date.block",
        "visits_blocked_date",
        parsed.isoformat(),
        establishment_id=establishment.id,
        summary={"reason": reason, "bookings_cancelled": cancelled},
        actor=actor,
    )
    return cancelled


def blocked_dates_of(establishment_id: int) -> list[BlockedDate]:
    return list(
        db_session().scalars(
            select(BlockedDate)
            .where(
                BlockedDate.establishment_id == establishment_id,
                BlockedDate.day >= local_date(utcnow()) - dt.timedelta(days=7),
            )
            .order_by(BlockedDate.day)
        )
    )
