"""Detainee funds (pécule): a double-entry, append-only ledger in integer centimes.

- :class:`Account` — one per detainee (follows them between establishments).
- :class:`LedgerAccount` — where postings land: a detainee's ``available`` and ``savings``
  sub-accounts, and each establishment's ``cash``, ``bank``, ``canteen``, ``wages``, ``fees``,
  ``clearing`` (transfers between establishments) and ``cash_difference`` accounts. Each row
  stores its ``balance`` (= the sum of its postings), so reading a balance never sums the ledger.
- :class:`Transaction` — one movement (its type, amount, receipt number, actor, memo); never
  edited nor deleted: a mistake is corrected by a reversal pointing at the original.
- :class:`Posting` — one signed line of a transaction; the postings of a transaction sum to 0.

Sign convention: a posting's ``amount`` is positive for a credit. A detainee sub-account (money
the administration owes the detainee) has a credit balance ``>= 0``; the establishment's cash or
bank (assets) have a debit balance, shown negated (``-balance``) as "held".
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, BigId, UTCDateTime, utcnow, value_enum
from core.detainees.models import Detainee
from core.establishments.models import Establishment
from core.scoping import EstablishmentScoped

CURRENCY = "MAD"


class AccountStatus(enum.StrEnum):
    open = "open"
    closed = "closed"


class LedgerKind(enum.StrEnum):
    # a detainee's sub-accounts
    available = "available"
    savings = "savings"
    # an establishment's accounts
    cash = "cash"
    bank = "bank"
    canteen = "canteen"
    wages = "wages"
    fees = "fees"
    clearing = "clearing"
    cash_difference = "cash_difference"


DETAINEE_KINDS = (LedgerKind.available, LedgerKind.savings)
ESTABLISHMENT_KINDS = tuple(k for k in LedgerKind if k not in DETAINEE_KINDS)


class TxType(enum.StrEnum):
    family_deposit = "family_deposit"
    cash_deposit = "cash_deposit"
    other_deposit = "other_deposit"
    wage = "wage"
    canteen_purchase = "canteen_purchase"
    withdrawal = "withdrawal"
    fee = "fee"
    transfer_out = "transfer_out"
    transfer_in = "transfer_in"
    release_payout = "release_payout"
    reversal = "reversal"
    cash_difference = "cash_difference"


class DepositSource(enum.StrEnum):
    """Where a deposit's money came from; ``none`` (stored as ``""``) for any other movement."""

    none = ""
    family = "family"
    cash = "cash"
    other = "other"


class Settings(Base):
    """Per-establishment rules (a row is created with the defaults on first use)."""

    __tablename__ = "funds_settings"

    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("core_establishments.id", ondelete="CASCADE"), primary_key=True
    )
    savings_share_pct: Mapped[int] = mapped_column(default=10)
    weekly_limit: Mapped[int | None] = mapped_column(BigInteger, default=None)
    deposit_ceiling: Mapped[int] = mapped_column(BigInteger, default=500_000)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Account(EstablishmentScoped, Base):
    __tablename__ = "funds_accounts"
    __table_args__ = (UniqueConstraint("detainee_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    detainee_id: Mapped[int] = mapped_column(ForeignKey("core_detainees.id", ondelete="RESTRICT"))
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("core_establishments.id", ondelete="RESTRICT"), index=True
    )
    currency: Mapped[str] = mapped_column(String(3), default=CURRENCY)
    status: Mapped[AccountStatus] = mapped_column(
        value_enum(AccountStatus, 30, check="status"), default=AccountStatus.open
    )
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)

    detainee: Mapped[Detainee] = relationship(lazy="joined")
    establishment: Mapped[Establishment] = relationship()


class LedgerAccount(Base):
    __tablename__ = "funds_ledger_accounts"
    __table_args__ = (
        UniqueConstraint("account_id", "kind"),
        UniqueConstraint("establishment_id", "kind"),
        CheckConstraint("(account_id IS NULL) <> (establishment_id IS NULL)", name="one_owner"),
        CheckConstraint("account_id IS NULL OR balance >= 0", name="no_overdraft"),
        CheckConstraint("held >= 0", name="held_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("funds_accounts.id", ondelete="RESTRICT"), default=None
    )
    establishment_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_establishments.id", ondelete="RESTRICT"), default=None
    )
    kind: Mapped[LedgerKind] = mapped_column(value_enum(LedgerKind, 30, check="kind"))
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    held: Mapped[int] = mapped_column(BigInteger, default=0)


class Transaction(Base):
    __tablename__ = "funds_transactions"
    __table_args__ = (
        UniqueConstraint("receipt_number"),
        UniqueConstraint("reverses_id"),
        Index("ix_funds_transactions_account_created", "account_id", "created_at"),
        Index("ix_funds_transactions_est_created", "establishment_id", "created_at"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    type: Mapped[TxType] = mapped_column(value_enum(TxType, 30, check="type"))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("funds_accounts.id", ondelete="RESTRICT"), default=None
    )
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("core_establishments.id", ondelete="RESTRICT")
    )
    amount: Mapped[int] = mapped_column(BigInteger)
    receipt_number: Mapped[str] = mapped_column(String(40))
    memo: Mapped[str] = mapped_column(String(300), default="")
    source: Mapped[DepositSource] = mapped_column(
        value_enum(DepositSource, 20, check="source"), default=DepositSource.none
    )
    depositor_name: Mapped[str] = mapped_column(String(200), default="")
    depositor_national_id: Mapped[str] = mapped_column(String(20), default="")
    batch: Mapped[str] = mapped_column(String(60), default="")
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("funds_transactions.id", ondelete="RESTRICT"), default=None
    )
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None
    )
    actor_username: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    account: Mapped[Account | None] = relationship()
    establishment: Mapped[Establishment] = relationship()
    postings: Mapped[list[Posting]] = relationship(
        back_populates="transaction", order_by="Posting.id"
    )
    reverses: Mapped[Transaction | None] = relationship(remote_side=[id])


class Posting(Base):
    __tablename__ = "funds_postings"
    __table_args__ = (CheckConstraint("amount <> 0", name="amount_not_zero"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("funds_transactions.id", ondelete="RESTRICT"), index=True
    )
    ledger_account_id: Mapped[int] = mapped_column(
        ForeignKey("funds_ledger_accounts.id", ondelete="RESTRICT"), index=True
    )
    amount: Mapped[int] = mapped_column(BigInteger)

    transaction: Mapped[Transaction] = relationship(back_populates="postings")
    ledger_account: Mapped[LedgerAccount] = relationship()


class CashCount(EstablishmentScoped, Base):
    """A cash reconciliation: the cash counted against the ledger, the difference recorded."""

    __tablename__ = "funds_cash_counts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("core_establishments.id", ondelete="RESTRICT"), index=True
    )
    counted: Mapped[int] = mapped_column(BigInteger)
    expected: Mapped[int] = mapped_column(BigInteger)
    difference: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(String(300), default="")
    transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("funds_transactions.id", ondelete="RESTRICT"), default=None
    )
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None
    )
    actor_username: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


MODELS: list[type] = [Settings, Account, LedgerAccount, Transaction, Posting, CashCount]
