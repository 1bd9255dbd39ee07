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


def test_port_refund_gives_a_purchase_back_whole(app, factories):
    """``refund`` reverses the purchase it names: the money is back on the available balance,
    the purchase leaves the weekly spending limit, and it cannot be refunded twice."""
    from core.establishments.models import Establishment
    from plugins.funds import services

    rn, accountant = setup(app, factories)
    fund(app, rn, "100.00")
    with app.app_context():
        actor = session().get(User, accountant.id)
        est = session().scalar(select(Establishment).where(Establishment.code == "EST-A"))
        services.update_settings(
            est, actor, savings_share_pct=0, weekly_limit="50.00", deposit_ceiling="5000.00"
        )
        paid = accounts().debit(SYSTEM, rn, Decimal("40.00"), "Canteen order", "ACH-1")
        with pytest.raises(Conflict) as limit:  # 40 + 20 > 50 this week
            accounts().debit(SYSTEM, rn, Decimal("20.00"), "Canteen order", "ACH-2")
        assert limit.value.code == "weekly_limit_exceeded"
        back = accounts().refund(SYSTEM, rn, paid.receipt_number, "Refused at delivery")
        assert back.amount == Decimal("40.00") and back.spendable_after == Decimal("100.00")
        assert back.receipt_number != paid.receipt_number
        tx = session().scalar(
            select(Transaction).where(Transaction.receipt_number == back.receipt_number)
        )
        assert tx.type == TxType.reversal and tx.memo == "Refused at delivery"
        # the refunded purchase no longer counts towards the week
        accounts().debit(SYSTEM, rn, Decimal("20.00"), "Canteen order", "ACH-2")
        with pytest.raises(Conflict) as twice:
            accounts().refund(SYSTEM, rn, paid.receipt_number, "Again")
        assert twice.value.code == "already_reversed"
        with pytest.raises(NotFound):
            accounts().refund(SYSTEM, rn, "EST-A-1999-000001", "Unknown")
        with pytest.raises(ValidationFailed):
            accounts().refund(SYSTEM, rn, paid.receipt_number, "")
        session().commit()
    assert balances(app, rn).available == 8000
