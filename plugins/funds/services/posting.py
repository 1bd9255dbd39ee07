"""The posting engine: the lock order, the writable account, and balanced transactions whose
postings move the stored balances with guarded conditional UPDATEs and get a receipt number."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from core.audit import services as audit
from core.db import session as db_session
from core.db import utcnow
from core.detainees.models import Detainee
from core.detainees.services import next_counter
from core.errors import Conflict
from core.establishments.models import Establishment
from core.identity.services import require
from core.principals import Principal
from core.scoping import ensure_in_scope
from plugins.funds.models import (
    Account,
    AccountStatus,
    LedgerAccount,
    Posting,
    Transaction,
    TxType,
)
from plugins.funds.services.accounts import account_of, open_account
from plugins.funds.services.localtime import LOCAL_TZ
from plugins.funds.services.money import money


def _postgresql() -> bool:
    return db_session().get_bind().dialect.name == "postgresql"


def _lock_accounts(account_ids: Sequence[int]) -> None:
    """Lock detainee accounts, in id order (the funds lock order: accounts first, then the
    establishments' ledger rows, then the receipt counter). No-op on SQLite, where the
    transaction already holds the database's write lock (``BEGIN IMMEDIATE``)."""
    if account_ids and _postgresql():
        db_session().execute(
            select(Account.id)
            .where(Account.id.in_(sorted(set(account_ids))))
            .order_by(Account.id)
            .with_for_update()
        )


def _lock_ledgers(ledger_ids: Sequence[int]) -> None:
    """Lock ledger rows in id order (see :func:`_lock_accounts`)."""
    if ledger_ids and _postgresql():
        db_session().execute(
            select(LedgerAccount.id)
            .where(LedgerAccount.id.in_(sorted(set(ledger_ids))))
            .order_by(LedgerAccount.id)
            .with_for_update()
        )


def _lock_establishment_ledgers(*establishment_ids: int) -> None:
    """Lock every ledger row of these establishments (cash, wages, clearing…) in id order:
    the mutex of the establishment-wide operations (wage run, cash count, transfer)."""
    if not _postgresql():
        return
    ids = db_session().scalars(
        select(LedgerAccount.id).where(LedgerAccount.establishment_id.in_(establishment_ids))
    )
    _lock_ledgers(list(ids))


def insufficient_funds() -> Conflict:
    return Conflict(
        _("Insufficient funds: the available balance does not cover this amount."),
        code="insufficient_funds",
        fields={"amount": _("Insufficient funds.")},
    )


def _apply(ledger_id: int, amount: int, *, guard: bool, respect_hold: bool = True) -> None:
    """Add ``amount`` to a stored balance; with ``guard``, refuse to go below zero (or below
    the money on hold) with a conditional UPDATE whose row count is checked."""
    stmt = update(LedgerAccount).where(LedgerAccount.id == ledger_id)
    if guard and amount < 0:
        floor = (
            LedgerAccount.balance - LedgerAccount.held if respect_hold else LedgerAccount.balance
        )
        stmt = stmt.where(floor >= -amount)
    result = db_session().execute(
        stmt.values(balance=LedgerAccount.balance + amount),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:
        raise insufficient_funds()


def _receipt_number(est: Establishment, when: dt.datetime) -> str:
    year = when.astimezone(LOCAL_TZ).year
    return f"{est.code}-{year}-{next_counter(f'funds-receipt-{est.code}-{year}'):06d}"


def _book(
    tx_type: TxType,
    est: Establishment,
    postings: Sequence[tuple[LedgerAccount, int]],
    *,
    actor: Principal,
    account: Account | None,
    memo: str = "",
    respect_hold: bool = True,
    when: dt.datetime | None = None,
    **extra: Any,
) -> Transaction:
    """Write one balanced transaction and move the stored balances (``when``: demo data only)."""
    if sum(a for _la, a in postings) != 0:
        raise AssertionError("unbalanced transaction")
    sess = db_session()
    # the rows this transaction moves, in id order, before the receipt counter
    _lock_ledgers([ledger.id for ledger, _a in postings])
    now = when or utcnow()
    amount = sum(a for _la, a in postings if a > 0)
    tx = Transaction(
        type=tx_type,
        account_id=account.id if account else None,
        establishment_id=est.id,
        amount=amount,
        receipt_number=_receipt_number(est, now),
        memo=(memo or "")[:300],
        actor_id=getattr(actor, "id", None),
        actor_username=getattr(actor, "username", "") or "",
        created_at=now,
        **extra,
    )
    sess.add(tx)
    sess.flush()
    # debits first: a refused debit stops before anything else moved
    for ledger, value in sorted(postings, key=lambda p: (p[1] > 0, p[0].id)):
        _apply(ledger.id, value, guard=ledger.account_id is not None, respect_hold=respect_hold)
        sess.add(Posting(transaction_id=tx.id, ledger_account_id=ledger.id, amount=value))
    sess.flush()
    det_rn = account.detainee.registration_number if account else ""
    audit.record(
        f"funds.{tx_type.value}",
        "funds_transaction",
        tx.receipt_number,
        establishment_id=est.id,
        summary={
            "detainee": det_rn,
            "amount": money(amount),
            "memo": tx.memo,
            **{k: v for k, v in extra.items() if k in ("source", "batch", "reverses_id")},
        },
        actor=actor,
    )
    return tx


def _writable_account(det: Detainee, actor: Principal) -> Account:
    """Lock order, permission, scope, and the open account of the detainee."""
    require(actor, "funds.write")
    ensure_in_scope(actor, det.establishment_id)
    account = account_of(det)
    if account is None:
        if det.is_released:
            raise Conflict(_("This account is closed."), code="account_closed")
        account = open_account(det, actor)
    _lock_accounts([account.id])  # the account's own lock (no lock shared with other modules)
    db_session().refresh(account)
    if account.status == AccountStatus.closed:
        raise Conflict(_("This account is closed."), code="account_closed")
    return account
