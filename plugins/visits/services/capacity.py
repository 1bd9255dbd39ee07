"""Places in a slot and a detainee's weekly quota: counters the database guards itself.

A place is taken with ``UPDATE visits_slots SET booked = booked + :n WHERE id = :id AND booked +
:n <= capacity RETURNING booked`` and a quota unit with one upsert, ``INSERT INTO
visits_quota_counters … VALUES (…, 1) ON CONFLICT (detainee_id, week_start) DO UPDATE SET used =
used + 1 WHERE used < :quota RETURNING used``; no row back means "full". Both are exact under
concurrency on SQLite (every transaction is ``BEGIN IMMEDIATE``) and PostgreSQL (the row lock of
the UPDATE, or of the conflicting row, then the condition re-checked on the committed row).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm.attributes import set_committed_value

from core.db import session as db_session
from core.detainees.models import Detainee, LegalStatus
from core.errors import Conflict

from ..models import Booking, BookingStatus, QuotaCounter, Slot, VisitRules
from .common import _dialect, _fail, insert_for

PLACES_PER_BOOKING = 1  # a place is one visiting table: one family, whatever its size


def quota_for(detainee: Detainee, rules: VisitRules) -> int:
    if detainee.legal_status == LegalStatus.pretrial:
        return int(rules.quota_pretrial)
    return int(rules.quota_convicted)


def _take_place(slot: Slot, places: int = PLACES_PER_BOOKING) -> None:
    """Take places in a slot, or raise 409 ``slot_full`` — exact under concurrency."""
    booked = (
        db_session()
        .connection()
        .scalar(
            text(
                "UPDATE visits_slots SET booked = booked + :n "
                "WHERE id = :id AND status = 'open' AND booked + :n <= capacity RETURNING booked"
            ),
            {"n": places, "id": slot.id},
        )
    )
    if booked is None:
        raise Conflict(_("This visiting time is full."), code="slot_full")
    # the count the database now holds, without reading the slot again
    set_committed_value(slot, "booked", booked)


def _release_place(slot_id: int, places: int) -> None:
    db_session().execute(
        text("UPDATE visits_slots SET booked = booked - :n WHERE id = :id AND booked >= :n"),
        {"n": places, "id": slot_id},
    )
    sess = db_session()
    cached = sess.identity_map.get(sess.identity_key(Slot, slot_id))
    if cached is not None:
        sess.expire(cached, ["booked"])


@functools.cache
def _quota_upsert(dialect: str) -> Any:
    """The weekly quota's upsert, built once per dialect (as ``core.db.built_once`` keeps a
    statement): building it cost a third of running it on every booking. On the table, not
    the mapped class: an ORM-enabled ``INSERT … RETURNING`` goes through the ORM's bulk
    insert machinery, twice the instructions of the same statement sent by Core."""
    table = QuotaCounter.__table__
    return (
        insert_for(dialect)(table)
        .values(detainee_id=bindparam("detainee_id"), week_start=bindparam("week"), used=1)
        .on_conflict_do_update(
            index_elements=["detainee_id", "week_start"],
            set_={"used": table.c.used + 1},
            where=table.c.used < bindparam("quota"),
        )
        .returning(table.c.used)
    )


def _take_quota(detainee: Detainee, week: dt.date, quota: int) -> None:
    """Count one visit against the detainee's weekly quota, or raise 422 ``quota_reached``."""
    used = None
    if quota > 0:
        used = (
            db_session()
            .connection()
            .scalar(
                _quota_upsert(_dialect()),
                {"detainee_id": detainee.id, "week": week, "quota": quota},
            )
        )
    if used is None:
        raise _fail(
            ngettext(
                "This detainee has no visits left that week (%(num)d visit per week).",
                "This detainee has no visits left that week (%(num)d visits per week).",
                quota,
            ),
            "quota_reached",
            {"slot_id": _("No visits left that week.")},
        )


def _release_quota(detainee_id: int, week: dt.date) -> None:
    db_session().execute(
        text(
            "UPDATE visits_quota_counters SET used = used - 1 "
            "WHERE detainee_id = :d AND week_start = :w AND used > 0"
        ),
        {"d": detainee_id, "w": week},
    )


def visitor_share_used(visitor_id: int, detainee_id: int, week: dt.date) -> int:
    """The visits of one detainee's week that one family account holds: every booking of that
    week not cancelled (a cancelled one gave its quota unit back), walk-ins of the account
    included."""
    return int(
        db_session().scalar(
            select(func.count())
            .select_from(Booking)
            .where(
                Booking.visitor_id == visitor_id,
                Booking.detainee_id == detainee_id,
                Booking.week_start == week,
                Booking.status != BookingStatus.cancelled,
            )
        )
        or 0
    )


def _check_visitor_share(
    visitor_id: int, detainee: Detainee, week: dt.date, rules: VisitRules
) -> None:
    """One family account may book at most ``rules.max_weekly_per_visitor`` of a detainee's
    weekly visits (none = no share), or 422 ``visitor_share_reached``.

    Exact under concurrency only because the caller holds the detainee's row lock
    (``lock_detainee``, the first step of every booking): two bookings of the same detainee
    count one after the other.
    """
    share = rules.max_weekly_per_visitor
    if share is None:
        return
    if visitor_share_used(visitor_id, detainee.id, week) >= share:
        raise _fail(
            _(
                "You have already booked your share of this detainee's visits that week "
                "(%(n)d per family account), so that other relatives can visit too.",
                n=share,
            ),
            "visitor_share_reached",
            {"slot_id": _("No visits left for you that week.")},
        )
