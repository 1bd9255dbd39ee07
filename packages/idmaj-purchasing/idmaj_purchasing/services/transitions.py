"""The order's state machine: which status may follow which — the only place that says so —
and the one way to move an order (a conditional UPDATE, so two hands never move it twice)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import update

from core.db import session as db_session
from core.errors import Conflict
from idmaj_purchasing.models import Order, OrderStatus, Product
from idmaj_purchasing.services.common import now

S = OrderStatus
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.awaiting_payment: frozenset({S.paid, S.cancelled, S.expired}),
    S.paid: frozenset({S.prepared, S.cancelled}),
    # a prepared order is cancelled only when the detainee leaves (transfer, release)
    S.prepared: frozenset({S.delivered, S.refused, S.cancelled}),
    S.delivered: frozenset(),
    S.refused: frozenset(),
    S.cancelled: frozenset(),
    S.expired: frozenset(),
}
# what a family or the shop may cancel: before preparation
CANCELLABLE = frozenset({S.awaiting_payment, S.paid})
# not yet in the detainee's hands
UNDELIVERED = frozenset({S.awaiting_payment, S.paid, S.prepared})
CLOSED = frozenset({S.delivered, S.refused, S.cancelled, S.expired})


def state_changed() -> Conflict:
    return Conflict(
        _("This order has changed in the meantime: look at it again."), code="order_changed"
    )


def move(order: Order, to: OrderStatus, **values: Any) -> OrderStatus:
    """Move ``order`` to ``to`` if its machine allows it and nobody moved it meanwhile
    (``UPDATE … WHERE status = :seen``, row count checked). Returns the status it left."""
    seen = OrderStatus(order.status)
    if to not in TRANSITIONS[seen]:
        raise state_changed()
    stamp = now()
    if to in CLOSED:
        values.setdefault("closed_at", stamp)
    result = db_session().execute(
        update(Order).where(Order.id == order.id, Order.status == seen).values(status=to, **values),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:
        raise state_changed()
    db_session().refresh(order)
    return seen


def give_back_stock(order: Order) -> None:
    """The order's goods are the shop's again (cancelled, expired, refused at delivery)."""
    for line in sorted(order.lines, key=lambda ln: ln.product_id):
        db_session().execute(
            update(Product)
            .where(Product.id == line.product_id)
            .values(stock=Product.stock + line.quantity),
            execution_options={"synchronize_session": False},
        )
