"""Money on hold: it cannot be spent nor paid out, and blocks a release until lifted."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import update

from core.audit import services as audit
from core.db import session as db_session
from core.detainees.models import Detainee
from core.errors import ValidationFailed
from core.principals import Principal
from plugins.funds.models import Account, LedgerAccount, LedgerKind
from plugins.funds.services.accounts import detainee_ledgers
from plugins.funds.services.memo import _memo
from plugins.funds.services.money import AmountError, money, parse_amount
from plugins.funds.services.posting import _writable_account, insufficient_funds


def set_hold(det: Detainee, actor: Principal, *, amount: Any, memo: Any) -> Account:
    """Put money on hold (``"0"`` releases it): it cannot be spent nor paid out, and blocks a
    release until lifted."""
    errors: dict[str, str] = {}
    cents = 0
    if isinstance(amount, str) and amount.strip() in ("0", "0.00", "0,00"):
        cents = 0
    else:
        try:
            cents = parse_amount(amount, allow_comma=True)
        except AmountError as exc:
            errors["amount"] = str(exc)
    try:
        memo_text = _memo(memo, required=True)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        memo_text = ""
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    account = _writable_account(det, actor)
    ledger = detainee_ledgers(account)[LedgerKind.available]
    result = db_session().execute(
        update(LedgerAccount)
        .where(LedgerAccount.id == ledger.id, LedgerAccount.balance >= cents)
        .values(held=cents),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:
        raise insufficient_funds()
    audit.record(
        "funds.hold",
        "funds_account",
        det.registration_number,
        establishment_id=account.establishment_id,
        summary={"held": money(cents), "memo": memo_text},
        actor=actor,
    )
    return account
