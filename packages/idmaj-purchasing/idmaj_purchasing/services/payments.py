"""How families pay: the payment-method interface and this package's two methods.

A payment method is any object with ``code``, ``label``, ``order``, ``offered(detainee)``,
``collect(reference, amount, detainee, payer)`` and ``refund(reference, amount, detainee,
receipt)`` (:class:`PaymentMethod`); modules contribute theirs through the hook this package
publishes, ``purchasing_payment_methods`` — this package's own two come the same way:

- ``agency``: the family gets a pay reference and pays in cash at a payment agency; the shop
  imports the agency's settlement file (:mod:`idmaj_purchasing.services.settlement`) and the
  matched orders become paid. A refund is a voucher the family cashes at the agency.
- ``account``: the detainee's account pays at once, through the ``funds.accounts`` service
  port (the funds module's weekly spending limit and balance apply, in the order's
  transaction); offered only when a module provides that port. A refund is the funds
  module's reversal of the purchase.
"""

from __future__ import annotations

import re
import secrets
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from flask_babel import gettext as _

from core.detainees.models import Detainee
from core.errors import Conflict, DomainError, ValidationFailed
from core.i18n import lazy_gettext as _l
from core.plugins import collect
from core.ports import has_port, port
from core.ports.funds import FUNDS_ACCOUNTS, FundsAccounts
from core.principals import SYSTEM

CODE_RE = re.compile(r"^[a-z][a-z0-9_]{2,29}$")


@runtime_checkable
class PaymentMethod(Protocol):
    """What ``purchasing_payment_methods`` implementations return (structural: an
    implementer need not import this class)."""

    code: str
    label: Any
    order: int

    def offered(self, detainee: Detainee) -> bool: ...

    def collect(
        self, reference: str, amount: Decimal, detainee: Detainee, payer: Any
    ) -> tuple[bool, str]: ...

    def refund(self, reference: str, amount: Decimal, detainee: Detainee, receipt: str) -> str: ...


class AgencyPayment:
    """Pay in cash at a payment agency with a reference; settled by the agency's file."""

    code = "agency"
    label = _l("Pay at a payment agency")
    order = 10

    def offered(self, detainee: Detainee) -> bool:
        return True

    def collect(
        self, reference: str, amount: Decimal, detainee: Detainee, payer: Any
    ) -> tuple[bool, str]:
        return False, new_pay_reference()

    def refund(self, reference: str, amount: Decimal, detainee: Detainee, receipt: str) -> str:
        # the money is handed back at the agency against this voucher
        return f"RB-{reference}"


class AccountPayment:
    """Paid at once from the detainee's account (the ``funds.accounts`` port)."""

    code = "account"
    label = _l("Pay from the detainee's account")
    order = 20

    def offered(self, detainee: Detainee) -> bool:
        return has_port(FUNDS_ACCOUNTS, FundsAccounts)

    def collect(
        self, reference: str, amount: Decimal, detainee: Detainee, payer: Any
    ) -> tuple[bool, str]:
        accounts = port(FUNDS_ACCOUNTS, FundsAccounts)
        try:
            # on the module's authority: the family holds no funds permission; funds keeps
            # its rules (balance, money on hold, weekly spending limit, closed account)
            receipt = accounts.debit(
                SYSTEM, detainee.registration_number, amount, "Remote purchasing", reference
            )
        except Conflict as exc:
            # a broken rule for the family (422), not a conflict with the order's state
            raise ValidationFailed(
                _("The detainee's account cannot pay this order: %(why)s", why=exc.message),
                code=exc.code,
                fields={"payment": str(exc.message)},
            ) from exc
        return True, receipt.receipt_number

    def refund(self, reference: str, amount: Decimal, detainee: Detainee, receipt: str) -> str:
        accounts = port(FUNDS_ACCOUNTS, FundsAccounts)
        back = accounts.refund(
            SYSTEM, detainee.registration_number, receipt, f"Remote purchasing {reference}"
        )
        return back.receipt_number


BUILT_IN = [AgencyPayment(), AccountPayment()]


def new_pay_reference() -> str:
    """Twelve digits, the last a check digit (Luhn), so a mistyped reference is caught at the
    agency's counter or in the settlement file."""
    body = "".join(str(secrets.randbelow(10)) for _ in range(11))
    return body + luhn_digit(body)


def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(reference: str) -> bool:
    return (
        len(reference) == 12 and reference.isdigit() and luhn_digit(reference[:-1]) == reference[-1]
    )


def methods() -> list[Any]:
    """Every payment method of the installed modules, valid ones only, by ``order``."""
    found: dict[str, Any] = {}
    for item in collect("purchasing_payment_methods"):
        if isinstance(item, PaymentMethod) and CODE_RE.match(str(item.code)):
            found.setdefault(item.code, item)
    return sorted(found.values(), key=lambda m: (m.order, m.code))


def method(code: str) -> Any | None:
    return next((m for m in methods() if m.code == code), None)


def offered_methods(detainee: Detainee) -> list[Any]:
    return [m for m in methods() if _offered(m, detainee)]


def _offered(m: Any, detainee: Detainee) -> bool:
    try:
        return bool(m.offered(detainee))
    except DomainError:
        return False
