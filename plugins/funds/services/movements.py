"""An account's movements: the paged history, the statement with running balances, one
transaction, and the API's form of a new movement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from core.db import session as db_session
from core.errors import NotFound
from core.identity.models import User
from core.identity.services import require
from core.principals import Principal
from core.scoping import ensure_in_scope
from plugins.funds.models import Account, LedgerAccount, LedgerKind, Posting, Transaction
from plugins.funds.services.accounts import AccountView, _audit_read, balances_of, view_account
from plugins.funds.services.labels import memo_label
from plugins.funds.services.money import money


@dataclass(frozen=True)
class Movement:
    transaction: Transaction
    net: int  # the change of this account's balance (available + savings)
    available: int
    savings: int

    @property
    def direction(self) -> str:
        return "credit" if self.net >= 0 else "debit"

    def as_json(self) -> dict[str, Any]:
        tx = self.transaction
        return {
            "id": tx.id,
            "type": tx.type.value,
            "amount": money(abs(self.net) if self.net else tx.amount),
            "direction": self.direction,
            "signed_amount": money(self.net),
            "created_at": tx.created_at.isoformat(),
            "receipt_number": tx.receipt_number,
            "memo": memo_label(tx.memo),
            "reverses": tx.reverses_id,
        }


def _movement_query(account: Account) -> Any:
    avail = case((LedgerAccount.kind == LedgerKind.available, Posting.amount), else_=0)
    sav = case((LedgerAccount.kind == LedgerKind.savings, Posting.amount), else_=0)
    return (
        select(
            Posting.transaction_id,
            func.sum(Posting.amount).label("net"),
            func.sum(avail).label("available"),
            func.sum(sav).label("savings"),
        )
        .join(LedgerAccount, LedgerAccount.id == Posting.ledger_account_id)
        .where(LedgerAccount.account_id == account.id)
        .group_by(Posting.transaction_id)
    )


def movements(
    account: Account | None, page: int = 1, per_page: int = 20
) -> tuple[list[Movement], int]:
    """One item per transaction touching the account, newest first, and the total count."""
    if account is None:
        return [], 0
    sess = db_session()
    total = sess.scalar(
        select(func.count()).select_from(Transaction).where(Transaction.account_id == account.id)
    )
    txs = list(
        sess.scalars(
            select(Transaction)
            .where(Transaction.account_id == account.id)
            .order_by(Transaction.created_at.desc(), Transaction.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    if not txs:
        return [], int(total or 0)
    sums = {
        row.transaction_id: row
        for row in sess.execute(
            _movement_query(account).where(Posting.transaction_id.in_([t.id for t in txs]))
        )
    }
    items = []
    for tx in txs:
        row = sums.get(tx.id)
        items.append(
            Movement(
                tx,
                int(row.net) if row else 0,
                int(row.available) if row else 0,
                int(row.savings) if row else 0,
            )
        )
    return items, int(total or 0)


def list_transactions(
    rn: str, user: User | None, page: int = 1, per_page: int = 20
) -> tuple[AccountView, list[Movement], int]:
    view = view_account(rn, user, audit_read=False)
    _audit_read(user, view.detainee, "transactions")
    items, total = movements(view.account, page, per_page)
    return view, items, total


def statement(account: Account | None) -> list[tuple[Movement, int]]:
    """Every movement, oldest first, with the balance after it (for the printable/CSV form)."""
    if account is None:
        return []
    items, _total = movements(account, 1, 10**9)
    items.reverse()
    running = 0
    out = []
    for item in items:
        running += item.net
        out.append((item, running))
    return out


def get_transaction(tx_id: int, user: Principal) -> Transaction:
    require(user, "funds.view")
    tx = db_session().get(Transaction, tx_id)
    if tx is None:
        raise NotFound(_("No such transaction."), code="transaction_not_found")
    ensure_in_scope(user, tx.establishment_id)
    return tx


def deposit_payload(tx: Transaction, account: Account) -> dict[str, Any]:
    view = AccountView(account.detainee, account, balances_of(account))
    net = sum(p.amount for p in tx.postings if p.ledger_account.account_id == account.id)
    return {
        **Movement(tx, net, 0, 0).as_json(),
        "account": {k: v for k, v in view.as_json().items()},
    }
