"""The shop's figures: the dashboard card, the figures page and the detainee's panel."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from core.db import session as db_session
from core.i18n import local_zone
from core.scoping import establishment_ids
from idmaj_purchasing.models import Order, OrderLine, OrderStatus
from idmaj_purchasing.services.common import now


@dataclass
class Figures:
    to_prepare: int
    awaiting_payment: int
    to_deliver: int
    delivered_30d: int
    value_30d: int
    by_status: dict[str, int]
    days: list[tuple[dt.date, int]]
    top: list[tuple[str, str, int]]


def _scoped(stmt: Any, user: Any) -> Any:
    ids = establishment_ids(user)
    if ids is not None:
        stmt = stmt.where(Order.establishment_id.in_(sorted(ids)))
    return stmt


def figures(user: Any, days: int = 30) -> Figures:
    """Counts by status, the value delivered and orders placed per day over ``days`` days."""
    sess = db_session()
    since = now() - dt.timedelta(days=days)
    by_status = {
        str(s): int(n)
        for s, n in sess.execute(
            _scoped(select(Order.status, func.count()).group_by(Order.status), user)
        )
    }
    delivered = sess.execute(
        _scoped(
            select(func.count(), func.coalesce(func.sum(Order.total_centimes), 0)).where(
                Order.status == OrderStatus.delivered, Order.closed_at >= since
            ),
            user,
        )
    ).one()
    zone = local_zone()
    per_day: dict[dt.date, int] = {}
    for (placed,) in sess.execute(
        _scoped(select(Order.placed_at).where(Order.placed_at >= since), user)
    ):
        day = placed.astimezone(zone).date()
        per_day[day] = per_day.get(day, 0) + 1
    today = now().astimezone(zone).date()
    series = [
        (today - dt.timedelta(days=i), per_day.get(today - dt.timedelta(days=i), 0))
        for i in range(days - 1, -1, -1)
    ]
    top = sess.execute(
        _scoped(
            select(OrderLine.name_fr, OrderLine.name_ar, func.sum(OrderLine.quantity))
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.status == OrderStatus.delivered, Order.closed_at >= since)
            .group_by(OrderLine.name_fr, OrderLine.name_ar)
            .order_by(func.sum(OrderLine.quantity).desc(), OrderLine.name_fr)
            .limit(5),
            user,
        )
    ).all()
    return Figures(
        to_prepare=by_status.get("paid", 0),
        awaiting_payment=by_status.get("awaiting_payment", 0),
        to_deliver=by_status.get("prepared", 0),
        delivered_30d=int(delivered[0]),
        value_30d=int(delivered[1]),
        by_status=by_status,
        days=series,
        top=[(fr, ar, int(q)) for fr, ar, q in top],
    )
