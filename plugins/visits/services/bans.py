"""Bans: a visitor may not book at an establishment for a while."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from core.audit import services as audit
from core.db import session as db_session
from core.db import utcnow
from core.errors import Conflict, NotFound, ValidationFailed
from core.establishments.models import Establishment
from core.identity.models import User
from core.identity.services import require
from core.principals import Principal
from core.scoping import scope

from ..models import Ban, Booking, BookingStatus, Slot
from .common import _parse_date, _staff, local_date, local_moment
from .transitions import _cancel_bookings


def find_visitor(national_id_or_username: str) -> User | None:
    key = (national_id_or_username or "").strip()
    if not key:
        return None
    user = db_session().scalar(
        select(User).where(or_(User.national_id == key.upper(), User.username == key))
    )
    return user if user is not None and user.is_visitor else None


def active_ban(visitor_id: int, establishment_id: int, day: dt.date) -> Ban | None:
    return db_session().scalar(
        select(Ban).where(
            Ban.visitor_id == visitor_id,
            Ban.establishment_id == establishment_id,
            Ban.lifted_at.is_(None),
            or_(Ban.ends_on.is_(None), Ban.ends_on >= day),
        )
    )


def ban_visitor(
    actor: Principal,
    visitor: User | None,
    establishment: Establishment,
    reason: str,
    ends_on: Any = None,
) -> Ban:
    """Ban a visitor from an establishment; their future bookings there are cancelled."""
    _staff(actor, "visits.manage", establishment.id)
    errors: dict[str, str] = {}
    if visitor is None or not visitor.is_visitor:
        errors["visitor"] = _("No family account with this national identity card number.")
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _("Give a reason.")
    elif len(reason) > 300:
        errors["reason"] = _("This text is too long.")
    end = _parse_date(ends_on, "ends_on", errors)
    if end is not None and end < local_date(utcnow()):
        errors["ends_on"] = _("Choose a date from today on.")
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    assert visitor is not None
    ban = Ban(
        visitor_id=visitor.id,
        establishment_id=establishment.id,
        reason=reason,
        ends_on=end,
        created_by_id=actor.id,
    )
    db_session().add(ban)
    db_session().flush()
    stmt = (
        select(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(
            Booking.visitor_id == visitor.id,
            Booking.establishment_id == establishment.id,
            Booking.status == BookingStatus.confirmed,
            Slot.starts_at > utcnow(),
        )
    )
    if end is not None:
        stmt = stmt.where(Slot.starts_at < local_moment(end + dt.timedelta(days=1), "00:00"))
    count = _cancel_bookings(stmt, actor, _l("Visitor banned"))
    audit.record(
        "visits.ban.create",
        "visits_ban",
        ban.id,
        establishment_id=establishment.id,
        summary={
            "visitor": visitor.username,
            "reason": reason,
            "ends_on": end.isoformat() if end else None,
            "bookings_cancelled": count,
        },
        actor=actor,
    )
    return ban


def lift_ban(actor: User, ban_id: int) -> Ban:
    ban = db_session().get(Ban, ban_id)
    if ban is None:
        raise NotFound(_("This ban does not exist."))
    _staff(actor, "visits.manage", ban.establishment_id)
    if ban.lifted_at is not None:
        raise Conflict(_("This ban was already lifted."), code="already_lifted")
    ban.lifted_at = utcnow()
    audit.record(
        "visits.ban.lift", "visits_ban", ban.id, establishment_id=ban.establishment_id, actor=actor
    )
    return ban


def bans_of(actor: User) -> list[Ban]:
    require(actor, "visits.manage")
    stmt = (
        select(Ban)
        .where(
            Ban.lifted_at.is_(None), or_(Ban.ends_on.is_(None), Ban.ends_on >= local_date(utcnow()))
        )
        .order_by(Ban.created_at.desc())
        .limit(200)
    )
    return list(db_session().scalars(scope(stmt, Ban.establishment_id, actor)))
