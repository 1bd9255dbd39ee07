"""Reading bookings: one booking, a family's list, the slots a family may book, a detainee's
visits (the profile panel)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, or_, select

from core.db import built_once, utcnow
from core.db import session as db_session
from core.detainees.models import Detainee
from core.errors import Forbidden, NotFound
from core.identity.models import User
from core.identity.services import has_permission
from core.scoping import ensure_in_scope, read_columns

from ..models import (
    Booking,
    BookingStatus,
    QuotaCounter,
    Relation,
    RelationStatus,
    Slot,
    SlotStatus,
    VisitRules,
)
from .bans import ban_in_force
from .capacity import quota_for, visitor_share_used
from .common import local_date, week_start
from .references import normalise_reference
from .relations import approved_relation
from .rules import get_rules
from .transitions import ACTIVE_STATUSES


def is_visits_staff(user: User | None) -> bool:
    return has_permission(user, "visits.view")


def get_booking(actor: User, reference: str) -> Booking:
    """A booking for its visitor or for visits staff of its establishment (404 otherwise)."""
    ref = normalise_reference(reference)
    booking = db_session().scalar(select(Booking).where(Booking.reference == ref))
    if booking is None:
        raise NotFound(_("No visit with this reference."), code="booking_not_found")
    if booking.visitor_id is not None and booking.visitor_id == actor.id:
        return booking
    if not is_visits_staff(actor):
        if actor.is_staff:
            raise Forbidden(_("You are not allowed to do this."))
        raise NotFound(_("No visit with this reference."), code="booking_not_found")
    ensure_in_scope(actor, booking.establishment_id)
    return booking


@dataclass
class BookingsPage:
    """One page of a family's bookings and how many there are in all."""

    items: list[Booking]
    total: int


def my_bookings(
    visitor: User, *, upcoming: bool | None = None, page: int = 1, per_page: int = 50
) -> BookingsPage:
    """Every booking of a family account, one page at a time (paged in SQL: no cap on how many
    a family may have). Upcoming: soonest first; past and all: newest first."""
    page, per_page = max(1, int(page)), max(1, int(per_page))
    stmt = (
        select(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(Booking.visitor_id == visitor.id)
    )
    now = utcnow()
    live = Booking.status.in_(ACTIVE_STATUSES)
    if upcoming is True:
        # a cancelled visit is no longer to come: it moves to the history
        stmt = stmt.where(Slot.ends_at >= now, live).order_by(Slot.starts_at, Booking.id)
    elif upcoming is False:
        stmt = stmt.where(or_(Slot.ends_at < now, ~live)).order_by(
            Slot.starts_at.desc(), Booking.id.desc()
        )
    else:
        stmt = stmt.order_by(Slot.starts_at.desc(), Booking.id.desc())
    total = int(
        db_session().scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    )
    if total <= (page - 1) * per_page:
        return BookingsPage([], total)
    items = list(db_session().scalars(stmt.offset((page - 1) * per_page).limit(per_page)))
    return BookingsPage(items, total)


class SlotChoice(NamedTuple):
    """A visiting time a family may book, as the booking page shows it."""

    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    kind: str
    capacity: int
    booked: int


@built_once
def _open_slots_between() -> Any:
    # columns, not entities: a booking window is some 150 times (each with its establishment
    # joined, as an entity) and the page needs six values of each
    return (
        select(Slot.id, Slot.starts_at, Slot.ends_at, Slot.kind, Slot.capacity, Slot.booked)
        .where(
            Slot.establishment_id == bindparam("establishment_id"),
            Slot.starts_at >= bindparam("start"),
            Slot.starts_at < bindparam("end"),
            Slot.status == bindparam("status"),
            Slot.booked < Slot.capacity,
        )
        .order_by(Slot.starts_at, Slot.kind, Slot.id)
    )


def bookable_slots(
    visitor: User,
    detainee: Detainee,
    now: dt.datetime | None = None,
    *,
    rules: VisitRules | None = None,
) -> list[SlotChoice]:
    """The slots the rules let this visitor book for this detainee (open, in the window, at the
    detainee's current establishment, places left, not a blocked/banned day); ``rules``: the
    establishment's, when the caller has read them already."""
    now = now or utcnow()
    if detainee.is_released or approved_relation(visitor.id, detainee.id) is None:
        return []
    if rules is None or rules.establishment_id != detainee.establishment_id:
        rules = get_rules(detainee.establishment_id)
    if ban_in_force(visitor.id, detainee.establishment_id, local_date(now)):
        return []
    slots = [
        SlotChoice._make(row)
        for row in read_columns(
            _open_slots_between(),
            {
                "establishment_id": detainee.establishment_id,
                "start": now + dt.timedelta(hours=rules.window_close_hours),
                "end": now + dt.timedelta(days=rules.window_open_days),
                "status": SlotStatus.open,
            },
        )
    ]
    quota = quota_for(detainee, rules)
    used = dict(
        db_session()
        .execute(
            select(QuotaCounter.week_start, QuotaCounter.used).where(
                QuotaCounter.detainee_id == detainee.id
            )
        )
        .all()
    )
    share = rules.max_weekly_per_visitor
    open_weeks: dict[dt.date, bool] = {}

    def week_open(week: dt.date) -> bool:
        found = open_weeks.get(week)
        if found is None:
            found = used.get(week, 0) < quota and (
                share is None or visitor_share_used(visitor.id, detainee.id, week) < share
            )
            open_weeks[week] = found
        return found

    return [s for s in slots if week_open(week_start(s.starts_at))]


class VisitLine(NamedTuple):
    """A booking as the profile panel shows it."""

    starts_at: dt.datetime
    visitor_name: str
    reference: str
    status: BookingStatus
    reason: str


class LinkedVisitor(NamedTuple):
    """A visitor's link to the detainee as the profile panel shows it."""

    visitor_name: str
    national_id: str | None
    relationship_kind: str
    status: RelationStatus


@dataclass
class DetaineeVisits:
    upcoming: list[VisitLine]
    history: list[VisitLine]
    relations: list[LinkedVisitor]


_LINE = (Slot.starts_at, Booking.visitor_name, Booking.reference, Booking.status, Booking.reason)


def _lines() -> Any:
    return (
        select(*_LINE)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(Booking.detainee_id == bindparam("detainee_id"))
    )


@built_once
def _upcoming_lines() -> Any:
    return (
        _lines()
        .where(Slot.ends_at >= bindparam("now"), Booking.status.in_(ACTIVE_STATUSES))
        .order_by(Slot.starts_at)
    )


@built_once
def _past_lines() -> Any:
    return (
        _lines()
        .where(or_(Slot.ends_at < bindparam("now"), Booking.status.not_in(ACTIVE_STATUSES)))
        .order_by(Slot.starts_at.desc())
        .limit(20)
    )


@built_once
def _linked_visitors() -> Any:
    return (
        select(User.full_name, User.national_id, Relation.relationship_kind, Relation.status)
        .join(User, User.id == Relation.visitor_id)
        .where(Relation.detainee_id == bindparam("detainee_id"))
        .order_by(Relation.id)
    )


def detainee_visits(detainee: Detainee) -> DetaineeVisits:
    """The profile panel's visits: the coming ones, the last 20 others and the linked
    visitors. Only the columns shown are read (rows, not objects: no booking's slot,
    detainee, visitor and companions loaded for a line of text)."""
    params = {"detainee_id": detainee.id, "now": utcnow()}
    # scoped as the session would, sent by Core (``read_columns``): rows, no ORM layer
    upcoming = read_columns(_upcoming_lines(), params)
    history = read_columns(_past_lines(), params)
    relations = read_columns(_linked_visitors(), params)
    return DetaineeVisits(
        [VisitLine(*row) for row in upcoming],
        [VisitLine(*row) for row in history],
        [LinkedVisitor(*row) for row in relations],
    )
