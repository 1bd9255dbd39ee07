"""Booking a visit (a family online, or a walk-in at the gate) and cancelling it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import bindparam, select
from sqlalchemy.orm.attributes import set_committed_value

from core.audit import services as audit
from core.db import built_once, insert_loaded, utcnow
from core.db import session as db_session
from core.detainees.models import Detainee
from core.detainees.services import get_detainee, lock_detainee, locked_detainees
from core.errors import Conflict, DomainError, NotFound, ValidationFailed
from core.identity.models import User
from core.identity.services import require
from core.principals import Principal
from core.scoping import read_columns
from core.validation import NATIONAL_ID_RE, ascii_digits

from ..models import (
    Booking,
    BookingStatus,
    Companion,
    Relation,
    RelationStatus,
    Slot,
    SlotStatus,
    VisitRules,
)
from .bans import ban_in_force, find_visitor, refuse_banned_companions
from .capacity import (
    PLACES_PER_BOOKING,
    _check_visitor_share,
    _take_place,
    _take_quota,
    quota_for,
)
from .common import _fail, _int, _staff, age_on, local_date, week_start
from .labels import CANCELLED_BY_ESTABLISHMENT, CANCELLED_BY_VISITOR, status_label
from .notify import _notify_cancelled, _notify_confirmation
from .references import draw_reference
from .rules import get_rules
from .slots import get_slot
from .transitions import ACTIVE_STATUSES, _transition


@dataclass
class CompanionIn:
    full_name: str
    national_id: str = ""
    birth_date: dt.date | None = None
    is_adult: bool | None = None


@dataclass
class Party:
    adults: int
    children: int
    companions: list[CompanionIn] = field(default_factory=list)


EARLIEST_BIRTH = dt.date(1900, 1, 1)


def _has_control(text: str) -> bool:
    """NUL, CR, LF and the other control characters: no name has them (and PostgreSQL cannot
    store a NUL)."""
    return any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in text)


def _check_party(
    companions: Sequence[CompanionIn], extra_children: int, rules: VisitRules, day: dt.date
) -> Party:
    errors: dict[str, str] = {}
    adults, children = 1, max(0, int(extra_children or 0))
    for i, comp in enumerate(companions):
        name = (comp.full_name or "").strip()
        if not name:
            errors[f"companions.{i}.full_name"] = _("This field is required.")
        elif len(name) > 200:
            errors[f"companions.{i}.full_name"] = _("This text is too long.")
        elif _has_control(name):
            errors[f"companions.{i}.full_name"] = _("Enter the name on one line.")
        comp.full_name = name
        if comp.is_adult is None:
            if comp.birth_date is None:
                errors[f"companions.{i}.birth_date"] = _("This field is required.")
                continue
            if comp.birth_date > day:
                errors[f"companions.{i}.birth_date"] = _("Enter a date in the past.")
                continue
            if comp.birth_date < EARLIEST_BIRTH:
                errors[f"companions.{i}.birth_date"] = _("Enter a real birth date.")
                continue
            comp.is_adult = age_on(comp.birth_date, day) >= rules.adult_age
        comp.national_id = ascii_digits(comp.national_id or "").strip().upper()
        if comp.is_adult:
            adults += 1
            if not NATIONAL_ID_RE.match(comp.national_id):
                errors[f"companions.{i}.national_id"] = _(
                    "Enter the national identity card number, e.g. BE123456."
                )
        else:
            children += 1
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    if adults > rules.max_adults or children > rules.max_children:
        raise _fail(
            _(
                "Too many visitors: at most %(adults)s and %(children)s per visit.",
                adults=ngettext("%(num)d adult", "%(num)d adults", rules.max_adults),
                children=ngettext("%(num)d child", "%(num)d children", rules.max_children),
            ),
            "too_many_visitors",
            {"companions": _("Too many visitors.")},
        )
    return Party(adults, children, list(companions))


def _window_error(slot: Slot, rules: VisitRules, now: dt.datetime) -> DomainError | None:
    if slot.starts_at > now + dt.timedelta(days=rules.window_open_days):
        return _fail(
            ngettext(
                "Booking for this time is not open yet (%(num)d day ahead).",
                "Booking for this time is not open yet (%(num)d days ahead).",
                rules.window_open_days,
            ),
            "window_not_open",
            {"slot_id": _("Booking is not open yet.")},
        )
    if slot.starts_at < now + dt.timedelta(hours=rules.window_close_hours):
        return _fail(
            ngettext(
                "Booking for this time is closed (%(num)d hour before).",
                "Booking for this time is closed (%(num)d hours before).",
                rules.window_close_hours,
            ),
            "window_closed",
            {"slot_id": _("Booking is closed.")},
        )
    return None


@built_once
def _linked_and_locked() -> Any:
    return locked_detainees(
        select(Detainee)
        .join(Relation, Relation.detainee_id == Detainee.id)
        .where(
            Detainee.registration_number == bindparam("rn"),
            Relation.visitor_id == bindparam("visitor_id"),
            Relation.status == RelationStatus.approved,
        )
    )


@built_once
def _active_booking_at() -> Any:
    # the statuses written into the SQL, not sent as parameters: PostgreSQL's plan for the
    # prepared statement must see that they are the live ones to use the partial unique index
    # (slot, detainee) WHERE status IN ('confirmed', 'checked_in'); with parameters its
    # generic plan read every live booking of the slot (1.3 ms of PostgreSQL's CPU per booking
    # on a busy slot, against 0.2 ms)
    live = bindparam(
        "live",
        list(ACTIVE_STATUSES),
        expanding=True,
        literal_execute=True,
        type_=Booking.status.type,
    )
    return select(Booking.id).where(
        Booking.slot_id == bindparam("slot_id"),
        Booking.detainee_id == bindparam("detainee_id"),
        Booking.status.in_(live),
    )


def _linked_detainee(visitor: User, registration_number: str) -> Detainee:
    """The detainee a family member is linked to (an approved relation), found through the
    link itself and locked by the same statement (``locked_detainees``): the first step of
    the lock order, so a move or a release of this detainee and this booking run one after
    the other."""
    det = db_session().scalar(
        _linked_and_locked(),
        {"rn": (registration_number or "").strip(), "visitor_id": visitor.id},
    )
    if det is None:
        raise _fail(
            _("You are not linked to this detainee."),
            "not_linked",
            {"detainee": _("You are not linked to this detainee.")},
        )
    return det


def book(
    visitor: User,
    slot_id: Any,
    registration_number: str,
    companions: Sequence[CompanionIn] = (),
    *,
    now: dt.datetime | None = None,
) -> Booking:
    """A family member books a visit — from the page and from the API alike: every companion
    with a birth date, adult or child decided here (age on the visit day). Raises 422 for a
    broken rule, 409 ``slot_full``."""
    require(visitor, "visits.book")
    now = now or utcnow()
    det = _linked_detainee(visitor, registration_number)
    if det.is_released:
        raise _fail(
            _("This detainee has been released."),
            "detainee_released",
            {"detainee": _("This detainee has been released.")},
        )
    try:
        slot = get_slot(int(slot_id))
    except (TypeError, ValueError, NotFound):
        raise _fail(
            _("This visiting time does not exist."),
            "slot_not_found",
            {"slot_id": _("This visiting time does not exist.")},
        ) from None
    if slot.establishment_id != det.establishment_id:
        raise _fail(
            _("This detainee is not held at this establishment."),
            "detainee_elsewhere",
            {"slot_id": _("This detainee is not held at this establishment.")},
        )
    if slot.status != SlotStatus.open:
        raise _fail(
            _("This visiting time was cancelled."),
            "slot_cancelled",
            {"slot_id": _("This visiting time was cancelled.")},
        )
    slot_day = local_date(slot.starts_at)
    if ban_in_force(visitor.id, slot.establishment_id, slot_day):
        raise _fail(
            _("You may not book visits at this establishment at the moment."),
            "visitor_banned",
        )
    rules = get_rules(slot.establishment_id)
    problem = _window_error(slot, rules, now)
    if problem is not None:
        raise problem
    duplicate = read_columns(
        _active_booking_at(), {"slot_id": slot.id, "detainee_id": det.id}
    ).first()
    if duplicate is not None:
        raise Conflict(
            _("A visit to this detainee is already booked at this time."), code="already_booked"
        )
    # the per-visitor share (issue 10 point 6), counted under the detainee's lock taken above
    _check_visitor_share(visitor.id, det, week_start(slot.starts_at), rules)
    party = _check_party(companions, 0, rules, slot_day)
    refuse_banned_companions(party.companions, slot.establishment_id, slot_day)
    return _create_booking(
        slot=slot,
        detainee=det,
        visitor=visitor,
        visitor_name=visitor.full_name,
        visitor_national_id=visitor.national_id or "",
        party=party,
        rules=rules,
        status=BookingStatus.confirmed,
        actor=visitor,
    )


_REFERENCE_DRAWS = 5  # a reference taken twice in a row is one chance in 10^23


@built_once
def _booking_with_reference() -> Any:
    # the table's columns, not the entity: any family's booking counts, whoever asks (the
    # query scoping applies to entities)
    table = Booking.__table__
    return select(table.c.id).where(table.c.reference == bindparam("reference"))


def _create_booking(
    *,
    slot: Slot,
    detainee: Detainee,
    visitor: User | None,
    visitor_name: str,
    visitor_national_id: str,
    party: Party,
    rules: VisitRules,
    status: BookingStatus,
    actor: Principal,
    walk_in: bool = False,
) -> Booking:
    sess = db_session()
    # the contended row first (a full slot answers 409 fast), then the quota row
    _take_place(slot)
    week = week_start(slot.starts_at)
    _take_quota(detainee, week, quota_for(detainee, rules))
    booking = Booking(
        reference=draw_reference(),
        slot_id=slot.id,
        establishment_id=slot.establishment_id,
        detainee_id=detainee.id,
        visitor_id=visitor.id if visitor is not None else None,
        visitor_name=visitor_name[:200],
        visitor_national_id=visitor_national_id[:20],
        adults=party.adults,
        children=party.children,
        places=PLACES_PER_BOOKING,
        week_start=week,
        status=status,
        walk_in=walk_in,
        checked_in_at=utcnow() if status == BookingStatus.checked_in else None,
    )
    # one INSERT … ON CONFLICT DO NOTHING, not a savepoint and a flush: a booking racing this
    # one for the same detainee and slot (the unique index of live bookings) or a reference
    # already given leaves nothing written, and the transaction goes on
    for attempt in range(_REFERENCE_DRAWS):
        if insert_loaded(sess, booking, unless_duplicate=True):
            break
        if sess.scalar(_booking_with_reference(), {"reference": booking.reference}) is None:
            raise Conflict(
                _("A visit to this detainee is already booked at this time."),
                code="already_booked",
            )
        if attempt + 1 == _REFERENCE_DRAWS:
            raise RuntimeError(f"{_REFERENCE_DRAWS} booking references drawn, all taken")
        booking.reference = draw_reference()  # a reference already given: draw again
    companions = [
        Companion(
            booking_id=booking.id,
            full_name=c.full_name,
            national_id=c.national_id,
            birth_date=c.birth_date,
            is_adult=bool(c.is_adult),
        )
        for c in party.companions
    ]
    sess.add_all(companions)  # written with the transaction's next flush
    set_committed_value(booking, "companions", companions)
    audit.record(
        "visits.booking.walk_in" if walk_in else "visits.booking.create",
        "visits_booking",
        booking.reference,
        establishment_id=slot.establishment_id,
        summary={
            "slot": slot.id,
            "detainee": detainee.registration_number,
            "adults": party.adults,
            "children": party.children,
            "status": status,
        },
        actor=actor,
    )
    if visitor is not None and not walk_in:
        _notify_confirmation(booking)
    return booking


def walk_in(
    actor: User,
    slot: Slot,
    registration_number: str,
    visitor_name: str,
    visitor_national_id: str,
    adults: Any = 1,
    children: Any = 0,
    now: dt.datetime | None = None,
) -> Booking:
    """A family turns up at the gate: book (and check in) if the session has places left."""
    _staff(actor, "visits.gate", slot.establishment_id)
    now = now or utcnow()
    errors: dict[str, str] = {}
    name = (visitor_name or "").strip()
    national_id = ascii_digits(visitor_national_id or "").strip().upper()
    if not name:
        errors["visitor_name"] = _("This field is required.")
    elif _has_control(name):
        errors["visitor_name"] = _("Enter the name on one line.")
    if not NATIONAL_ID_RE.match(national_id):
        errors["visitor_national_id"] = _("Enter the national identity card number, e.g. BE123456.")
    rules = get_rules(slot.establishment_id)
    n_adults = _int(adults, "adults", errors, 1, rules.max_adults)
    n_children = _int(children, "children", errors, 0, rules.max_children)
    det = None
    try:
        det = lock_detainee(get_detainee((registration_number or "").strip(), actor))
    except NotFound:
        errors["detainee"] = _("No detainee with this registration number.")
    if det is not None and (det.is_released or det.establishment_id != slot.establishment_id):
        errors["detainee"] = _("This detainee is not held at this establishment.")
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    assert det is not None and n_adults is not None and n_children is not None
    if (
        slot.status != SlotStatus.open
        or slot.ends_at <= now
        or local_date(slot.starts_at) != local_date(now)
    ):
        raise _fail(
            _("Walk-ins are only taken for today's sessions that have not ended."),
            "walk_in_closed",
        )
    account = find_visitor(national_id)
    if account is not None and ban_in_force(account.id, slot.establishment_id, local_date(now)):
        raise _fail(
            _("This visitor is banned from this establishment."),
            "visitor_banned",
            {"visitor_national_id": _("This visitor is banned from this establishment.")},
        )
    # one live visit per detainee and session, walk-ins included (issue 10 point 5): the
    # family already booked joins that visit; the unique index refuses a racing second one
    if _live_booking_in(slot, det) is not None:
        raise Conflict(
            _("A visit to this detainee is already booked at this time."), code="already_booked"
        )
    party = Party(n_adults, n_children, [])
    return _create_booking(
        slot=slot,
        detainee=det,
        visitor=account,
        visitor_name=name,
        visitor_national_id=national_id,
        party=party,
        rules=rules,
        status=BookingStatus.checked_in,
        actor=actor,
        walk_in=True,
    )


def _live_booking_in(slot: Slot, detainee: Detainee) -> int | None:
    return db_session().scalar(
        select(Booking.id).where(
            Booking.slot_id == slot.id,
            Booking.detainee_id == detainee.id,
            Booking.status.in_(ACTIVE_STATUSES),
        )
    )


def cancel_booking(
    actor: User, booking: Booking, reason: str = "", now: dt.datetime | None = None
) -> Booking:
    """The visitor cancels before the deadline; visits staff until the visit starts (the
    family is then told why)."""
    now = now or utcnow()
    own = booking.visitor_id == actor.id
    staff = not own
    if staff:
        _staff(actor, "visits.gate", booking.establishment_id)
    if booking.status != BookingStatus.confirmed:
        raise Conflict(
            _(
                "A visit that is %(old)s cannot become %(new)s.",
                old=status_label(booking.status),
                new=status_label(BookingStatus.cancelled),
            ),
            code="invalid_transition",
        )
    slot = booking.slot
    if own:
        rules = get_rules(booking.establishment_id)
        if now > slot.starts_at - dt.timedelta(hours=rules.cancel_deadline_hours):
            raise _fail(
                ngettext(
                    "Visits can be cancelled until %(num)d hour before they start.",
                    "Visits can be cancelled until %(num)d hours before they start.",
                    rules.cancel_deadline_hours,
                ),
                "cancel_deadline_passed",
            )
        _transition(
            booking,
            BookingStatus.cancelled,
            actor,
            (reason or "").strip() or CANCELLED_BY_VISITOR,
        )
    else:
        if now >= slot.starts_at:
            raise _fail(_("This visit has already started."), "visit_started")
        reason = (reason or "").strip() or CANCELLED_BY_ESTABLISHMENT
        _transition(booking, BookingStatus.cancelled, actor, reason)
        _notify_cancelled(booking, reason)
    return booking
