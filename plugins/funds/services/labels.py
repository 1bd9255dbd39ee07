"""The localised names of transaction types and ledger accounts (pages, statements)."""

from __future__ import annotations

import re
from typing import Any

from core.i18n import lazy_gettext as _l
from plugins.funds.models import LedgerKind, TxType

TX_LABELS = {
    TxType.family_deposit: _l("Family deposit"),
    TxType.cash_deposit: _l("Cash deposit at admission"),
    TxType.other_deposit: _l("Other deposit"),
    TxType.wage: _l("Wage"),
    TxType.canteen_purchase: _l("Canteen purchase"),
    TxType.withdrawal: _l("Withdrawal"),
    TxType.fee: _l("Fee"),
    TxType.transfer_out: _l("Transfer out"),
    TxType.transfer_in: _l("Transfer in"),
    TxType.release_payout: _l("Release payout"),
    TxType.reversal: _l("Reversal"),
    TxType.cash_difference: _l("Cash difference"),
}
LEDGER_LABELS = {
    LedgerKind.available: _l("Available"),
    LedgerKind.savings: _l("Savings for release"),
    LedgerKind.cash: _l("Cash"),
    LedgerKind.bank: _l("Bank"),
    LedgerKind.canteen: _l("Canteen"),
    LedgerKind.wages: _l("Workshop wages"),
    LedgerKind.fees: _l("Fees"),
    LedgerKind.clearing: _l("Transfers between establishments"),
    LedgerKind.cash_difference: _l("Cash differences"),
}


# Memos the platform writes itself are stored as codes and shown in the reader's language; a
# person's memo is shown as typed. Transactions are append-only: rows written before the codes
# hold the words in the language of the day, recognised below and shown translated too.
RELEASE_PAYOUT_MEMO = "release_payout"
TRANSFER_TO = "transfer_to:"  # + the destination's code
TRANSFER_FROM = "transfer_from:"  # + the source's code
_OLD_RELEASE = {"Paid out at release", "Versé à la libération", "صُرف عند الإفراج"}
_OLD_TRANSFER = re.compile(
    r"^(?:(?P<to>Transfer to |Transfert vers |ترحيل إلى )|(?P<from>Transfer from |Transfert "
    r"depuis |ترحيل من ))(?P<code>[A-Z0-9-]{2,16})$"
)


def memo_label(memo: str | None) -> str:
    """A transaction's memo as shown: a code translated, a person's words as they are."""
    text = memo or ""
    if text == RELEASE_PAYOUT_MEMO or text in _OLD_RELEASE:
        return str(_l("Paid out at release"))
    if text.startswith(TRANSFER_TO):
        return str(_l("Transfer to %(code)s", code=text.removeprefix(TRANSFER_TO)))
    if text.startswith(TRANSFER_FROM):
        return str(_l("Transfer from %(code)s", code=text.removeprefix(TRANSFER_FROM)))
    old = _OLD_TRANSFER.match(text)
    if old:
        msgid = "Transfer to %(code)s" if old.group("to") else "Transfer from %(code)s"
        return str(_l(msgid, code=old.group("code")))
    return text


def tx_label(kind: Any) -> str:
    return str(TX_LABELS.get(TxType(kind), kind))


def ledger_label(kind: Any) -> str:
    return str(LEDGER_LABELS.get(LedgerKind(kind), kind))
