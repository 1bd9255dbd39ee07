"""What a detainee's admission, transfer and release do to the account: opening it, moving it
between establishments through the clearing accounts, vetoing a release while money is on hold,
the release payout and closing it."""

from __future__ import annotations

from core.audit import services as audit
from core.db import session as db_session
from core.db import utcnow
from core.detainees.models import Detainee
from core.errors import Conflict
from core.establishments.models import Establishment
from core.i18n import lazy_gettext as _l
from core.principals import Principal, current_principal
from core.scoping import can_see_establishment, unscoped
from core.vetoes import Blocker
from plugins.funds.models import AccountStatus, LedgerKind, Transaction, TxType
from plugins.funds.services.accounts import (
    account_of,
    balances_of,
    detainee_ledgers,
    establishment_ledger,
    open_account,
)
from plugins.funds.services.labels import RELEASE_PAYOUT_MEMO, TRANSFER_FROM, TRANSFER_TO
from plugins.funds.services.money import money
from plugins.funds.services.posting import (
    _book,
    _lock_accounts,
    _lock_establishment_ledgers,
)


def on_admitted(det: Detainee, actor: Principal) -> None:
    open_account(det, actor)


def release_blockers(det: Detainee) -> list[Blocker]:
    """Money on hold stops the release payout; only the accountant lifting the hold clears it
    (not overridable: the payout would pay out money that is not the detainee's to take)."""
    account = account_of(det)
    if account is None or account.status == AccountStatus.closed:
        return []
    b = balances_of(account)
    if b.held > 0:
        message = _l(
            "Funds: %(held)s MAD are on hold on the detainee's account; lift the hold "
            "before the release payout.",
            held=money(b.held),
        )
        return [Blocker("money_on_hold", "funds", message, overridable=False)]
    return []


def transfer_blockers(det: Detainee) -> list[Blocker]:
    """Money on hold stops a move between establishments until the accountant lifts it, or a
    director goes ahead anyway (overridable: the hold follows the account, which moves with
    the detainee). A court or hospital trip that returns to the origin is not asked about:
    ``core.detainees.services.move`` is not called for it, and the transfers module asks with
    the move's context."""
    if can_see_establishment(current_principal(), det.establishment_id):
        account = account_of(det)
    else:  # the destination's staff complete a move: they must see the hold too
        with unscoped("funds: is money on hold for a detainee moved to this establishment?"):
            account = account_of(det)
    if account is None or account.status == AccountStatus.closed:
        return []
    b = balances_of(account)
    if b.held > 0:
        message = _l(
            "Funds: %(held)s MAD are on hold on the detainee's account.",
            held=money(b.held),
        )
        return [Blocker("money_on_hold", "funds", message, overridable=True)]
    return []


def on_released(det: Detainee, actor: Principal) -> Transaction | None:
    """Pay out everything (available and savings) in cash and close the account."""
    account = account_of(det)
    if account is None or account.status == AccountStatus.closed:
        return None
    _lock_accounts([account.id])  # after the detainee row, locked by the release
    db_session().refresh(account)
    if account.status == AccountStatus.closed:
        return None
    b = balances_of(account)
    if b.held > 0:  # release_blockers said so; never pay out money on hold
        raise Conflict(release_blockers(det)[0], code="funds_on_hold")
    tx = None
    if b.balance > 0:
        ledgers = detainee_ledgers(account)
        cash = establishment_ledger(account.establishment_id, LedgerKind.cash)
        postings = [
            (ledgers[LedgerKind.available], -b.available),
            (ledgers[LedgerKind.savings], -b.savings),
            (cash, b.balance),
        ]
        tx = _book(
            TxType.release_payout,
            account.establishment,
            [p for p in postings if p[1] != 0],
            actor=actor,
            account=account,
            memo=RELEASE_PAYOUT_MEMO,
        )
    account.status = AccountStatus.closed
    account.closed_at = utcnow()
    db_session().flush()
    audit.record(
        "funds.account.close",
        "funds_account",
        det.registration_number,
        establishment_id=account.establishment_id,
        summary={"paid_out": money(b.balance)},
        actor=actor,
    )
    return tx


def on_transferred(
    det: Detainee, source: Establishment, destination: Establishment, actor: Principal
) -> None:
    """The account follows the detainee: transfer-out at the source, transfer-in at the
    destination, through each establishment's clearing account."""
    # whoever completes the move (origin or destination staff) must find the account
    with unscoped("funds: the account follows its detainee to another establishment"):
        account = account_of(det)
    if account is None:
        open_account(det, actor)
        return
    if account.status == AccountStatus.closed:
        return
    # after the detainee row (locked by the transfer): the account, then both establishments'
    # ledger rows in id order (two transfers in opposite directions cannot deadlock)
    _lock_accounts([account.id])
    _lock_establishment_ledgers(source.id, destination.id)
    db_session().refresh(account)
    b = balances_of(account)
    ledgers = detainee_ledgers(account)
    if b.balance > 0:
        out_clearing = establishment_ledger(source.id, LedgerKind.clearing)
        postings = [
            (ledgers[LedgerKind.available], -b.available),
            (ledgers[LedgerKind.savings], -b.savings),
            (out_clearing, b.balance),
        ]
        _book(
            TxType.transfer_out,
            source,
            [p for p in postings if p[1] != 0],
            actor=actor,
            account=account,
            respect_hold=False,
            memo=TRANSFER_TO + destination.code,
        )
    account.establishment_id = destination.id
    account.establishment = destination
    db_session().flush()
    if b.balance > 0:
        in_clearing = establishment_ledger(destination.id, LedgerKind.clearing)
        postings = [
            (in_clearing, -b.balance),
            (ledgers[LedgerKind.available], b.available),
            (ledgers[LedgerKind.savings], b.savings),
        ]
        _book(
            TxType.transfer_in,
            destination,
            [p for p in postings if p[1] != 0],
            actor=actor,
            account=account,
            memo=TRANSFER_FROM + source.code,
        )
