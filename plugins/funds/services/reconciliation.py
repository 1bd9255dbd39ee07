"""The establishment's cash against the ledger (cash counts), and the check of the whole ledger
behind ``idmaj funds reconcile``."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from core.audit import services as audit
from core.db import session as db_session
from core.db import utcnow
from core.errors import ValidationFailed
from core.establishments.models import Establishment
from core.identity.services import require
from core.principals import Principal
from core.scoping import ensure_in_scope
from plugins.funds.models import CashCount, LedgerAccount, LedgerKind, Posting, TxType
from plugins.funds.services.accounts import establishment_ledger
from plugins.funds.services.memo import _memo
from plugins.funds.services.money import AmountError, money, parse_amount
from plugins.funds.services.posting import _book, _lock_establishment_ledgers


def cash_on_ledger(est: Establishment) -> int:
    """The cash the ledger says the establishment holds (debit balance, shown positive)."""
    row = establishment_ledger(est.id, LedgerKind.cash)
    db_session().refresh(row)
    return -int(row.balance)


def reconcile_cash(est: Establishment, actor: Principal, *, counted: Any, note: Any) -> CashCount:
    """Record a cash count against the ledger; a difference is booked to ``cash_difference``
    so that the ledger matches the counted cash afterwards."""
    require(actor, "funds.write")
    ensure_in_scope(actor, est.id)
    errors: dict[str, str] = {}
    cents = 0
    text = counted.strip() if isinstance(counted, str) else counted
    if isinstance(text, str) and text in ("0", "0.00", "0,00"):
        cents = 0
    else:
        try:
            cents = parse_amount(text, allow_comma=True)
        except AmountError as exc:
            errors["counted"] = str(exc)
    try:
        note_text = _memo(note, "note")
    except ValidationFailed as exc:
        errors.update(exc.fields)
        note_text = ""
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    _lock_establishment_ledgers(est.id)
    expected = cash_on_ledger(est)
    difference = cents - expected
    tx = None
    if difference:
        cash = establishment_ledger(est.id, LedgerKind.cash)
        diff = establishment_ledger(est.id, LedgerKind.cash_difference)
        tx = _book(
            TxType.cash_difference,
            est,
            [(cash, -difference), (diff, difference)],
            actor=actor,
            account=None,
            memo=note_text or _("Cash count"),
        )
    count = CashCount(
        establishment_id=est.id,
        counted=cents,
        expected=expected,
        difference=difference,
        note=note_text,
        transaction_id=tx.id if tx else None,
        actor_id=getattr(actor, "id", None),
        actor_username=getattr(actor, "username", "") or "",
        created_at=utcnow(),
    )
    db_session().add(count)
    db_session().flush()
    audit.record(
        "funds.cash_count",
        "establishment",
        est.code,
        establishment_id=est.id,
        summary={
            "counted": money(cents),
            "expected": money(expected),
            "difference": money(difference),
        },
        actor=actor,
    )
    return count


def cash_counts(est: Establishment, limit: int = 20) -> list[CashCount]:
    return list(
        db_session().scalars(
            select(CashCount)
            .where(CashCount.establishment_id == est.id)
            .order_by(CashCount.created_at.desc(), CashCount.id.desc())
            .limit(limit)
        )
    )


def check_ledger() -> list[str]:
    """Every stored balance against the sum of its postings, every transaction balanced, no
    detainee balance below zero. Returns the problems found (empty: the books are right)."""
    sess = db_session()
    problems: list[str] = []
    sums = (
        select(Posting.ledger_account_id.label("lid"), func.sum(Posting.amount).label("total"))
        .group_by(Posting.ledger_account_id)
        .subquery()
    )
    rows = sess.execute(
        select(
            LedgerAccount.id,
            LedgerAccount.kind,
            LedgerAccount.account_id,
            LedgerAccount.establishment_id,
            LedgerAccount.balance,
            LedgerAccount.held,
            func.coalesce(sums.c.total, 0),
        ).outerjoin(sums, sums.c.lid == LedgerAccount.id)
    )
    for lid, kind, account_id, est_id, balance, held, total in rows:
        owner = f"account {account_id}" if account_id else f"establishment {est_id}"
        if int(balance) != int(total):
            problems.append(
                f"ledger account {lid} ({kind}, {owner}): stored balance {money(int(balance))} "
                f"!= sum of postings {money(int(total))}"
            )
        if account_id is not None and (int(total) < 0 or int(balance) < 0):
            problems.append(f"ledger account {lid} ({kind}, {owner}): negative balance")
        if int(held) > int(balance) and account_id is not None:
            problems.append(f"ledger account {lid} ({kind}, {owner}): hold above balance")
    unbalanced = sess.execute(
        select(Posting.transaction_id, func.sum(Posting.amount))
        .group_by(Posting.transaction_id)
        .having(func.sum(Posting.amount) != 0)
    )
    for tx_id, total in unbalanced:
        problems.append(f"transaction {tx_id}: postings sum to {money(int(total))}, not 0")
    return problems
