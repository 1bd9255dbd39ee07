"""A family's own orders: in their data download, and when they close their account."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from core.audit import services as audit
from core.contributions import DataSection
from core.db import session as db_session
from idmaj_purchasing.models import Order, OrderStatus
from idmaj_purchasing.services.common import money, payment_label, status_label
from idmaj_purchasing.services.ordering import close_undelivered
from idmaj_purchasing.services.transitions import CANCELLABLE


def export(user: Any) -> list[DataSection]:
    orders = list(
        db_session().scalars(
            select(Order).where(Order.family_id == user.id).order_by(Order.placed_at)
        )
    )
    rows = tuple(
        {
            "reference": o.reference,
            "placed_at": o.placed_at.isoformat(),
            "detainee": o.detainee.registration_number,
            "total": money(o.total_centimes),
            "payment": payment_label(o.payment_method),
            "status": status_label(o.status),
            "items": "; ".join(f"{ln.quantity} × {ln.name_fr}" for ln in o.lines),
        }
        for o in orders
    )
    return [
        DataSection(
            "purchasing.orders",
            _("Your shop orders"),
            (
                ("reference", _("Reference")),
                ("placed_at", _("Placed on")),
                ("detainee", _("Detainee")),
                ("total", _("Total (MAD)")),
                ("payment", _("Payment")),
                ("status", _("Status")),
                ("items", _("Products")),
            ),
            rows,
            note=_(
                "Paid orders are kept for the establishment's accounts, tied to your account "
                "number only once your account is closed."
            ),
            order=60,
        )
    ]


def closing(user: Any) -> None:
    """Orders not yet paid or prepared are cancelled (stock back, money refunded); the rest are
    kept for the accounts, tied to the account's id only (the core erases the name)."""
    for order in db_session().scalars(
        select(Order)
        .where(Order.family_id == user.id, Order.status.in_(sorted(CANCELLABLE)))
        .order_by(Order.id)
    ):
        close_undelivered(order, OrderStatus.cancelled, "account_closed", user)
    audit.record(
        "purchasing.family.close", "core_user", user.id, summary={"orders": "kept"}, actor=user
    )
