"""An establishment's daily journal: its transactions of one local day and their totals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from core.db import session as db_session
from core.establishments.models import Establishment
from core.identity.services import require
from core.principals import Principal
from core.scoping import ensure_in_scope
from plugins.funds.models import LedgerKind, Transaction
from plugins.funds.services.localtime import local_day_bounds


@dataclass
class Journal:
    establishment: Establishment
    day: dt.date
    transactions: list[Transaction]
    totals: dict[str, int]
    cash_in: int
    cash_out: int


def journal(est: Establishment, day: dt.date, user: Principal) -> Journal:
    require(user, "funds.view")
    ensure_in_scope(user, est.id)
    start, end = local_day_bounds(day)
    txs = list(
        db_session().scalars(
            select(Transaction)
            .where(
                Transaction.establishment_id == est.id,
                Transaction.created_at >= start,
                Transaction.created_at < end,
            )
            .order_by(Transaction.created_at, Transaction.id)
        )
    )
    totals: dict[str, int] = {}
    cash_in = cash_out = 0
    for tx in txs:
        totals[tx.type.value] = totals.get(tx.type.value, 0) + tx.amount
        for p in tx.postings:
            if p.ledger_account.kind == LedgerKind.cash and p.ledger_account.establishment_id:
                if p.amount < 0:
                    cash_in += -p.amount
                else:
                    cash_out += p.amount
    return Journal(est, day, txs, totals, cash_in, cash_out)
