"""Deposits: money brought in by a family, in cash at admission, or otherwise."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from core.detainees.models import Detainee
from core.errors import ValidationFailed
from core.principals import Principal
from core.validation import NATIONAL_ID_RE, ascii_digits
from plugins.funds.models import LedgerKind, Transaction, TxType
from plugins.funds.services.memo import _memo
from plugins.funds.services.money import AmountError, money, parse_amount
from plugins.funds.services.posting import _book, _locked_ledgers, _writable_account
from plugins.funds.services.settings import settings_for

DEPOSIT_SOURCES = {
    "family": TxType.family_deposit,
    "cash": TxType.cash_deposit,
    "other": TxType.other_deposit,
}


def deposit(
    det: Detainee,
    actor: Principal,
    *,
    amount: Any,
    source: Any,
    depositor_name: Any = "",
    depositor_national_id: Any = "",
    memo: Any = "",
    allow_comma: bool = False,
    when: dt.datetime | None = None,
) -> Transaction:
    """Money brought in (by family, in cash at admission, or otherwise): credited to available."""
    errors: dict[str, str] = {}
    cents = 0
    try:
        cents = parse_amount(amount, allow_comma=allow_comma)
    except AmountError as exc:
        errors["amount"] = str(exc)
    if source not in DEPOSIT_SOURCES:
        errors["source"] = _("Choose one of the allowed values.")
    name = nid = ""
    if source == "family":
        name = (
            " ".join(str(depositor_name or "").split())
            if isinstance(depositor_name, str | type(None))
            else ""
        )
        nid = (
            ascii_digits(str(depositor_national_id or "")).strip().upper()
            if isinstance(depositor_national_id, str | type(None))
            else ""
        )
        if not name:
            errors["depositor.name"] = _("Enter the depositor's full name.")
        elif len(name) > 200:
            errors["depositor.name"] = ngettext(
                "At most %(num)d character.", "At most %(num)d characters.", 200
            )
        if not NATIONAL_ID_RE.match(nid):
            errors["depositor.national_id"] = _(
                "Enter the national identity card number, e.g. BE123456."
            )
    try:
        memo_text = _memo(memo)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        memo_text = ""
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    account = _writable_account(det, actor)
    est = account.establishment
    ceiling = settings_for(est.id).deposit_ceiling
    if cents > ceiling:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={
                "amount": _("One deposit may not exceed %(ceiling)s MAD.", ceiling=money(ceiling))
            },
        )
    ledgers, cash, locked = _locked_ledgers(account, est.id, LedgerKind.cash)
    return _book(
        DEPOSIT_SOURCES[source],
        est,
        [(ledgers[LedgerKind.available], cents), (cash, -cents)],
        actor=actor,
        account=account,
        memo=memo_text,
        source=source,
        depositor_name=name,
        depositor_national_id=nid,
        when=when,
        locked=locked,
    )
