"""The ``funds.accounts`` port: debit a detainee's account without importing the funds module.

Declared in the core so that a caller (remote purchasing, a fee-charging module) imports it
without importing funds; the funds plugin provides it (``plugins/funds/ports.py``). Look it up
with :func:`core.ports.port` and check :func:`core.ports.has_port` first to hide the feature
when funds is disabled::

    from core.ports import has_port, port
    from core.ports.funds import FUNDS_ACCOUNTS, FundsAccounts

    if has_port(FUNDS_ACCOUNTS):
        accounts = port(FUNDS_ACCOUNTS, FundsAccounts)
        receipt = accounts.debit(user, "2025-000123", Decimal("12.50"), "Canteen", "order 7")
        # the order is refused at delivery: the purchase is given back whole
        accounts.refund(user, "2025-000123", receipt.receipt_number, "Refused at delivery")

Amounts are ``Decimal`` MAD with at most two decimals. The funds module keeps its rules: the
actor needs its write permission in the detainee's establishment (a module acting on its own
authority passes :data:`core.principals.SYSTEM`; ``None`` is refused), the weekly spending
limit and money on hold apply, a closed account is refused; refusals are the usual
:class:`core.errors.DomainError` values.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from core.principals import Principal

FUNDS_ACCOUNTS = "funds.accounts"


@dataclass(frozen=True)
class FundsReceipt:
    """What a debit hands back: the receipt number printed on the funds' receipt."""

    receipt_number: str
    registration_number: str
    amount: Decimal
    spendable_after: Decimal


@runtime_checkable
class FundsAccounts(Protocol):
    """A detainee's account, as other modules may use it."""

    def spendable(self, actor: Principal, registration_number: str) -> Decimal:
        """What the detainee may spend now: the available balance less money on hold
        (savings for release excluded). Raises ``NotFound`` for an unknown detainee or one the
        actor may not see."""
        ...

    def debit(
        self,
        actor: Principal,
        registration_number: str,
        amount: Decimal,
        memo: str,
        reference: str,
    ) -> FundsReceipt:
        """Pay a purchase of ``amount`` from the available balance, in the caller's
        transaction; ``reference`` (an order number…) is kept with the memo. Raises
        ``Conflict`` (insufficient funds, weekly limit, closed account), ``ValidationFailed``
        (a bad amount or memo), ``Forbidden`` or ``NotFound``."""
        ...

    def refund(
        self, actor: Principal, registration_number: str, receipt_number: str, memo: str
    ) -> FundsReceipt:
        """Give back, whole, a purchase paid with :meth:`debit` (an order refused at delivery
        or cancelled): the opposite movement of the debit whose ``receipt_number`` it names,
        credited to the available balance, in the caller's transaction. A refunded purchase no
        longer counts towards the weekly spending limit. The returned receipt is the refund's.
        Raises ``NotFound`` (no such purchase of this detainee), ``Conflict``
        (``already_reversed``; ``account_closed`` after the release payout;
        ``not_reversible`` when the purchase was booked at another establishment than the
        account's — refund before the account follows a transfer, see ``docs/plugins.md``),
        ``ValidationFailed`` (an empty memo) or ``Forbidden``."""
        ...


__all__ = ["FUNDS_ACCOUNTS", "FundsAccounts", "FundsReceipt"]
