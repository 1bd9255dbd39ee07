"""The figures: counts by category, establishment, status and outcome, the median answer time,
the share answered on time and the trend over 12 months — over the complaints the reader sees
(their establishments; confidential ones only for those who may see them)."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from core.db import session as db_session
from core.establishments.models import Establishment
from core.principals import Principal

from .access import staff_select
from .calendar import local_day, local_today


@dataclass
class Figures:
    total: int = 0
    by_category: list[tuple[str, int]] = field(default_factory=list)
    by_establishment: list[tuple[Establishment, int]] = field(default_factory=list)
    by_status: list[tuple[str, int]] = field(default_factory=list)
    by_outcome: list[tuple[str, int]] = field(default_factory=list)
    answered: int = 0
    answered_on_time: int = 0
    median_answer_days: float | None = None
    months: list[tuple[dt.date, int]] = field(default_factory=list)

    @property
    def on_time_share(self) -> float | None:
        return self.answered_on_time / self.answered if self.answered else None


def _months(today: dt.date) -> list[dt.date]:
    first = today.replace(day=1)
    out = []
    for _i in range(12):
        out.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return list(reversed(out))


def figures(user: Principal) -> Figures:
    sub = staff_select(user).subquery()
    sess = db_session()
    result = Figures()

    def grouped(column: Any) -> list[tuple[Any, int]]:
        rows = sess.execute(
            select(column, func.count())
            .select_from(sub)
            .group_by(column)
            .order_by(func.count().desc(), column)
        )
        return [(r[0], int(r[1])) for r in rows]

    result.total = int(sess.scalar(select(func.count()).select_from(sub)) or 0)
    result.by_category = grouped(sub.c.category)
    result.by_status = [
        (str(s.value if hasattr(s, "value") else s), n) for s, n in grouped(sub.c.status)
    ]
    result.by_outcome = [
        (str(o.value if hasattr(o, "value") else o), n)
        for o, n in grouped(sub.c.outcome)
        if (o.value if hasattr(o, "value") else o)
    ]
    ests = grouped(sub.c.establishment_id)
    by_id = {
        e.id: e
        for e in sess.scalars(
            select(Establishment).where(Establishment.id.in_([i for i, _n in ests]))
        )
    }
    result.by_establishment = [(by_id[i], n) for i, n in ests if i in by_id]
    # answer times (first answer), on time = answered on or before the due date set at filing
    rows = sess.execute(
        select(sub.c.received_at, sub.c.first_answered_at, sub.c.first_due_on).where(
            sub.c.first_answered_at.is_not(None)
        )
    ).all()
    days = []
    for received, answered, due in rows:
        days.append((answered - received).total_seconds() / 86400)
        result.answered += 1
        if local_day(answered) <= due:
            result.answered_on_time += 1
    result.median_answer_days = statistics.median(days) if days else None
    # the trend: complaints received per month over the last 12 months (local months)
    months = _months(local_today())
    counts = dict.fromkeys(months, 0)
    start = months[0]
    earliest = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC) - dt.timedelta(days=1)
    for (received,) in sess.execute(select(sub.c.received_at).where(sub.c.received_at >= earliest)):
        day = local_day(received)
        if day >= start:
            counts[day.replace(day=1)] += 1
    result.months = sorted(counts.items())
    return result
