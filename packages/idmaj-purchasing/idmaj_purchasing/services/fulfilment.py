"""After payment: the shop prepares, hands over (the detainee signs, or gives the PIN of the
slip) or records a refusal; unpaid orders expire; a transfer or release cancels what was not
delivered. Every refund goes back the way the money came (the payment method's ``refund``)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from core.audit import services as audit
from core.db import session as db_session
from core.detainees.models import Detainee
from core.detainees.services import lock_detainee
from core.errors import ValidationFailed
from core.i18n import local_zone
from core.plugins import hook
from core.principals import SYSTEM
from core.scoping import unscoped
from core.validation import ascii_digits, storable
from idmaj_purchasing.models import Order, OrderStatus
from idmaj_purchasing.services.common import money, now, shop_staff
from idmaj_purchasing.services.notify import tell_family
from idmaj_purchasing.services.ordering import close_undelivered
from idmaj_purchasing.services.transitions import UNDELIVERED, move, state_changed

PROOFS = ("signature", "pin")


def _locked(order: Order, actor: Any) -> Order:
    shop_staff(actor, order.establishment_id, "purchasing.manage")
    lock_detainee(order.detainee)
    db_session().refresh(order)
    return order


def prepare(order: Order, actor: Any) -> Order:
    """Paid → prepared; the slip gets a four-digit PIN the detainee may give at delivery."""
    _locked(order, actor)
    if order.status != OrderStatus.paid:
        raise state_changed()
    pin = f"{secrets.randbelow(10_000):04d}"
    move(order, OrderStatus.prepared, prepared_at=now(), delivery_pin=pin)
    audit.record(
        "purchasing.order.prepare",
        "purchasing_order",
        order.reference,
        establishment_id=order.establishment_id,
        summary={"status": ["paid", "prepared"]},
        actor=actor,
    )
    tell_family(order)
    return order


def deliver(order: Order, actor: Any, *, proof: Any, pin: Any = "", signed: Any = False) -> Order:
    """Prepared → delivered, with the detainee's signature on the slip (the shop confirms it
    saw it) or the slip's PIN typed in."""
    _locked(order, actor)
    errors: dict[str, str] = {}
    if proof not in PROOFS:
        errors["proof"] = _("Choose one of the allowed values.")
    elif proof == "pin":
        typed = ascii_digits(pin).strip() if isinstance(pin, str) else ""
        if not typed:
            errors["pin"] = _("This field is required.")
        elif order.status == OrderStatus.prepared and not secrets.compare_digest(
            typed, order.delivery_pin
        ):
            errors["pin"] = _("This is not the PIN of this order's slip.")
    elif not signed:
        errors["signed"] = _("Confirm that the detainee signed the slip.")
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    if order.status != OrderStatus.prepared:
        raise state_changed()
    move(order, OrderStatus.delivered, delivery_proof=str(proof))
    audit.record(
        "purchasing.order.deliver",
        "purchasing_order",
        order.reference,
        establishment_id=order.establishment_id,
        summary={"status": ["prepared", "delivered"], "proof": proof},
        actor=actor,
    )
    tell_family(order)
    return order


def refuse(order: Order, actor: Any, *, reason: Any) -> Order:
    """Prepared → refused at delivery (the detainee refused, a product was damaged…): the goods
    go back to stock and the money back the way it came."""
    _locked(order, actor)
    text = " ".join(reason.split()) if isinstance(reason, str) else ""
    if not text:
        raise ValidationFailed(
            _("Please correct the highlighted fields."), fields={"reason": _("Give a reason.")}
        )
    if len(text) > 300 or not storable(text):
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={
                "reason": ngettext("At most %(num)d character.", "At most %(num)d characters.", 300)
            },
        )
    if order.status != OrderStatus.prepared:
        raise state_changed()
    close_undelivered(order, OrderStatus.refused, text, actor)
    return order


def expire_unpaid(at: dt.datetime | None = None) -> int:
    """Orders still awaiting payment after their time expire and give their stock back (the
    periodic task ``purchasing.expire_unpaid``; run as SYSTEM, idempotent)."""
    moment = at or now()
    ids = list(
        db_session().scalars(
            select(Order.id)
            .where(Order.status == OrderStatus.awaiting_payment, Order.expires_at < moment)
            .order_by(Order.id)
            .limit(500)
        )
    )
    done = 0
    for oid in ids:
        order = db_session().get(Order, oid)
        if order is None:
            continue
        lock_detainee(order.detainee)
        db_session().refresh(order)
        if order.status != OrderStatus.awaiting_payment:
            continue  # paid (or cancelled) meanwhile
        close_undelivered(order, OrderStatus.expired, "expired", SYSTEM)
        done += 1
    return done


def detainee_left(detainee: Detainee, actor: Any, reason: str) -> int:
    """Transfer or release (the detainee's row is locked by the move): every undelivered order
    is cancelled, its stock given back and what was paid refunded."""
    with unscoped(f"purchasing: orders of a detainee who left ({reason})"):
        orders = list(
            db_session().scalars(
                select(Order)
                .where(Order.detainee_id == detainee.id, Order.status.in_(UNDELIVERED))
                .order_by(Order.id)
            )
        )
        for order in orders:
            close_undelivered(order, OrderStatus.cancelled, reason, actor or SYSTEM)
    return len(orders)


# --------------------------------------------------------------------------------------------
# The day's preparation list
# --------------------------------------------------------------------------------------------


@dataclass
class PickGroup:
    place: str
    orders: list[Order] = field(default_factory=list)


@dataclass
class DailyList:
    day: dt.date
    groups: list[PickGroup]
    totals: list[tuple[str, str, int]]  # (name_fr, name_ar, quantity)

    @property
    def count(self) -> int:
        return sum(len(g.orders) for g in self.groups)


def daily_list(actor: Any, establishment_id: int) -> DailyList:
    """The paid orders to prepare at one establishment, grouped by where the detainees
    receive them (``purchasing_delivery_point``), and the quantities to pick."""
    shop_staff(actor, establishment_id)
    orders = list(
        db_session().scalars(
            select(Order)
            .where(Order.establishment_id == establishment_id, Order.status == OrderStatus.paid)
            .order_by(Order.paid_at, Order.id)
        )
    )
    groups: dict[str, PickGroup] = {}
    unknown = _("Building not known")
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for order in orders:
        place = hook().purchasing_delivery_point(detainee=order.detainee) or unknown
        groups.setdefault(str(place), PickGroup(str(place))).orders.append(order)
        for line in order.lines:
            totals[(line.name_fr, line.name_ar)] += line.quantity
    ordered = sorted(groups.values(), key=lambda g: (g.place == unknown, g.place))
    return DailyList(
        day=now().astimezone(local_zone()).date(),
        groups=ordered,
        totals=sorted(((fr, ar, q) for (fr, ar), q in totals.items()), key=lambda t: t[0]),
    )


def order_summary(order: Order) -> str:
    return f"{order.reference} · {money(order.total_centimes)} MAD"
