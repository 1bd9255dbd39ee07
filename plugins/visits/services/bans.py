"""Bans: a person may not visit an establishment for a while.

A ban is by person, not by account (issue 10 point 4): it holds the banned national identity
card number, and bars every visitor account with that number, and every companion named with
it, at booking (page and API) and at the gate (check-in and walk-in).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Integer, bindparam, or_, select

from core.audit import services as audit
from core.db import built_once, utcnow
from core.db import session as db_session
from core.errors import Conflict, NotFound, ValidationFailed
from core.establishments.models import Establishment
from core.i18n import lazy_gettext as _l
from core.identity.models import User
from core.identity.services import require
from core.principals import Principal
from core.scoping import read_columns, scope

from ..models import Ban, Booking, BookingStatus, Slot
from .common import _fail, _parse_date, _staff, local_date, local_moment
from .transitions import _cancel_bookings


def find_visitor(national_id_or_username: str) -> User | None:
    key = (national_id_or_username or "").strip()
    if not key:
        return None
    for user in db_session().scalars(
        select(User)
        .where(or_(User.national_id == key.upper(), User.username == key))
        .order_by(User.id)
    ):
        if user.is_visitor:
            return user
    return None


def _in_force(establishment_id: Any, day: Any) -> list[Any]:
    return [
        Ban.establishment_id == establishment_id,
        Ban.lifted_at.is_(None),
        or_(Ban.ends_on.is_(None), Ban.ends_on >= day),
    ]


def ban_in_force(visitor_id: int, establishment_id: int, day: dt.date) -> bool:
    """Whether a ban in force on ``day`` bars this account: made on it, or on its national id
    (answered from the ban's id: no ``Ban`` built, read by Core as the session would scope
    it)."""
    params = {"visitor_id": visitor_id, "establishment_id": establishment_id, "day": day}
    return read_columns(_ban_id_of_account(), params).first() is not None


@built_once
def _ban_id_of_account() -> Any:
    # one query: the account's own number, read in a subquery (NULL matches nothing)
    visitor_id = bindparam("visitor_id", type_=Integer)
    national_id = select(User.national_id).where(User.id == visitor_id).scalar_subquery()
    who = or_(Ban.visitor_id == visitor_id, Ban.national_id == national_id)
    return (
        select(Ban.id)
        .where(who, *_in_force(bindparam("establishment_id"), bindparam("day")))
        .order_by(Ban.id)
        .limit(1)
    )


def banned_national_ids(
    national_ids: Iterable[str], establishment_id: int, day: dt.date
) -> set[str]:
    """Which of these national identity card numbers a ban in force on ``day`` names."""
    wanted = sorted({n.strip().upper() for n in national_ids if n and n.strip()})
    if not wanted:
        return set()
    return set(
        db_session().scalars(
            select(Ban.national_id).where(
                Ban.national_id.in_(wanted), *_in_force(establishment_id, day)
            )
        )
    )


def refuse_banned_companions(
    companions: Sequence[Any], establishment_id: int, day: dt.date
) -> None:
    """A booking may not name a banned person as a companion (422 ``companion_banned``)."""
    banned = banned_national_ids((c.national_id or "" for c in companions), establishment_id, day)
    if not banned:
        return
    message = _("This person may not visit this establishment at the moment.")
    raise _fail(
        _("A companion may not visit this establishment at the moment."),
        "companion_banned",
        {
            f"companions.{i}.national_id": message
            for i, c in enumerate(companions)
            if (c.national_id or "").strip().upper() in banned
        },
    )


def refuse_banned_at_gate(booking: Booking, day: dt.date) -> None:
    """At check-in: the visitor and every companion, by account and by national id."""
    people = [(booking.visitor_name, booking.visitor_national_id or "")]
    people += [(c.full_name, c.national_id or "") for c in booking.companions]
    banned = banned_national_ids((cin for _name, cin in people), booking.establishment_id, day)
    names = [name for name, cin in people if cin and cin.strip().upper() in banned]
    if booking.visitor_id is not None and ban_in_force(
        booking.visitor_id, booking.establishment_id, day
    ):
        names.insert(0, booking.visitor_name)
    if names:
        listed = ", ".join(dict.fromkeys(names))
        raise _fail(
            _("Banned from this establishment, may not come in: %(names)s.", names=listed),
            "visitor_banned",
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
    national_id = (visitor.national_id or "").strip().upper() or None
    ban = Ban(
        visitor_id=visitor.id,
        national_id=national_id,
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
            # every account of this person (their bookings carry their national id), walk-ins too
            or_(Booking.visitor_id == visitor.id, Booking.visitor_national_id == national_id)
            if national_id
            else Booking.visitor_id == visitor.id,
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
            "national_id": national_id,
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
