"""The figures of the dashboard widget: today, the coming week, no-shows over 30 days."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from core.db import session as db_session
from core.db import utcnow
from core.identity.models import User
from core.scoping import scope

from ..models import Booking, BookingStatus, Slot, SlotStatus
from .common import local_date, local_moment
from .transitions import OUTCOMES


@dataclass
class Stats:
    today_bookings: int
    today_capacity: int
    fill_rate: float  # next 7 days
    no_show_rate: float  # last 30 days
    daily_no_show: list[tuple[dt.date, int]]  # percent per day, last 30 days


def dashboard_stats(user: User, now: dt.datetime | None = None) -> Stats:
    now = now or utcnow()
    sess = db_session()
    today = local_date(now)
    t0 = local_moment(today, "00:00")
    t1 = local_moment(today + dt.timedelta(days=1), "00:00")

    def scoped(stmt: Any, column: Any) -> Any:
        return scope(stmt, column, user)

    today_bookings = (
        sess.scalar(
            scoped(
                select(func.count(Booking.id))
                .join(Slot, Slot.id == Booking.slot_id)
                .where(
                    Slot.starts_at >= t0,
                    Slot.starts_at < t1,
                    Booking.status != BookingStatus.cancelled,
                ),
                Booking.establishment_id,
            )
        )
        or 0
    )
    today_capacity = (
        sess.scalar(
            scoped(
                select(func.coalesce(func.sum(Slot.capacity), 0)).where(
                    Slot.starts_at >= t0, Slot.starts_at < t1, Slot.status == SlotStatus.open
                ),
                Slot.establishment_id,
            )
        )
        or 0
    )
    week_end = local_moment(today + dt.timedelta(days=7), "00:00")
    booked, capacity = sess.execute(
        scoped(
            select(
                func.coalesce(func.sum(Slot.booked), 0), func.coalesce(func.sum(Slot.capacity), 0)
            ).where(
                Slot.starts_at >= t0, Slot.starts_at < week_end, Slot.status == SlotStatus.open
            ),
            Slot.establishment_id,
        )
    ).one()
    start30 = local_moment(today - dt.timedelta(days=29), "00:00")
    rows = sess.execute(
        scoped(
            select(Slot.starts_at, Booking.status)
            .join(Slot, Slot.id == Booking.slot_id)
            .where(
                Slot.starts_at >= start30,
                Slot.starts_at < t1,
                Booking.status.in_((BookingStatus.no_show, BookingStatus.checked_in, *OUTCOMES)),
            ),
            Booking.establishment_id,
        )
    ).all()
    per_day: dict[dt.date, list[int]] = {}
    for starts_at, status in rows:
        counts = per_day.setdefault(local_date(starts_at), [0, 0])
        counts[1] += 1
        if status == BookingStatus.no_show:
            counts[0] += 1
    total = sum(c[1] for c in per_day.values())
    shows = sum(c[0] for c in per_day.values())
    daily = []
    for i in range(30):
        day = today - dt.timedelta(days=29 - i)
        no, all_ = per_day.get(day, [0, 0])
        daily.append((day, round(100 * no / all_) if all_ else 0))
    return Stats(
        today_bookings=int(today_bookings),
        today_capacity=int(today_capacity),
        fill_rate=(int(booked) / int(capacity)) if capacity else 0.0,
        no_show_rate=(shows / total) if total else 0.0,
        daily_no_show=daily,
    )
