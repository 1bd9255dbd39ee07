"""Money taken from the available balance: withdrawals and canteen purchases (under the weekly
spending limit) and fees."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from core.db import session as db_session
from core.db import utcnow
from core.detainees.models import Detainee
from core.errors import Conflict, ValidationFailed
from core.principals import Principal
from plugins.funds.models import Account, LedgerKind, Transaction, TxType
from plugins.funds.services.memo import _memo
from plugins.funds.services.money import AmountError, money, parse_amount
from plugins.funds.services.posting import _book, _locked_ledgers, _writable_account
from plugins.funds.services.settings import settings_for

SPENDING_TYPES = (TxType.canteen_purchase, TxType.withdrawal)


def _check_weekly_limit(account: Account, cents: int) -> None:
    limit = settings_for(account.establishment_id).weekly_limit
    if not limit:
        return
    since = utcnow() - dt.timedelta(days=7)
    reversed_ids = select(Transaction.reverses_id).where(Transaction.reverses_id.is_not(None))
    spent = db_session().scalar(
        select(func.coalesce(func.sum(Transaction.amount), 0)).where(
            Transaction.account_id == account.id,
            Transaction.type.in_(SPENDING_TYPES),
            Transaction.created_at >= since,
            Transaction.id.not_in(reversed_ids),
        )
    )
    if int(spent or 0) + cents > limit:
        raise Conflict(
            _(
                "The weekly spending limit of %(limit)s MAD would be exceeded "
                "(already spent in the last 7 days: %(spent)s MAD).",
                limit=money(limit),
                spent=money(int(spent or 0)),
            ),
            code="weekly_limit_exceeded",
            fields={"amount": _("Over the weekly spending limit.")},
        )


def _spend(
    tx_type: TxType,
    counter_kind: LedgerKind,
    det: Detainee,
    actor: Principal,
    amount: Any,
    memo: Any,
    *,
    memo_field: str = "memo",
    memo_required: bool = False,
    limited: bool = True,
    allow_comma: bool = False,
    when: dt.datetime | None = None,
) -> Transaction:
    errors: dict[str, str] = {}
    cents = 0
    try:
        cents = parse_amount(amount, allow_comma=allow_comma)
    except AmountError as exc:
        errors["amount"] = str(exc)
    try:
        memo_text = _memo(memo, memo_field, required=memo_required)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        memo_text = ""
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    account = _writable_account(det, actor)
    if limited:
        _check_weekly_limit(account, cents)
    est = account.establishment
    ledgers, counter, locked = _locked_ledgers(account, est.id, counter_kind)
    return _book(
        tx_type,
        est,
        [(ledgers[LedgerKind.available], -cents), (counter, cents)],
        actor=actor,
        account=account,
        memo=memo_text,
        when=when,
        locked=locked,
    )


def withdraw(
    det: Detainee, actor: Principal, *, amount: Any, reason: Any, **kw: Any
) -> Transaction:
    """Cash paid out of the available balance (reason required)."""
    return _spend(
        TxType.withdrawal,
        LedgerKind.cash,
        det,
        actor,
        amount,
        reason,
        memo_field="reason",
        memo_required=True,
        **kw,
    )


def purchase(
    det: Detainee, actor: Principal, *, amount: Any, memo: Any = "", **kw: Any
) -> Transaction:
    """A canteen purchase paid from the available balance."""
    return _spend(TxType.canteen_purchase, LedgerKind.canteen, det, actor, amount, memo, **kw)


def charge_fee(
    det: Detainee, actor: Principal, *, amount: Any, memo: Any, **kw: Any
) -> Transaction:
    """A fee (e.g. a fine or damage) taken from the available balance; not a spending."""
    return _spend(
        TxType.fee,
        LedgerKind.fees,
        det,
        actor,
        amount,
        memo,
        memo_required=True,
        limited=False,
        **kw,
    )
