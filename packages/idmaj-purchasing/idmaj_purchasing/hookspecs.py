"""The hooks remote purchasing publishes for other modules (``plugin_hookspecs``).

Their names start with ``purchasing_``. Implement them with ``@hookimpl(optionalhook=True)``:
the implementation is then ignored while this package is not installed (or disabled). Their
arguments and results are the core's types and plain values, so an implementer imports
nothing of this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.plugins import hookspec

if TYPE_CHECKING:
    from core.detainees.models import Detainee


@hookspec
def purchasing_forbidden_categories(detainee: Detainee) -> list[str]:
    """Asked when a family sees the shop for a detainee and again when the order is placed
    (inside its transaction, after the detainee's lock): the product categories this detainee
    may not receive — a doctor's diet restriction (health), a disciplinary measure…

    :param detainee: the core's record of the detainee the order is for.
    :returns: category codes (``food``, ``drinks``, ``hygiene``, ``clothing``,
        ``stationery``, ``phone_cards``, ``tobacco``); unknown codes are ignored. Say why
        nowhere: the family is only told that the product cannot be ordered for them.
    """


@hookspec
def purchasing_payment_methods() -> list[Any]:
    """Asked when an order is placed, paid or refunded: the ways a family may pay.

    :returns: objects with ``code`` (stored on orders, 3-30 lower-case letters, digits or
        ``_``), ``label`` (lazy gettext), ``order`` (sorting) and three methods —
        ``offered(detainee) -> bool`` (may families pay this way for this detainee now?),
        ``collect(reference, amount, detainee, payer) -> tuple[bool, str]`` (called in the
        order's transaction: ``(True, receipt)`` when paid at once, ``(False,
        pay_reference)`` when the family pays later with that reference; raise a
        ``core.errors.DomainError`` to refuse — the order is then not placed) and
        ``refund(reference, amount, detainee, receipt) -> str`` (give the money back the way
        it came, in the transaction of the cancellation; return the refund's receipt or
        voucher). ``amount`` is a ``Decimal`` in MAD. This package brings ``agency`` (pay
        in cash at a payment agency) and ``account`` (the detainee's account, through the
        ``funds.accounts`` port); see ``docs/purchasing.md``.
    """


@hookspec(firstresult=True)
def purchasing_delivery_point(detainee: Detainee) -> str | None:
    """Asked when the shop's daily preparation list is drawn up, once per detainee on it:
    where in the establishment the detainee receives orders (a building, a wing), as the
    module that knows housing names it. The first answer wins (``firstresult``).

    :returns: a short label shown as the list's group heading, or ``None`` when unknown (the
        order is listed under "Building not known").
    """
