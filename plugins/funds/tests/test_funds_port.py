"""The ``funds.accounts`` service port (``plugins/funds/ports.py``): other modules debit a
detainee's account through :class:`core.ports.funds.FundsAccounts`, in their own transaction,
with every rule of the funds module kept."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.db import session, transaction
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.identity.models import User
from core.ports import has_port, port
from core.ports.funds import FUNDS_ACCOUNTS, FundsAccounts, FundsReceipt
from core.principals import SYSTEM
from plugins.funds.models import Transaction, TxType
from plugins.funds.tests.helpers import balances, count_transactions, fund, setup


def accounts() -> FundsAccounts:
    return port(FUNDS_ACCOUNTS, FundsAccounts)


def test_funds_provides_the_accounts_port(app):
    with app.app_context():
        assert has_port(FUNDS_ACCOUNTS, FundsAccounts)
        assert isinstance(accounts(), FundsAccounts)
    assert app.extensions["idmaj.ports"].get(FUNDS_ACCOUNTS).provider == "funds"


def test_port_debit_is_a_purchase_under_the_funds_rules(app, factories):
    rn, accountant = setup(app, factories)
    fund(app, rn, "100.00")
    with app.app_context():
        assert accounts().spendable(SYSTEM, rn) == Decimal("100.00")
        actor = session().get(User, accountant.id)
        receipt = accounts().debit(actor, rn, Decimal("12.5"), "Canteen order", "order-7")
        session().commit()
        tx = session().scalar(
            select(Transaction).where(Transaction.receipt_number == receipt.receipt_number)
        )
        assert tx.type == TxType.canteen_purchase
        assert tx.memo == "Canteen order (order-7)"
        assert tx.actor_username == accountant.username
        assert accounts().spendable(SYSTEM, rn) == Decimal("87.50")
    assert receipt == FundsReceipt(
        receipt_number=receipt.receipt_number,
        registration_number=rn,
        amount=Decimal("12.50"),
        spendable_after=Decimal("87.50"),
    )
    assert balances(app, rn).available == 8750


def test_port_debit_rolls_back_with_the_caller(app, factories):
    rn, _accountant = setup(app, factories)
    fund(app, rn, "50.00")
    before = count_transactions(app, rn)
    with app.app_context():
        with pytest.raises(RuntimeError), transaction():
            receipt = accounts().debit(SYSTEM, rn, Decimal("20.00"), "Canteen order", "order-8")
            assert receipt.spendable_after == Decimal("30.00")  # written, not yet committed
            raise RuntimeError("the caller fails after the debit")
        assert accounts().spendable(SYSTEM, rn) == Decimal("50.00")
    assert count_transactions(app, rn) == before
    assert balances(app, rn).available == 5000


def test_port_keeps_every_refusal_of_the_funds_module(app, factories):
    rn, accountant = setup(app, factories)
    fund(app, rn, "10.00")
    with app.app_context():
        nurse = factories.user("nurse", ("EST-A",))
        elsewhere = factories.user("accountant", ("EST-B",))
        actor = session().get(User, accountant.id)
        with pytest.raises(Conflict) as info:
            accounts().debit(actor, rn, Decimal("10.01"), "Too much", "order-9")
        assert info.value.code == "insufficient_funds"
        with pytest.raises(ValidationFailed) as bad:
            accounts().debit(actor, rn, Decimal("1.001"), "Three decimals", "order-10")
        assert "amount" in bad.value.fields
        with pytest.raises(ValidationFailed):
            accounts().debit(actor, rn, Decimal("-1"), "Negative", "order-11")
        with pytest.raises(Forbidden):
            accounts().debit(session().get(User, nurse.id), rn, Decimal(1), "Nurse", "order-12")
        with pytest.raises(NotFound):  # another establishment's detainee does not exist for them
            accounts().debit(session().get(User, elsewhere.id), rn, Decimal(1), "Far", "o-13")
        with pytest.raises(NotFound):
            accounts().spendable(SYSTEM, "1999-000001")
        session().rollback()
    assert balances(app, rn).available == 1000
