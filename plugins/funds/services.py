"""Every rule of the detainee funds (pécule). Services never commit.

Concurrency: every write first takes the audit chain's head lock (the same lock
``core.audit.services.record`` takes for every change), so the funds writes and the detainee
lifecycle events that call into them (release, transfer) lock rows in one global order and can
never deadlock. A debit of a detainee's sub-account is then a conditional ``UPDATE … SET balance
= balance - :a WHERE id = :id AND balance - held >= :a`` whose row count is checked: a balance
can never go below zero (nor below the money on hold), whatever the backend or the concurrency.
The table also carries a ``CHECK (balance >= 0)`` as a last line of defence.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select, update

from core.audit import services as audit
from core.audit.models import AuditHead
from core.config import TIMEZONE
from core.db import session as db_session
from core.db import utcnow
from core.detainees.models import Detainee
from core.detainees.services import get_detainee, next_counter
from core.errors import Conflict, NotFound, ValidationFailed
from core.establishments.models import Establishment
from core.identity.models import User
from core.identity.services import has_permission, require
from core.scoping import ensure_in_scope, establishment_ids
from plugins.funds.models import (
    CURRENCY,
    DETAINEE_KINDS,
    Account,
    AccountStatus,
    CashCount,
    LedgerAccount,
    LedgerKind,
    Posting,
    Settings,
    Transaction,
    TxType,
)

LOCAL_TZ = ZoneInfo(TIMEZONE)
MAX_AMOUNT = 99_999_999_999  # 999,999,999.99 MAD: bigger is a typing mistake
AMOUNT_RE = re.compile(r"^(\d{1,9})(?:\.(\d{1,2}))?$")
NATIONAL_ID_RE = re.compile(r"^[A-Z]{1,2}[0-9]{1,8}$")
DEFAULT_CEILING = 500_000
DEPOSIT_SOURCES = {
    "family": TxType.family_deposit,
    "cash": TxType.cash_deposit,
    "other": TxType.other_deposit,
}
SPENDING_TYPES = (TxType.canteen_purchase, TxType.withdrawal)
REVERSIBLE = (
    TxType.family_deposit,
    TxType.cash_deposit,
    TxType.other_deposit,
    TxType.wage,
    TxType.canteen_purchase,
    TxType.withdrawal,
    TxType.fee,
)
DEPOSIT_TYPES = (TxType.family_deposit, TxType.cash_deposit, TxType.other_deposit)

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


# --------------------------------------------------------------------------------------------
# Amounts
# --------------------------------------------------------------------------------------------


class AmountError(ValueError):
    """A bad amount; ``str()`` is the localised message."""


def parse_amount(value: Any, *, allow_comma: bool = False) -> int:
    """A positive money amount given as text (``"125.50"``) → integer centimes.

    Refused: anything but a string (JSON numbers, null), signs, exponents, ``NaN``/``Infinity``,
    more than two decimals, zero, more than 999,999,999.99.
    """
    if value is None:
        raise AmountError(_("Enter an amount."))
    if isinstance(value, bool) or not isinstance(value, str):
        raise AmountError(_('Enter the amount as text with at most two decimals, e.g. "125.50".'))
    text = value.strip()
    if allow_comma:
        text = text.replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if not text:
        raise AmountError(_("Enter an amount."))
    match = AMOUNT_RE.match(text)
    if match is None:
        if re.match(r"^\d+\.\d{3,}$", text):
            raise AmountError(_("Use at most two decimals."))
        if text.startswith("-"):
            raise AmountError(_("Enter an amount greater than zero."))
        if re.match(r"^\d{10,}(\.\d*)?$", text):
            raise AmountError(_("This amount is too large."))
        raise AmountError(_('Enter the amount as text with at most two decimals, e.g. "125.50".'))
    whole, cents = match.group(1), (match.group(2) or "").ljust(2, "0")
    centimes = int(whole) * 100 + int(cents or "0")
    if centimes <= 0:
        raise AmountError(_("Enter an amount greater than zero."))
    if centimes > MAX_AMOUNT:
        raise AmountError(_("This amount is too large."))
    return centimes


def amount_or_error(value: Any, field_name: str = "amount", *, allow_comma: bool = False) -> int:
    try:
        return parse_amount(value, allow_comma=allow_comma)
    except AmountError as exc:
        raise ValidationFailed(
            _("Please correct the highlighted fields."), fields={field_name: str(exc)}
        ) from exc


def to_decimal(centimes: int) -> Decimal:
    return (Decimal(centimes) / 100).quantize(Decimal("0.01"))


def money(centimes: int) -> str:
    """``12550`` → ``"125.50"`` (the API's form)."""
    sign = "-" if centimes < 0 else ""
    centimes = abs(centimes)
    return f"{sign}{centimes // 100}.{centimes % 100:02d}"


def decimal_from_text(value: str) -> Decimal | None:
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


@dataclass
class Balances:
    available: int = 0
    savings: int = 0
    held: int = 0

    @property
    def balance(self) -> int:
        return self.available + self.savings

    @property
    def spendable(self) -> int:
        return self.available - self.held


@dataclass
class AccountView:
    detainee: Detainee
    account: Account | None
    balances: Balances = field(default_factory=Balances)

    @property
    def currency(self) -> str:
        return CURRENCY

    def as_json(self) -> dict[str, Any]:
        b = self.balances
        return {
            "registration_number": self.detainee.registration_number,
            "balance": money(b.balance),
            "available": money(b.available),
            "savings": money(b.savings),
            "held": money(b.held),
            "currency": CURRENCY,
            "status": self.account.status.value if self.account else AccountStatus.open.value,
        }


def can_view(user: User | None) -> bool:
    return has_permission(user, "funds.view")


def balances_of(account: Account | None) -> Balances:
    if account is None:
        return Balances()
    rows = db_session().execute(
        select(LedgerAccount.kind, LedgerAccount.balance, LedgerAccount.held)
        .where(LedgerAccount.account_id == account.id)
        .execution_options(populate_existing=True)
    )
    result = Balances()
    for kind, balance, held in rows:
        if kind == LedgerKind.available:
            result.available, result.held = int(balance), int(held)
        elif kind == LedgerKind.savings:
            result.savings = int(balance)
    return result


def account_of(det: Detainee) -> Account | None:
    return db_session().scalar(select(Account).where(Account.detainee_id == det.id))


def _audit_read(user: User | None, det: Detainee, what: str) -> None:
    """Reads of amounts by those who only oversee (director, auditor) are audited."""
    if user is None or has_permission(user, "funds.write"):
        return
    audit.record_read(
        "funds_account",
        det.registration_number,
        establishment_id=det.establishment_id,
        summary={"what": what},
        actor=user,
    )


def view_account(rn: str, user: User | None, *, audit_read: bool = True) -> AccountView:
    """The balances of a detainee's account, if the user may see amounts there (else 404/403)."""
    if user is not None:
        require(user, "funds.view")
    det = get_detainee(rn, user)
    account = account_of(det)
    if audit_read:
        _audit_read(user, det, "balances")
    return AccountView(det, account, balances_of(account))


@dataclass(frozen=True)
class Movement:
    transaction: Transaction
    net: int  # the change of this account's balance (available + savings)
    available: int
    savings: int

    @property
    def direction(self) -> str:
        return "credit" if self.net >= 0 else "debit"

    def as_json(self) -> dict[str, Any]:
        tx = self.transaction
        return {
            "id": tx.id,
            "type": tx.type.value,
            "amount": money(abs(self.net) if self.net else tx.amount),
            "direction": self.direction,
            "signed_amount": money(self.net),
            "created_at": tx.created_at.isoformat(),
            "receipt_number": tx.receipt_number,
            "memo": tx.memo,
            "reverses": tx.reverses_id,
        }


def _movement_query(account: Account) -> Any:
    avail = case((LedgerAccount.kind == LedgerKind.available, Posting.amount), else_=0)
    sav = case((LedgerAccount.kind == LedgerKind.savings, Posting.amount), else_=0)
    return (
        select(
            Posting.transaction_id,
            func.sum(Posting.amount).label("net"),
            func.sum(avail).label("available"),
            func.sum(sav).label("savings"),
        )
        .join(LedgerAccount, LedgerAccount.id == Posting.ledger_account_id)
        .where(LedgerAccount.account_id == account.id)
        .group_by(Posting.transaction_id)
    )


def movements(
    account: Account | None, page: int = 1, per_page: int = 20
) -> tuple[list[Movement], int]:
    """One item per transaction touching the account, newest first, and the total count."""
    if account is None:
        return [], 0
    sess = db_session()
    total = sess.scalar(
        select(func.count()).select_from(Transaction).where(Transaction.account_id == account.id)
    )
    txs = list(
        sess.scalars(
            select(Transaction)
            .where(Transaction.account_id == account.id)
            .order_by(Transaction.created_at.desc(), Transaction.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    if not txs:
        return [], int(total or 0)
    sums = {
        row.transaction_id: row
        for row in sess.execute(
            _movement_query(account).where(Posting.transaction_id.in_([t.id for t in txs]))
        )
    }
    items = []
    for tx in txs:
        row = sums.get(tx.id)
        items.append(
            Movement(
                tx,
                int(row.net) if row else 0,
                int(row.available) if row else 0,
                int(row.savings) if row else 0,
            )
        )
    return items, int(total or 0)


def list_transactions(
    rn: str, user: User | None, page: int = 1, per_page: int = 20
) -> tuple[AccountView, list[Movement], int]:
    view = view_account(rn, user, audit_read=False)
    _audit_read(user, view.detainee, "transactions")
    items, total = movements(view.account, page, per_page)
    return view, items, total


def statement(account: Account | None) -> list[tuple[Movement, int]]:
    """Every movement, oldest first, with the balance after it (for the printable/CSV form)."""
    if account is None:
        return []
    items, _total = movements(account, 1, 10**9)
    items.reverse()
    running = 0
    out = []
    for item in items:
        running += item.net
        out.append((item, running))
    return out


def get_transaction(tx_id: int, user: User | None) -> Transaction:
    tx = db_session().get(Transaction, tx_id)
    if tx is None:
        raise NotFound(_("No such transaction."), code="transaction_not_found")
    if user is not None:
        require(user, "funds.view")
        ensure_in_scope(user, tx.establishment_id)
    return tx


# --------------------------------------------------------------------------------------------
# Settings and ledger accounts
# --------------------------------------------------------------------------------------------


def settings_for(establishment_id: int) -> Settings:
    sess = db_session()
    row = sess.get(Settings, establishment_id)
    if row is None:
        row = Settings(
            establishment_id=establishment_id,
            savings_share_pct=10,
            weekly_limit=None,
            deposit_ceiling=DEFAULT_CEILING,
        )
        sess.add(row)
        sess.flush()
    return row


def update_settings(
    est: Establishment,
    actor: User,
    *,
    savings_share_pct: Any,
    weekly_limit: Any,
    deposit_ceiling: Any,
) -> Settings:
    require(actor, "funds.write")
    ensure_in_scope(actor, est.id)
    errors: dict[str, str] = {}
    pct: int | None = None
    try:
        pct = int(savings_share_pct)
        if not 0 <= pct <= 100:
            raise ValueError
    except (TypeError, ValueError):
        errors["savings_share_pct"] = _("Enter a whole number from 0 to 100.")
    limit: int | None = None
    if weekly_limit not in (None, ""):
        try:
            limit = parse_amount(weekly_limit, allow_comma=True)
        except AmountError as exc:
            errors["weekly_limit"] = str(exc)
    ceiling: int | None = None
    try:
        ceiling = parse_amount(deposit_ceiling, allow_comma=True)
    except AmountError as exc:
        errors["deposit_ceiling"] = str(exc)
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    row = settings_for(est.id)
    before = {
        "savings_share_pct": row.savings_share_pct,
        "weekly_limit": row.weekly_limit,
        "deposit_ceiling": row.deposit_ceiling,
    }
    row.savings_share_pct = pct or 0
    row.weekly_limit = limit
    row.deposit_ceiling = ceiling or DEFAULT_CEILING
    row.updated_at = utcnow()
    db_session().flush()
    audit.record(
        "funds.settings",
        "establishment",
        est.code,
        establishment_id=est.id,
        summary={k: [before[k], getattr(row, k)] for k in before if before[k] != getattr(row, k)},
        actor=actor,
    )
    return row


def _lock_in_global_order() -> None:
    """Take the audit head lock first (see the module docstring). No-op on SQLite, where the
    transaction already holds the database's write lock (``BEGIN IMMEDIATE``)."""
    sess = db_session()
    if sess.get_bind().dialect.name == "postgresql":
        sess.execute(select(AuditHead.id).where(AuditHead.id == 1).with_for_update())


def establishment_ledger(establishment_id: int, kind: LedgerKind) -> LedgerAccount:
    sess = db_session()
    row = sess.scalar(
        select(LedgerAccount).where(
            LedgerAccount.establishment_id == establishment_id, LedgerAccount.kind == kind
        )
    )
    if row is None:
        row = LedgerAccount(establishment_id=establishment_id, kind=kind, balance=0, held=0)
        sess.add(row)
        sess.flush()
    return row


def detainee_ledgers(account: Account) -> dict[LedgerKind, LedgerAccount]:
    rows = db_session().scalars(select(LedgerAccount).where(LedgerAccount.account_id == account.id))
    return {row.kind: row for row in rows}


def open_account(det: Detainee, actor: User | None = None) -> Account:
    """Open the detainee's account (idempotent: returns the existing one)."""
    sess = db_session()
    existing = account_of(det)
    if existing is not None:
        return existing
    account = Account(
        detainee_id=det.id,
        establishment_id=det.establishment_id,
        currency=CURRENCY,
        status=AccountStatus.open,
        opened_at=utcnow(),
    )
    sess.add(account)
    sess.flush()
    for kind in DETAINEE_KINDS:
        sess.add(LedgerAccount(account_id=account.id, kind=kind, balance=0, held=0))
    sess.flush()
    audit.record(
        "funds.account.open",
        "funds_account",
        det.registration_number,
        establishment_id=det.establishment_id,
        actor=actor,
    )
    return account


# --------------------------------------------------------------------------------------------
# Posting money
# --------------------------------------------------------------------------------------------


def insufficient_funds() -> Conflict:
    return Conflict(
        _("Insufficient funds: the available balance does not cover this amount."),
        code="insufficient_funds",
        fields={"amount": _("Insufficient funds.")},
    )


def _apply(ledger_id: int, amount: int, *, guard: bool, respect_hold: bool = True) -> None:
    """Add ``amount`` to a stored balance; with ``guard``, refuse to go below zero (or below
    the money on hold) with a conditional UPDATE whose row count is checked."""
    stmt = update(LedgerAccount).where(LedgerAccount.id == ledger_id)
    if guard and amount < 0:
        floor = (
            LedgerAccount.balance - LedgerAccount.held if respect_hold else LedgerAccount.balance
        )
        stmt = stmt.where(floor >= -amount)
    result = db_session().execute(
        stmt.values(balance=LedgerAccount.balance + amount),
        execution_options={"synchronize_session": False},
    )
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
    actor: User | None,
    account: Account | None,
    memo: str = "",
    respect_hold: bool = True,
    when: dt.datetime | None = None,
    **extra: Any,
) -> Transaction:
    """Write one balanced transaction and move the stored balances (``when``: demo data only)."""
    if sum(a for _la, a in postings) != 0:
        raise AssertionError("unbalanced transaction")
    sess = db_session()
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
    sess.add(tx)
    sess.flush()
    # debits first: a refused debit stops before anything else moved
    for ledger, value in sorted(postings, key=lambda p: (p[1] > 0, p[0].id)):
        _apply(ledger.id, value, guard=ledger.account_id is not None, respect_hold=respect_hold)
        sess.add(Posting(transaction_id=tx.id, ledger_account_id=ledger.id, amount=value))
    sess.flush()
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


def _writable_account(det: Detainee, actor: User | None) -> Account:
    """Lock order, permission, scope, and the open account of the detainee."""
    if actor is not None:
        require(actor, "funds.write")
        ensure_in_scope(actor, det.establishment_id)
    _lock_in_global_order()
    account = account_of(det)
    if account is None:
        if det.is_released:
            raise Conflict(_("This account is closed."), code="account_closed")
        account = open_account(det, actor)
    sess = db_session()
    if sess.get_bind().dialect.name == "postgresql":
        sess.execute(select(Account.id).where(Account.id == account.id).with_for_update())
    sess.refresh(account)
    if account.status == AccountStatus.closed:
        raise Conflict(_("This account is closed."), code="account_closed")
    return account


def _memo(value: Any, field_name: str = "memo", *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(
            _("Please correct the highlighted fields."), fields={field_name: _("Enter text.")}
        )
    value = " ".join(value.split())
    if required and not value:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={field_name: _("This field is required.")},
        )
    if len(value) > 300:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={field_name: _("At most %(n)d characters.", n=300)},
        )
    return value


def deposit(
    det: Detainee,
    actor: User | None,
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
            str(depositor_national_id or "").strip().upper()
            if isinstance(depositor_national_id, str | type(None))
            else ""
        )
        if not name:
            errors["depositor.name"] = _("Enter the depositor's full name.")
        elif len(name) > 200:
            errors["depositor.name"] = _("At most %(n)d characters.", n=200)
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
    ledgers = detainee_ledgers(account)
    cash = establishment_ledger(est.id, LedgerKind.cash)
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
    )


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
    actor: User | None,
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
    ledgers = detainee_ledgers(account)
    counter = establishment_ledger(est.id, counter_kind)
    return _book(
        tx_type,
        est,
        [(ledgers[LedgerKind.available], -cents), (counter, cents)],
        actor=actor,
        account=account,
        memo=memo_text,
        when=when,
    )


def withdraw(
    det: Detainee, actor: User | None, *, amount: Any, reason: Any, **kw: Any
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
    det: Detainee, actor: User | None, *, amount: Any, memo: Any = "", **kw: Any
) -> Transaction:
    """A canteen purchase paid from the available balance."""
    return _spend(TxType.canteen_purchase, LedgerKind.canteen, det, actor, amount, memo, **kw)


def charge_fee(
    det: Detainee, actor: User | None, *, amount: Any, memo: Any, **kw: Any
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


def set_hold(det: Detainee, actor: User | None, *, amount: Any, memo: Any) -> Account:
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


@dataclass(frozen=True)
class WageLine:
    registration_number: str
    amount: Any


def wage_run(
    est: Establishment,
    actor: User | None,
    *,
    workshop: Any,
    lines: Iterable[WageLine],
    allow_comma: bool = False,
) -> list[Transaction]:
    """Pay a workshop's wages to many detainees at once: all or nothing. Each wage is split
    between available and savings by the establishment's savings share."""
    if actor is not None:
        require(actor, "funds.write")
        ensure_in_scope(actor, est.id)
    workshop_name = _memo(workshop, "workshop", required=True)
    lines = list(lines)
    errors: dict[str, str] = {}
    parsed: list[tuple[Detainee, int]] = []
    seen: set[str] = set()
    if not lines:
        errors["lines"] = _("Enter at least one line.")
    for index, line in enumerate(lines, start=1):
        rn = (line.registration_number or "").strip()
        key = f"lines.{index}"
        if rn in seen:
            errors[key] = _("Line %(n)d: this detainee appears twice.", n=index)
            continue
        seen.add(rn)
        try:
            det = get_detainee(rn, None)
        except NotFound:
            errors[key] = _("Line %(n)d: no detainee with this registration number.", n=index)
            continue
        if det.establishment_id != est.id or det.is_released:
            errors[key] = _("Line %(n)d: this detainee is not held at this establishment.", n=index)
            continue
        try:
            cents = parse_amount(line.amount, allow_comma=allow_comma)
        except AmountError as exc:
            errors[key] = _("Line %(n)d: %(error)s", n=index, error=str(exc))
            continue
        parsed.append((det, cents))
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    _lock_in_global_order()
    share = settings_for(est.id).savings_share_pct
    wages = establishment_ledger(est.id, LedgerKind.wages)
    batch = f"{est.code}-W{next_counter(f'funds-wage-run-{est.code}'):05d}"
    txs = []
    for det, cents in sorted(parsed, key=lambda p: p[0].id):
        account = _writable_account(det, None)
        ledgers = detainee_ledgers(account)
        to_savings = cents * share // 100
        postings = [(wages, -cents), (ledgers[LedgerKind.available], cents - to_savings)]
        if to_savings:
            postings.append((ledgers[LedgerKind.savings], to_savings))
        postings = [p for p in postings if p[1] != 0]
        txs.append(
            _book(
                TxType.wage,
                est,
                postings,
                actor=actor,
                account=account,
                memo=workshop_name,
                batch=batch,
            )
        )
    return txs


def reverse(tx: Transaction, actor: User | None, *, memo: Any) -> Transaction:
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


# --------------------------------------------------------------------------------------------
# Life events
# --------------------------------------------------------------------------------------------


def on_admitted(det: Detainee, actor: User | None) -> None:
    open_account(det, actor)


def release_blockers(det: Detainee) -> list[str]:
    account = account_of(det)
    if account is None or account.status == AccountStatus.closed:
        return []
    b = balances_of(account)
    if b.held > 0:
        return [
            _(
                "Funds: %(held)s MAD are on hold on the detainee's account; lift the hold "
                "before the release payout.",
                held=money(b.held),
            )
        ]
    return []


def on_released(det: Detainee, actor: User | None) -> Transaction | None:
    """Pay out everything (available and savings) in cash and close the account."""
    _lock_in_global_order()
    account = account_of(det)
    if account is None or account.status == AccountStatus.closed:
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
            memo=_("Paid out at release"),
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
    det: Detainee, source: Establishment, destination: Establishment, actor: User | None
) -> None:
    """The account follows the detainee: transfer-out at the source, transfer-in at the
    destination, through each establishment's clearing account."""
    _lock_in_global_order()
    account = account_of(det)
    if account is None:
        open_account(det, actor)
        return
    if account.status == AccountStatus.closed:
        return
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
            memo=_("Transfer to %(code)s", code=destination.code),
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
            memo=_("Transfer from %(code)s", code=source.code),
        )


# --------------------------------------------------------------------------------------------
# The establishment's books: journal, cash reconciliation, checks
# --------------------------------------------------------------------------------------------


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=LOCAL_TZ)
    end = start + dt.timedelta(days=1)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def today_local() -> dt.date:
    return utcnow().astimezone(LOCAL_TZ).date()


def visible_establishments(user: User | None) -> list[Establishment]:
    ids = establishment_ids(user)
    stmt = select(Establishment).order_by(Establishment.code)
    if ids is not None:
        stmt = stmt.where(Establishment.id.in_(sorted(ids) or [-1]))
    return list(db_session().scalars(stmt))


@dataclass
class Journal:
    establishment: Establishment
    day: dt.date
    transactions: list[Transaction]
    totals: dict[str, int]
    cash_in: int
    cash_out: int


def journal(est: Establishment, day: dt.date, user: User | None) -> Journal:
    if user is not None:
        require(user, "funds.view")
        ensure_in_scope(user, est.id)
    start, end = local_day_bounds(day)
    txs = list(
        db_session().scalars(
            select(Transaction)
            .where(
                Transaction.establishment_id == est.id,
                Transaction.created_at >= start,
                Transaction.created_at < end,
            )
            .order_by(Transaction.created_at, Transaction.id)
        )
    )
    totals: dict[str, int] = {}
    cash_in = cash_out = 0
    for tx in txs:
        totals[tx.type.value] = totals.get(tx.type.value, 0) + tx.amount
        for p in tx.postings:
            if p.ledger_account.kind == LedgerKind.cash and p.ledger_account.establishment_id:
                if p.amount < 0:
                    cash_in += -p.amount
                else:
                    cash_out += p.amount
    return Journal(est, day, txs, totals, cash_in, cash_out)


def cash_on_ledger(est: Establishment) -> int:
    """The cash the ledger says the establishment holds (debit balance, shown positive)."""
    row = establishment_ledger(est.id, LedgerKind.cash)
    db_session().refresh(row)
    return -int(row.balance)


def reconcile_cash(est: Establishment, actor: User | None, *, counted: Any, note: Any) -> CashCount:
    """Record a cash count against the ledger; a difference is booked to ``cash_difference``
    so that the ledger matches the counted cash afterwards."""
    if actor is not None:
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
    _lock_in_global_order()
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


# --------------------------------------------------------------------------------------------
# Dashboard
# --------------------------------------------------------------------------------------------


@dataclass
class DashboardFigures:
    deposits_today_count: int
    deposits_today: int
    total_held: int
    days: list[tuple[dt.date, int, int]]  # (day, amount, percent of the busiest day)


def dashboard_figures(user: User | None) -> DashboardFigures:
    ids = establishment_ids(user)
    sess = db_session()
    today = today_local()
    start30, _end = local_day_bounds(today - dt.timedelta(days=29))
    stmt = select(Transaction.created_at, Transaction.amount).where(
        Transaction.type.in_(DEPOSIT_TYPES), Transaction.created_at >= start30
    )
    held_stmt = (
        select(func.coalesce(func.sum(LedgerAccount.balance), 0))
        .join(Account, Account.id == LedgerAccount.account_id)
        .where(Account.status == AccountStatus.open)
    )
    if ids is not None:
        stmt = stmt.where(Transaction.establishment_id.in_(sorted(ids) or [-1]))
        held_stmt = held_stmt.where(Account.establishment_id.in_(sorted(ids) or [-1]))
    per_day: dict[dt.date, int] = {}
    count_today = 0
    for created_at, amount in sess.execute(stmt):
        day = created_at.astimezone(LOCAL_TZ).date()
        per_day[day] = per_day.get(day, 0) + int(amount)
        if day == today:
            count_today += 1
    days = [today - dt.timedelta(days=n) for n in range(29, -1, -1)]
    peak = max([per_day.get(d, 0) for d in days] + [1])
    return DashboardFigures(
        deposits_today_count=count_today,
        deposits_today=per_day.get(today, 0),
        total_held=int(sess.scalar(held_stmt) or 0),
        days=[(d, per_day.get(d, 0), round(per_day.get(d, 0) * 20 / peak) * 5) for d in days],
    )


def deposit_payload(tx: Transaction, account: Account) -> dict[str, Any]:
    view = AccountView(account.detainee, account, balances_of(account))
    net = sum(p.amount for p in tx.postings if p.ledger_account.account_id == account.id)
    return {
        **Movement(tx, net, 0, 0).as_json(),
        "account": {k: v for k, v in view.as_json().items()},
    }


__all__ = [
    "AccountView",
    "Balances",
    "WageLine",
    "deposit",
    "parse_amount",
    "purchase",
    "reverse",
    "view_account",
    "wage_run",
    "withdraw",
]
