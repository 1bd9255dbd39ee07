"""The dashboard's funds figures: deposits today, the total held, 30 days of deposits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from core.db import session as db_session
from core.identity.models import User
from core.scoping import establishment_ids
from plugins.funds.models import Account, AccountStatus, LedgerAccount, Transaction, TxType
from plugins.funds.services.localtime import LOCAL_TZ, local_day_bounds, today_local

DEPOSIT_TYPES = (TxType.family_deposit, TxType.cash_deposit, TxType.other_deposit)


@dataclass
class DashboardFigures:
    deposits_today_count: int
    deposits_today: int
    total_held: int
    days: list[tuple[dt.date, int, int]]  # (day, amount, percent of the busiest day)


def dashboard_figures(user: User | None) -> DashboardFigures:
    ids = establishment_ids(user)
    sess = db_session()
    today = today_local()
    start30, _end = local_day_bounds(today - dt.timedelta(days=29))
    stmt = select(Transaction.created_at, Transaction.amount).where(
        Transaction.type.in_(DEPOSIT_TYPES), Transaction.created_at >= start30
    )
    held_stmt = (
        select(func.coalesce(func.sum(LedgerAccount.balance), 0))
        .join(Account, Account.id == LedgerAccount.account_id)
        .where(Account.status == AccountStatus.open)
    )
    if ids is not None:
        stmt = stmt.where(Transaction.establishment_id.in_(sorted(ids) or [-1]))
        held_stmt = held_stmt.where(Account.establishment_id.in_(sorted(ids) or [-1]))
    per_day: dict[dt.date, int] = {}
    count_today = 0
    for created_at, amount in sess.execute(stmt):
        day = created_at.astimezone(LOCAL_TZ).date()
        per_day[day] = per_day.get(day, 0) + int(amount)
        if day == today:
            count_today += 1
    days = [today - dt.timedelta(days=n) for n in range(29, -1, -1)]
    peak = max([per_day.get(d, 0) for d in days] + [1])
    return DashboardFigures(
        deposits_today_count=count_today,
        deposits_today=per_day.get(today, 0),
        total_held=int(sess.scalar(held_stmt) or 0),
        days=[(d, per_day.get(d, 0), round(per_day.get(d, 0) * 20 / peak) * 5) for d in days],
    )
