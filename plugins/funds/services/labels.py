"""The localised names of transaction types and ledger accounts (pages, statements)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

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


def tx_label(kind: Any) -> str:
    return str(TX_LABELS.get(TxType(kind), kind))


def ledger_label(kind: Any) -> str:
    return str(LEDGER_LABELS.get(LedgerKind(kind), kind))
