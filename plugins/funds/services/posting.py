"""The posting engine: the lock order, the writable account, and balanced transactions whose
postings move the stored balances with guarded conditional UPDATEs and get a receipt number."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from core.audit import services as audit
from core.db import built_once, insert_loaded, insert_plain, utcnow
from core.db import session as db_session
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
    LedgerKind,
    Posting,
    Transaction,
    TxType,
)
from plugins.funds.services.accounts import establishment_ledger, open_account
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


@functools.cache
def _balance_update(floor: str) -> Any:
    """``UPDATE … SET balance = balance + :amount WHERE id = :id`` (Core, built once), with
    ``floor`` "": no guard; "balance": not below zero; "spendable": not below the hold."""
    table = LedgerAccount.__table__
    stmt = update(table).where(table.c.id == bindparam("ledger_id"))
    if floor == "balance":
        stmt = stmt.where(table.c.balance >= bindparam("need"))
    elif floor == "spendable":
        stmt = stmt.where(table.c.balance - table.c.held >= bindparam("need"))
    return stmt.values(balance=table.c.balance + bindparam("amount"))


def _apply(ledger_id: int, amount: int, *, guard: bool, respect_hold: bool = True) -> None:
    """Add ``amount`` to a stored balance; with ``guard``, refuse to go below zero (or below
    the money on hold) with a conditional UPDATE whose row count is checked. Sent by Core:
    the session's ledger objects keep the balances they were read with (read balances
    afresh: :func:`plugins.funds.services.accounts.balances_of`)."""
    floor = ("spendable" if respect_hold else "balance") if guard and amount < 0 else ""
    values = {"ledger_id": ledger_id, "amount": amount, "need": -amount}
    result = db_session().connection().execute(_balance_update(floor), values)
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
    locked: bool = False,
    **extra: Any,
) -> Transaction:
    """Write one balanced transaction and move the stored balances (``when``: demo data only;
    ``locked``: the caller already holds the ledger rows of ``postings``, locked in id order
    after the account — :func:`_locked_ledgers`)."""
    if sum(a for _la, a in postings) != 0:
        raise AssertionError("unbalanced transaction")
    sess = db_session()
    sess.flush()  # whatever the caller left pending is written before the money moves
    if not locked:
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
    # Core statements, not the unit of work (whose flush cost more than the statements): the
    # transaction and its postings are written once and never changed
    insert_loaded(sess, tx)
    # debits first: a refused debit stops before anything else moved
    ordered = sorted(postings, key=lambda p: (p[1] > 0, p[0].id))
    for ledger, value in ordered:
        _apply(ledger.id, value, guard=ledger.account_id is not None, respect_hold=respect_hold)
    written = [
        Posting(transaction_id=tx.id, ledger_account_id=ledger.id, amount=value)
        for ledger, value in ordered
    ]
    insert_plain(sess, written)
    for posting, (ledger, _value) in zip(written, ordered, strict=True):
        set_committed_value(posting, "ledger_account", ledger)
        set_committed_value(posting, "transaction", tx)
        make_transient_to_detached(posting)
        sess.add(posting)  # in the session as if read: persistent, nothing pending
    set_committed_value(tx, "postings", written)
    set_committed_value(tx, "establishment", est)
    if account is not None:
        set_committed_value(tx, "account", account)
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


@built_once
def _account_locked() -> Any:
    """The detainee's account, read and locked by one statement (``FOR UPDATE OF`` the
    account row only: the detainee it loads with it is not locked), its columns read afresh."""
    return (
        select(Account)
        .where(Account.detainee_id == bindparam("detainee_id"))
        .with_for_update(of=Account)
        .execution_options(populate_existing=True)
    )


def _writable_account(det: Detainee, actor: Principal) -> Account:
    """Lock order, permission, scope, and the open account of the detainee, locked (the
    account's own lock: no lock shared with other modules)."""
    require(actor, "funds.write")
    ensure_in_scope(actor, det.establishment_id)
    # read and locked at once (on SQLite the transaction already holds the write lock)
    account = db_session().scalar(_account_locked(), {"detainee_id": det.id})
    if account is None:
        if det.is_released:
            raise Conflict(_("This account is closed."), code="account_closed")
        account = open_account(det, actor)
        _lock_accounts([account.id])
        db_session().refresh(account)
    if account.status == AccountStatus.closed:
        raise Conflict(_("This account is closed."), code="account_closed")
    return account


@built_once
def _ledgers_locked() -> Any:
    table = LedgerAccount
    return (
        select(table)
        .where(
            or_(
                table.account_id == bindparam("account_id"),
                and_(
                    table.establishment_id == bindparam("establishment_id"),
                    table.kind == bindparam("kind"),
                ),
            )
        )
        .order_by(table.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _locked_ledgers(
    account: Account, establishment_id: int, kind: LedgerKind
) -> tuple[dict[LedgerKind, LedgerAccount], LedgerAccount, bool]:
    """The account's ledger rows and the establishment's ledger of ``kind`` (cash, counter…),
    read and locked by one statement in id order — the lock order's second step, after the
    account (:func:`_writable_account`) — and whether they are locked: pass it to
    :func:`_book` as ``locked``. The establishment's row is created on its first use; it is
    then not locked yet, and ``_book`` locks the rows it moves as usual."""
    rows = db_session().scalars(
        _ledgers_locked(),
        {"account_id": account.id, "establishment_id": establishment_id, "kind": kind},
    )
    own: dict[LedgerKind, LedgerAccount] = {}
    shared = None
    for row in rows:
        if row.account_id == account.id:
            own[row.kind] = row
        else:
            shared = row
    if shared is None:
        return own, establishment_ledger(establishment_id, kind), False
    return own, shared, True
