"""Reversals: a mistake corrected by the opposite postings, pointing at the original."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from core.db import session as db_session
from core.errors import Conflict
from core.principals import Principal
from plugins.funds.models import Transaction, TxType
from plugins.funds.services.memo import _memo
from plugins.funds.services.posting import _book, _writable_account

REVERSIBLE = (
    TxType.family_deposit,
    TxType.cash_deposit,
    TxType.other_deposit,
    TxType.wage,
    TxType.canteen_purchase,
    TxType.withdrawal,
    TxType.fee,
)


def reverse(tx: Transaction, actor: Principal, *, memo: Any) -> Transaction:
    """Correct a mistake: a new transaction with the opposite postings, pointing at the original."""
    memo_text = _memo(memo, required=True)
    if tx.type not in REVERSIBLE:
        raise Conflict(
            _("This kind of movement cannot be reversed."),
            code="not_reversible",
        )
    if tx.account is None:
        raise Conflict(_("This kind of movement cannot be reversed."), code="not_reversible")
    account = _writable_account(tx.account.detainee, actor)
    if tx.establishment_id != account.establishment_id:
        raise Conflict(
            _("This movement was booked at another establishment."), code="not_reversible"
        )
    already = db_session().scalar(select(Transaction.id).where(Transaction.reverses_id == tx.id))
    if already is not None:
        raise Conflict(_("This movement was already reversed."), code="already_reversed")
    postings = [(p.ledger_account, -p.amount) for p in tx.postings]
    return _book(
        TxType.reversal,
        account.establishment,
        postings,
        actor=actor,
        account=account,
        memo=memo_text,
        reverses_id=tx.id,
    )
