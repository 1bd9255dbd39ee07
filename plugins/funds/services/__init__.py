"""Every rule of the detainee funds (pécule). Services never commit.

Concurrency: funds has locks of its own, taken in one order so they can never deadlock: (the
detainee row, when a release or transfer calls in,) then detainee accounts in id order
(``SELECT … FOR UPDATE``), then establishment ledger rows in id order (a wage run, a cash count
or a transfer lock all of their establishments' ledger rows up front), then the receipt
counter. Two writes of different accounts never wait for each other except on the shared
ledger rows they both move. A debit of a detainee's sub-account is then a conditional
``UPDATE … SET balance = balance - :a WHERE id = :id AND balance - held >= :a`` whose row
count is checked: a balance
can never go below zero (nor below the money on hold), whatever the backend or the concurrency.
The table also carries a ``CHECK (balance >= 0)`` as a last line of defence.

The files of this package, by responsibility (this module re-exports their public names, so
callers keep importing ``plugins.funds.services``; names starting with an underscore are shared
between these files only):

- ``money`` — amounts: text → integer centimes (:func:`parse_amount`), centimes → text.
- ``memo`` — the free text of a movement (memo, reason, workshop, note), cleaned and checked.
- ``labels`` — the localised names of transaction types and ledger accounts.
- ``localtime`` — the establishment's time zone, local days.
- ``accounts`` — opening an account, its ledger accounts and stored balances, who may see them.
- ``movements`` — an account's history, statement (running balances), one transaction.
- ``settings`` — per-establishment rules (savings share, weekly limit, deposit ceiling).
- ``posting`` — the posting engine: the funds lock order (accounts, then ledger rows), the writable
  account, balanced transactions, guarded conditional balance updates, receipt numbers.
- ``deposits`` — family, admission cash and other deposits.
- ``spending`` — withdrawals, canteen purchases (weekly limit) and fees.
- ``holds`` — money on hold.
- ``wages`` — wage runs.
- ``reversals`` — correcting a movement with the opposite postings.
- ``life_events`` — admission, transfer (clearing accounts), release blockers and payout.
- ``journal`` — an establishment's daily journal.
- ``reconciliation`` — cash counts and the whole-ledger check (``idmaj funds reconcile``).
- ``dashboard`` — the dashboard's figures.
"""

from __future__ import annotations

from core.db import utcnow
from core.validation import NATIONAL_ID_RE
from plugins.funds.services.accounts import (
    AccountView,
    Balances,
    account_of,
    balances_of,
    can_view,
    detainee_ledgers,
    establishment_ledger,
    open_account,
    view_account,
    visible_establishments,
)
from plugins.funds.services.dashboard import DEPOSIT_TYPES, DashboardFigures, dashboard_figures
from plugins.funds.services.deposits import DEPOSIT_SOURCES, deposit
from plugins.funds.services.holds import set_hold
from plugins.funds.services.journal import Journal, journal
from plugins.funds.services.labels import (
    LEDGER_LABELS,
    TX_LABELS,
    ledger_label,
    memo_label,
    tx_label,
)
from plugins.funds.services.life_events import (
    on_admitted,
    on_released,
    on_transferred,
    release_blockers,
    transfer_blockers,
)
from plugins.funds.services.localtime import LOCAL_TZ, local_day_bounds, today_local
from plugins.funds.services.money import (
    AMOUNT_RE,
    MAX_AMOUNT,
    AmountError,
    amount_or_error,
    decimal_from_text,
    money,
    parse_amount,
    to_decimal,
)
from plugins.funds.services.movements import (
    Movement,
    deposit_payload,
    get_transaction,
    list_transactions,
    movements,
    statement,
)
from plugins.funds.services.posting import insufficient_funds
from plugins.funds.services.reconciliation import (
    cash_counts,
    cash_on_ledger,
    check_ledger,
    reconcile_cash,
)
from plugins.funds.services.reversals import REVERSIBLE, reverse
from plugins.funds.services.settings import DEFAULT_CEILING, settings_for, update_settings
from plugins.funds.services.spending import SPENDING_TYPES, charge_fee, purchase, withdraw
from plugins.funds.services.wages import WageLine, wage_run

__all__ = [
    "AMOUNT_RE",
    "DEFAULT_CEILING",
    "DEPOSIT_SOURCES",
    "DEPOSIT_TYPES",
    "LEDGER_LABELS",
    "LOCAL_TZ",
    "MAX_AMOUNT",
    "NATIONAL_ID_RE",
    "REVERSIBLE",
    "SPENDING_TYPES",
    "TX_LABELS",
    "AccountView",
    "AmountError",
    "Balances",
    "DashboardFigures",
    "Journal",
    "Movement",
    "WageLine",
    "account_of",
    "amount_or_error",
    "balances_of",
    "can_view",
    "cash_counts",
    "cash_on_ledger",
    "charge_fee",
    "check_ledger",
    "dashboard_figures",
    "decimal_from_text",
    "deposit",
    "deposit_payload",
    "detainee_ledgers",
    "establishment_ledger",
    "get_transaction",
    "insufficient_funds",
    "journal",
    "ledger_label",
    "list_transactions",
    "local_day_bounds",
    "memo_label",
    "money",
    "movements",
    "on_admitted",
    "on_released",
    "on_transferred",
    "open_account",
    "parse_amount",
    "purchase",
    "reconcile_cash",
    "release_blockers",
    "reverse",
    "set_hold",
    "settings_for",
    "statement",
    "to_decimal",
    "today_local",
    "transfer_blockers",
    "tx_label",
    "update_settings",
    "utcnow",
    "view_account",
    "visible_establishments",
    "wage_run",
    "withdraw",
]
