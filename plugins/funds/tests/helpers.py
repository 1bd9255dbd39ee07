"""Shared helpers of the funds tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.principals import SYSTEM

FAMILY = {"name": "Fatima Zahra Benali", "national_id": "BE123456"}


def deposit_body(amount: str = "100.00", **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"amount": amount, "source": "family", "depositor": dict(FAMILY)}
    body.update(kw)
    return body


def setup(app: Any, factories: Any, est: str = "EST-A") -> tuple[str, Any]:
    """A detainee at ``est`` and an accountant there; returns (rn, accountant)."""
    with app.app_context():
        det = factories.detainee(est)
        accountant = factories.user("accountant", (est,))
        return det.registration_number, accountant


def fund(app: Any, rn: str, amount: str = "100.00") -> None:
    """Deposit ``amount`` on ``rn`` through the service (committed)."""
    from core.db import session
    from core.detainees.services import get_detainee
    from plugins.funds import services

    with app.app_context():
        det = get_detainee(rn, SYSTEM)
        services.deposit(det, SYSTEM, amount=amount, source="cash")
        session().commit()


def balances(app: Any, rn: str) -> Any:
    from core.detainees.services import get_detainee
    from plugins.funds import services

    with app.app_context():
        det = get_detainee(rn, SYSTEM)
        return services.balances_of(services.account_of(det))


def count_transactions(app: Any, rn: str | None = None) -> int:
    from core.db import session
    from core.detainees.services import get_detainee
    from plugins.funds.models import Transaction

    with app.app_context():
        stmt = select(Transaction.id)
        if rn is not None:
            det = get_detainee(rn, SYSTEM)
            from plugins.funds.services import account_of

            stmt = stmt.where(Transaction.account_id == account_of(det).id)
        return len(list(session().scalars(stmt)))


def ledger_problems(app: Any) -> list[str]:
    from plugins.funds.services import check_ledger

    with app.app_context():
        return check_ledger()
