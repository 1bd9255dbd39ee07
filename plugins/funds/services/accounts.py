"""Accounts: who may see them, opening one, its ledger accounts and its stored balances."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.audit import services as audit
from core.db import session as db_session
from core.db import utcnow
from core.detainees.models import Detainee
from core.detainees.services import get_detainee
from core.establishments.models import Establishment
from core.identity.models import User
from core.identity.services import has_permission, require
from core.principals import Principal
from core.scoping import establishment_ids
from plugins.funds.models import (
    CURRENCY,
    DETAINEE_KINDS,
    Account,
    AccountStatus,
    LedgerAccount,
    LedgerKind,
)
from plugins.funds.services.money import money


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
    if has_permission(user, "funds.write"):
        return
    audit.record_read(
        "funds_account",
        det.registration_number,
        establishment_id=det.establishment_id,
        summary={"what": what},
        actor=user,
    )


def view_account(rn: str, user: Principal, *, audit_read: bool = True) -> AccountView:
    """The balances of a detainee's account, if the user may see amounts there (else 404/403)."""
    require(user, "funds.view")
    det = get_detainee(rn, user)
    account = account_of(det)
    if audit_read:
        _audit_read(user, det, "balances")
    return AccountView(det, account, balances_of(account))


def establishment_ledger(establishment_id: int, kind: LedgerKind) -> LedgerAccount:
    sess = db_session()
    row = sess.scalar(
        select(LedgerAccount).where(
            LedgerAccount.establishment_id == establishment_id, LedgerAccount.kind == kind
        )
    )
    if row is None:
        # created on first use; two first movements racing insert it once (no global lock)
        ins = pg_insert if sess.get_bind().dialect.name == "postgresql" else sqlite_insert
        sess.execute(
            ins(LedgerAccount)
            .values(establishment_id=establishment_id, kind=kind, balance=0, held=0)
            .on_conflict_do_nothing(index_elements=["establishment_id", "kind"])
        )
        row = sess.scalars(
            select(LedgerAccount).where(
                LedgerAccount.establishment_id == establishment_id, LedgerAccount.kind == kind
            )
        ).one()
    return row


def detainee_ledgers(account: Account) -> dict[LedgerKind, LedgerAccount]:
    rows = db_session().scalars(select(LedgerAccount).where(LedgerAccount.account_id == account.id))
    return {row.kind: row for row in rows}


def open_account(det: Detainee, actor: Principal) -> Account:
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


def visible_establishments(user: User | None) -> list[Establishment]:
    ids = establishment_ids(user)
    stmt = select(Establishment).order_by(Establishment.code)
    if ids is not None:
        stmt = stmt.where(Establishment.id.in_(sorted(ids) or [-1]))
    return list(db_session().scalars(stmt))
