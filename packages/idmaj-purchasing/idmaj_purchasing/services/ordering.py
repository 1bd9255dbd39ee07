"""A family orders for a detainee: whole or not at all.

Placing an order, in one transaction: the detainee's row lock first (the lock order), then
every rule checked again under it (linked family, detainee held, payment method offered,
products of this shop and available, categories allowed, the weekly caps), then the stock of
each product reserved by a conditional ``UPDATE … SET stock = stock - :q WHERE stock >= :q``
in product-id order (no overselling whatever the concurrency; a short product refuses the
whole order, 409 ``out_of_stock``), then the order and its lines, then the payment: an
account debited in the same transaction, or a pay reference for an agency.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Integer, bindparam, func, select, update
from sqlalchemy.orm import lazyload

from core.audit import services as audit
from core.db import built_once
from core.db import session as db_session
from core.detainees.models import Detainee
from core.detainees.services import lock_detainee
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.identity.services import has_permission, require
from core.paging import fetch_page
from core.ports import has_port, port
from core.ports.visits import FAMILY_LINKS, FamilyLinks
from core.scoping import can_see_establishment, establishment_ids, read_columns, scope
from core.validation import ascii_digits
from idmaj_purchasing.models import Order, OrderLine, OrderStatus, Product
from idmaj_purchasing.services import payments, rules
from idmaj_purchasing.services.common import (
    MAX_LINES,
    MAX_QUANTITY,
    money,
    now,
    parse_count,
    rules_for,
    to_decimal,
)
from idmaj_purchasing.services.notify import tell_family
from idmaj_purchasing.services.transitions import CANCELLABLE, give_back_stock, move

REFERENCE_ALPHABET = "ACDEFHJKMNPRTUVWXY34679"


def new_reference() -> str:
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"ACH-{body[:4]}-{body[4:]}"


# --------------------------------------------------------------------------------------------
# Who may order for whom
# --------------------------------------------------------------------------------------------


def can_order(user: Any) -> bool:
    """Ordering needs the family permission and a module that knows families' links."""
    return has_permission(user, "purchasing.order") and has_port(FAMILY_LINKS, FamilyLinks)


def linked_detainees(family: Any) -> list[Detainee]:
    """The held detainees this family may order for."""
    if not can_order(family):
        return []
    found = port(FAMILY_LINKS, FamilyLinks).linked_detainees(family)
    return [d for d in found if not d.is_released]


def _not_linked() -> ValidationFailed:
    message = _("You can order only for a detainee you are linked to.")
    return ValidationFailed(message, code="not_linked", fields={"detainee": message})


def detainee_for(family: Any, registration_number: Any) -> Detainee:
    """The detainee of this number if the family is linked to them; the same 422
    ``not_linked`` for an unknown number, another family's detainee or a released one, so the
    answer reveals nothing."""
    require(family, "purchasing.order")
    rn = ascii_digits(registration_number).strip() if isinstance(registration_number, str) else ""
    det = (
        db_session().scalar(select(Detainee).where(Detainee.registration_number == rn))
        if rn
        else None
    )
    links = port(FAMILY_LINKS, FamilyLinks) if has_port(FAMILY_LINKS, FamilyLinks) else None
    if det is None or links is None or det.is_released or not links.is_linked(family, det):
        raise _not_linked()
    return det


# --------------------------------------------------------------------------------------------
# Placing an order
# --------------------------------------------------------------------------------------------


def _wanted(items: Any) -> tuple[dict[int, int], dict[str, str]]:
    """``[{product_id, quantity}]`` → {product id: quantity} (a product twice is added up)."""
    errors: dict[str, str] = {}
    wanted: dict[int, int] = {}
    if not isinstance(items, list | tuple) or not items:
        return {}, {"items": _("Choose at least one product.")}
    if len(items) > MAX_LINES:
        return {}, {
            "items": ngettext(
                "At most %(num)d product in one order.",
                "At most %(num)d products in one order.",
                MAX_LINES,
            )
        }
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            errors[f"items.{i}"] = _("Enter an object.")
            continue
        pid = parse_count(item.get("product_id"), minimum=1, maximum=2**31 - 1)
        qty = parse_count(item.get("quantity"), minimum=1, maximum=MAX_QUANTITY)
        if pid is None:
            errors[f"items.{i}.product_id"] = _("No such product in this shop.")
        if qty is None:
            errors[f"items.{i}.quantity"] = _("Enter a quantity from 1 to %(n)d.", n=MAX_QUANTITY)
        if pid is not None and qty is not None:
            wanted[pid] = wanted.get(pid, 0) + qty
    return wanted, errors


def place_order(family: Any, registration_number: Any, items: Any, payment: Any) -> Order:
    """Place a whole order for a linked detainee (see the module's docstring)."""
    det = detainee_for(family, registration_number)
    wanted, errors = _wanted(items)
    method = payments.method(payment) if isinstance(payment, str) else None
    if method is None:
        errors["payment"] = _("Choose a way to pay.")
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    lock_detainee(det)  # the lock order: the detainee first, then our rows
    if det.is_released or not port(FAMILY_LINKS, FamilyLinks).is_linked(family, det):
        raise _not_linked()
    if not payments._offered(method, det):
        message = _("This way to pay is not available for this detainee.")
        raise ValidationFailed(message, code="payment_unavailable", fields={"payment": message})
    sess = db_session()
    products = {
        p.id: p
        for p in sess.scalars(
            select(Product).where(
                Product.id.in_(sorted(wanted)), Product.establishment_id == det.establishment_id
            )
        )
    }
    shop_rules = rules_for(det.establishment_id)
    forbidden = rules.forbidden_categories(det, rules=shop_rules)
    week = rules.week_of(det, rules=shop_rules)
    index = {pid: i for i, pid in enumerate(wanted)}
    total = 0
    for pid, qty in wanted.items():
        key = f"items.{index[pid]}"
        product = products.get(pid)
        if product is None:
            errors[f"{key}.product_id"] = _("No such product in this shop.")
            continue
        if not product.available:
            errors[f"{key}.product_id"] = _("This product is not sold at the moment.")
        elif product.category in forbidden:
            errors[f"{key}.product_id"] = _("This product cannot be ordered for this detainee.")
        left = product.max_per_week - week.per_product.get(pid, 0)
        if qty > left:
            errors[f"{key}.quantity"] = ngettext(
                "At most %(num)d more of this product this week.",
                "At most %(num)d more of this product this week.",
                max(0, left),
            )
        total += product.price_centimes * qty
    if errors:
        raise ValidationFailed(
            _("Please correct the highlighted fields."), code="rule_broken", fields=errors
        )
    if total > week.left:
        message = _(
            "This order (%(total)s MAD) is over what is left of the weekly limit: "
            "%(left)s MAD of %(cap)s MAD.",
            total=money(total),
            left=money(week.left),
            cap=money(week.cap),
        )
        raise ValidationFailed(message, code="weekly_cap", fields={"items": message})
    # reserve, in product-id order: never two orders locking the same rows crosswise
    for pid in sorted(wanted):
        reserved = sess.execute(
            update(Product)
            .where(
                Product.id == pid,
                Product.stock >= wanted[pid],
                Product.available.is_(True),
            )
            .values(stock=Product.stock - wanted[pid]),
            execution_options={"synchronize_session": False},
        )
        if reserved.rowcount != 1:
            message = _("Not enough left in stock: %(name)s.", name=products[pid].name_fr)
            raise Conflict(
                message,
                code="out_of_stock",
                fields={f"items.{index[pid]}.quantity": message},
            )
    stamp = now()
    order = Order(
        reference=new_reference(),
        establishment_id=det.establishment_id,
        detainee_id=det.id,
        family_id=family.id,
        status=OrderStatus.awaiting_payment,
        payment_method=method.code,
        total_centimes=total,
        placed_at=stamp,
        expires_at=stamp + dt.timedelta(hours=shop_rules.payment_hours),
    )
    sess.add(order)
    sess.flush()
    for pid in sorted(wanted):
        p = products[pid]
        sess.add(
            OrderLine(
                order_id=order.id,
                product_id=pid,
                quantity=wanted[pid],
                unit_price_centimes=p.price_centimes,
                name_fr=p.name_fr,
                name_ar=p.name_ar,
                category=p.category,
            )
        )
    sess.flush()
    sess.refresh(order)
    paid, token = method.collect(order.reference, to_decimal(total), det, family)
    audit.record(
        "purchasing.order.place",
        "purchasing_order",
        order.reference,
        establishment_id=order.establishment_id,
        summary={
            "detainee": det.registration_number,
            "total": money(total),
            "payment": method.code,
            "lines": len(wanted),
        },
        actor=family,
    )
    if paid:
        move(order, OrderStatus.paid, paid_at=now(), payment_receipt=str(token)[:60])
        audit.record(
            "purchasing.order.pay",
            "purchasing_order",
            order.reference,
            establishment_id=order.establishment_id,
            summary={"status": ["awaiting_payment", "paid"], "receipt": str(token)},
            actor=family,
        )
    else:
        order.pay_reference = str(token)[:30]
        sess.flush()
    tell_family(order)
    return order


# --------------------------------------------------------------------------------------------
# Reading orders
# --------------------------------------------------------------------------------------------


def get_order(reference: Any, user: Any) -> Order:
    """The order, for its family or the shop's staff of its establishment; 404 for anyone
    else (another family's order does not exist for them)."""
    ref = reference.strip().upper() if isinstance(reference, str) else ""
    order = (
        db_session().scalar(select(Order).where(Order.reference == ref))
        if ref[:4] == "ACH-"
        else None
    )
    if order is None:
        raise NotFound(_("No such order."), code="order_not_found")
    if getattr(user, "id", None) is not None and order.family_id == user.id:
        return order
    if getattr(user, "is_staff", False) and not has_permission(user, "purchasing.view"):
        raise Forbidden(_("You are not allowed to do this."))
    if has_permission(user, "purchasing.view") and can_see_establishment(
        user, order.establishment_id
    ):
        return order
    raise NotFound(_("No such order."), code="order_not_found")


_NEWEST_FIRST = (Order.placed_at.desc(), Order.id.desc())


def family_orders(family: Any, page: int = 1, per_page: int = 20) -> tuple[list[Order], int]:
    require(family, "purchasing.order")
    base = select(Order).where(Order.family_id == family.id)
    return fetch_page(db_session(), base, _NEWEST_FIRST, page, per_page)


def shop_orders(
    user: Any,
    *,
    status: str | None = None,
    establishment_id: int | None = None,
    detainee_id: int | None = None,
    page: int = 1,
    per_page: int = 20,
    with_lines: bool = True,
) -> tuple[list[Order], int]:
    """The orders of the user's establishments (the query layer scopes them), newest first,
    paged in SQL; ``with_lines=False`` for a list that shows no order's lines (the profile
    panel): they are not read."""
    require(user, "purchasing.view")
    # explicit as well as the query layer's: the count below reads a subquery
    base = scope(select(Order), Order.establishment_id, user)
    if status:
        base = base.where(Order.status == status)
    if establishment_id is not None:
        base = base.where(Order.establishment_id == establishment_id)
    if detainee_id is not None:
        # one detainee's orders (their profile): the detainee is the caller's, found in the
        # session when an order's is read, not joined again into every row
        base = base.where(Order.detainee_id == detainee_id).options(lazyload(Order.detainee))
    if not with_lines:
        base = base.options(lazyload(Order.lines))
    return fetch_page(db_session(), base, _NEWEST_FIRST, page, per_page)


def detainee_orders(user: Any, detainee_id: int, limit: int = 5) -> tuple[list[Any], int]:
    """A detainee's newest orders in the user's establishments (their profile's panel) and
    how many there are: the orders ``shop_orders(user, detainee_id=…, per_page=limit)``
    gives, as rows of what the panel shows (``reference``, ``placed_at``, ``total_centimes``,
    ``status``; no ``Order`` built for a line of text), from statements built once per
    process, scoped or not (a profile page reads it on every view)."""
    require(user, "purchasing.view")
    ids = establishment_ids(user)
    params: dict[str, Any] = {"detainee_id": detainee_id, "limit": limit}
    if ids is not None:
        params["ids"] = sorted(ids) or [-1]  # an id no row has: nothing is visible
    # scoped as the session would, sent by Core (``read_columns``): rows, no ORM layer
    rows = list(read_columns(_detainee_orders(ids is not None), params))
    if len(rows) < limit:  # a page not full tells the total (as ``fetch_page``)
        return rows, len(rows)
    return rows, int(read_columns(_detainee_order_count(ids is not None), params).scalar() or 0)


def _of_detainee(scoped: bool) -> Any:
    stmt = select(Order).where(Order.detainee_id == bindparam("detainee_id"))
    if scoped:  # explicit as well as the query layer's: the count reads a subquery
        stmt = stmt.where(Order.establishment_id.in_(bindparam("ids", expanding=True)))
    return stmt


@built_once
def _detainee_orders(scoped: bool) -> Any:
    return (
        _of_detainee(scoped)
        .with_only_columns(Order.reference, Order.placed_at, Order.total_centimes, Order.status)
        .order_by(*_NEWEST_FIRST)
        .limit(bindparam("limit", type_=Integer))
    )


@built_once
def _detainee_order_count(scoped: bool) -> Any:
    return select(func.count()).select_from(_of_detainee(scoped).subquery())


def order_json(order: Order, viewer: Any = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "reference": order.reference,
        "status": str(order.status),
        "detainee": order.detainee.registration_number,
        "establishment": order.establishment.code,
        "total": money(order.total_centimes),
        "currency": "MAD",
        "payment": order.payment_method,
        "placed_at": order.placed_at.isoformat(),
        "expires_at": order.expires_at.isoformat() if order.expires_at else None,
        "paid_at": order.paid_at.isoformat() if order.paid_at else None,
        "items": [
            {
                "product_id": line.product_id,
                "name": line.name_fr,
                "name_ar": line.name_ar,
                "quantity": line.quantity,
                "unit_price": money(line.unit_price_centimes),
                "amount": money(line.unit_price_centimes * line.quantity),
            }
            for line in order.lines
        ],
        "reason": order.reason,
        "refund": order.refund_receipt or None,
    }
    if order.pay_reference:
        data["pay_reference"] = order.pay_reference
    return data


# --------------------------------------------------------------------------------------------
# Cancelling before preparation (the family or the shop)
# --------------------------------------------------------------------------------------------


def cancel(order: Order, actor: Any) -> Order:
    """Cancel an order not yet prepared: its stock is the shop's again and what was paid is
    refunded the way it came. The family cancels its own; the shop its establishment's."""
    by_family = getattr(actor, "id", None) is not None and order.family_id == actor.id
    if not by_family:
        from idmaj_purchasing.services.common import shop_staff

        shop_staff(actor, order.establishment_id, "purchasing.manage")
    lock_detainee(order.detainee)
    db_session().refresh(order)
    if order.status not in CANCELLABLE:
        raise Conflict(
            _("This order can no longer be cancelled: it is being prepared or is closed."),
            code="not_cancellable",
        )
    close_undelivered(order, OrderStatus.cancelled, "family" if by_family else "shop", actor)
    return order


def close_undelivered(order: Order, to: OrderStatus, reason: str, actor: Any) -> None:
    """Cancel, expire or refuse an order: stock back, refund if it was paid, audit, tell."""
    was = OrderStatus(order.status)
    paid = was in (OrderStatus.paid, OrderStatus.prepared) and bool(order.payment_receipt)
    move(order, to, reason=reason[:300])
    give_back_stock(order)
    refund = ""
    if paid:
        method = payments.method(order.payment_method)
        if method is None:
            raise Conflict(
                _("The way this order was paid is no longer installed: it cannot be refunded."),
                code="payment_unavailable",
            )
        refund = str(
            method.refund(
                order.reference,
                to_decimal(order.total_centimes),
                order.detainee,
                order.payment_receipt,
            )
        )
        order.refund_receipt = refund[:60]
        db_session().flush()
    audit.record(
        f"purchasing.order.{ {'cancelled': 'cancel', 'expired': 'expire'}.get(str(to), 'refuse') }",
        "purchasing_order",
        order.reference,
        establishment_id=order.establishment_id,
        summary={"status": [str(was), str(to)], "reason": reason, "refund": refund},
        actor=actor,
    )
    tell_family(order)


def caps_for(
    det: Detainee, products: Sequence[Product], week: rules.Week | None = None
) -> dict[int, int]:
    """How many more of each product the detainee may receive this week (``week``: the
    detainee's :func:`~idmaj_purchasing.services.rules.week_of`, when already read)."""
    week = week or rules.week_of(det)
    return {p.id: max(0, p.max_per_week - week.per_product.get(p.id, 0)) for p in products}
