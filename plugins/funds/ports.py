"""The services funds offers other modules (``plugin_services``): the ``funds.accounts`` port.

A thin adapter over the funds rules: every call goes through the same services as the pages
and the API (permission, scope, limits, holds, audit), in the caller's transaction.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from core.contributions import ServicePort
from core.detainees.services import get_detainee
from core.ports.funds import FUNDS_ACCOUNTS, FundsAccounts, FundsReceipt

if TYPE_CHECKING:
    from core.principals import Principal


class FundsAccountsPort:
    """:class:`core.ports.funds.FundsAccounts`, implemented by the funds services."""

    def spendable(self, actor: Principal, registration_number: str) -> Decimal:
        from plugins.funds import services

        det = get_detainee(registration_number, actor)
        return services.to_decimal(services.balances_of(services.account_of(det)).spendable)

    def debit(
        self,
        actor: Principal,
        registration_number: str,
        amount: Decimal,
        memo: str,
        reference: str,
    ) -> FundsReceipt:
        from plugins.funds import services

        det = get_detainee(registration_number, actor)
        text = format(amount, "f") if isinstance(amount, Decimal) else amount
        note = " ".join(
            part for part in (memo or "", f"({reference})" if reference else "") if part
        )
        tx = services.purchase(det, actor, amount=text, memo=note)
        after = services.balances_of(services.account_of(det)).spendable
        return FundsReceipt(
            receipt_number=tx.receipt_number,
            registration_number=det.registration_number,
            amount=services.to_decimal(tx.amount),
            spendable_after=services.to_decimal(after),
        )

    def refund(
        self, actor: Principal, registration_number: str, receipt_number: str, memo: str
    ) -> FundsReceipt:
        """The purchase ``receipt_number`` given back whole: a reversal of it (the funds
        module's own way of undoing a movement), so the refunded purchase leaves the weekly
        spending limit too."""
        from flask_babel import gettext as _
        from sqlalchemy import select

        from core.db import session as db_session
        from core.errors import NotFound
        from plugins.funds import services
        from plugins.funds.models import Transaction, TxType

        det = get_detainee(registration_number, actor)
        account = services.account_of(det)
        tx = db_session().scalar(
            select(Transaction).where(
                Transaction.receipt_number == (receipt_number or "").strip(),
                Transaction.type == TxType.canteen_purchase,
            )
        )
        if tx is None or account is None or tx.account_id != account.id:
            raise NotFound(_("No such transaction."), code="transaction_not_found")
        back = services.reverse(tx, actor, memo=memo)
        after = services.balances_of(services.account_of(det)).spendable
        return FundsReceipt(
            receipt_number=back.receipt_number,
            registration_number=det.registration_number,
            amount=services.to_decimal(back.amount),
            spendable_after=services.to_decimal(after),
        )


def service_ports() -> list[ServicePort]:
    return [ServicePort(FUNDS_ACCOUNTS, FundsAccounts, FundsAccountsPort())]
