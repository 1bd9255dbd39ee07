"""The figures: counts by category, establishment, status and outcome, the median answer time,
the share answered on time and the trend over 12 months — over the complaints the reader sees
(their establishments; confidential ones only for those who may see them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Date, and_, case, cast, false, func, select

from core.db import session as db_session
from core.establishments.models import Establishment
from core.i18n import local_zone
from core.principals import Principal

from .access import staff_select
from .calendar import local_today


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


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def local_midnight(day: dt.date) -> dt.datetime:
    """The UTC instant the local ``day`` begins (the calendar's zone, daylight saving and
    Ramadan time included)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=local_zone()).astimezone(dt.UTC)


def _dialect() -> str:
    return db_session().get_bind().dialect.name


def _grouped(sub: Any, column: Any) -> list[tuple[Any, int]]:
    rows = db_session().execute(
        select(column, func.count())
        .select_from(sub)
        .group_by(column)
        .order_by(func.count().desc(), column)
    )
    return [(r[0], int(r[1])) for r in rows]


def _code(value: Any) -> str:
    return str(value.value if hasattr(value, "value") else value)


def _trend(sub: Any, months: list[dt.date]) -> list[tuple[dt.date, int]]:
    """Complaints received per local month: the month boundaries (local midnights, in UTC)
    are computed here, the counting is a ``GROUP BY`` over a ``CASE`` in SQL."""
    bounds = [local_midnight(m) for m in months] + [local_midnight(_next_month(months[-1]))]
    bucket = case(
        *(
            (and_(sub.c.received_at >= bounds[i], sub.c.received_at < bounds[i + 1]), i)
            for i in range(len(months))
        ),
        else_=-1,
    ).label("month")
    rows = db_session().execute(
        select(bucket, func.count())
        .select_from(sub)
        .where(sub.c.received_at >= bounds[0], sub.c.received_at < bounds[-1])
        .group_by(bucket)
    )
    counts = dict.fromkeys(range(len(months)), 0)
    for index, n in rows:
        if index in counts:
            counts[int(index)] = int(n)
    return [(months[i], counts[i]) for i in range(len(months))]


def _on_time(sub: Any) -> Any:
    """The SQL condition "first answered on or before its first due date, in local time".
    PostgreSQL converts with ``timezone()``; elsewhere (SQLite has no zones) each due date's
    end — the next local midnight, in UTC — is looked up in a ``CASE`` over the due dates
    present (one per day, computed here)."""
    if _dialect() == "postgresql":
        local = func.timezone(local_zone().key, sub.c.first_answered_at)
        return cast(local, Date) <= sub.c.first_due_on
    dues = list(
        db_session().scalars(
            select(sub.c.first_due_on).where(sub.c.first_answered_at.is_not(None)).distinct()
        )
    )
    if not dues:
        return false()
    end = case(
        *((sub.c.first_due_on == d, local_midnight(d + dt.timedelta(days=1))) for d in dues),
        else_=None,
    )
    return sub.c.first_answered_at < end


def _median_days(sub: Any, answered: int) -> float | None:
    """The median first-answer time in days: PostgreSQL's ``percentile_cont``; on SQLite the
    middle one or two rows of the ordered durations (``LIMIT``/``OFFSET``), averaged in SQL."""
    if not answered:
        return None
    sess = db_session()
    if _dialect() == "postgresql":
        seconds = func.extract("epoch", sub.c.first_answered_at - sub.c.received_at)
        value = sess.scalar(
            select(func.percentile_cont(0.5).within_group(seconds)).where(
                sub.c.first_answered_at.is_not(None)
            )
        )
        return float(value) / 86400 if value is not None else None
    days = (func.julianday(sub.c.first_answered_at) - func.julianday(sub.c.received_at)).label(
        "days"
    )
    middle = (
        select(days)
        .where(sub.c.first_answered_at.is_not(None))
        .order_by(days)
        .limit(2 - answered % 2)
        .offset((answered - 1) // 2)
        .subquery()
    )
    value = sess.scalar(select(func.avg(middle.c.days)))
    return float(value) if value is not None else None


def figures(user: Principal) -> Figures:
    """Every figure is counted by the database (``GROUP BY`` category, establishment, status,
    outcome, month; counts with ``FILTER``/``CASE``; the median in SQL)."""
    sub = staff_select(user).subquery()
    sess = db_session()
    result = Figures()
    result.total = int(sess.scalar(select(func.count()).select_from(sub)) or 0)
    result.by_category = _grouped(sub, sub.c.category)
    result.by_status = [(_code(s), n) for s, n in _grouped(sub, sub.c.status)]
    result.by_outcome = [(_code(o), n) for o, n in _grouped(sub, sub.c.outcome) if _code(o)]
    ests = _grouped(sub, sub.c.establishment_id)
    by_id = {
        e.id: e
        for e in sess.scalars(
            select(Establishment).where(Establishment.id.in_([i for i, _n in ests]))
        )
    }
    result.by_establishment = [(by_id[i], n) for i, n in ests if i in by_id]
    # answer times (first answer), on time = answered on or before the due date set at filing
    answered = sub.c.first_answered_at.is_not(None)
    row = sess.execute(
        select(
            func.count().filter(answered),
            func.count().filter(and_(answered, _on_time(sub))),
        ).select_from(sub)
    ).one()
    result.answered, result.answered_on_time = int(row[0]), int(row[1])
    result.median_answer_days = _median_days(sub, result.answered)
    # the trend: complaints received per month over the last 12 months (local months)
    result.months = _trend(sub, _months(local_today()))
    return result
