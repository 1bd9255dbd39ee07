"""Messages to the family at each step of an order, in the family's language, through the
core's outbox (written in the order's transaction, sent after it commits)."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from core.db import session as db_session
from core.identity.models import User
from core.notifications.services import enqueue
from idmaj_purchasing.models import Order, OrderStatus
from idmaj_purchasing.services.common import money, reason_label


def tell_family(order: Order) -> None:
    """The message for the order's current status (nothing when the family account is gone)."""
    user = db_session().get(User, order.family_id) if order.family_id else None
    if user is None:
        return
    with force_locale(user.locale or "ar"):
        subject, body = _words(order)
        enqueue(
            kind=f"purchasing.order.{order.status}",
            subject=subject,
            body=body,
            user=user,
        )


def _words(order: Order) -> tuple[str, str]:
    ref = order.reference
    total = money(order.total_centimes)
    status = OrderStatus(order.status)
    if status == OrderStatus.awaiting_payment:
        return (
            _("Order %(ref)s placed: pay at an agency", ref=ref),
            _(
                "Pay %(total)s MAD at a payment agency with the reference %(pay)s before "
                "the order expires.",
                total=total,
                pay=order.pay_reference or "",
            ),
        )
    if status == OrderStatus.paid:
        return (
            _("Order %(ref)s paid", ref=ref),
            _("The shop received %(total)s MAD and will prepare the order.", total=total),
        )
    if status == OrderStatus.prepared:
        return (
            _("Order %(ref)s prepared", ref=ref),
            _("The order is ready and will be handed to the detainee."),
        )
    if status == OrderStatus.delivered:
        return (
            _("Order %(ref)s delivered", ref=ref),
            _("The detainee received the order and signed for it."),
        )
    refund = ""
    if order.refund_receipt:
        refund = _(
            "%(total)s MAD are refunded the way they were paid (refund %(receipt)s).",
            total=total,
            receipt=order.refund_receipt,
        )
    if status == OrderStatus.refused:
        return (
            _("Order %(ref)s refused at delivery", ref=ref),
            " ".join(p for p in (_("Reason: %(reason)s", reason=order.reason), refund) if p),
        )
    if status == OrderStatus.expired:
        return (
            _("Order %(ref)s expired", ref=ref),
            _("It was not paid in time; nothing was charged."),
        )
    return (
        _("Order %(ref)s cancelled", ref=ref),
        " ".join(p for p in (reason_label(order.reason), refund) if p),
    )
