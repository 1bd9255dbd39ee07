"""The remote purchasing JSON API (interface.md), under ``/api/v1/purchasing``; every endpoint
is declared with ``@endpoint`` and so listed in ``/api/v1/openapi.json``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from flask_babel import gettext as _
from pydantic import BaseModel, Field

from core.api.idempotency import idempotent
from core.api.toolkit import ApiModel, endpoint, page_payload, pagination
from core.errors import Forbidden, ValidationFailed
from core.identity.models import User
from core.identity.services import has_permission
from idmaj_purchasing import services

bp = Blueprint("purchasing_api", __name__, url_prefix="/api/v1/purchasing")

MONEY_DOC = 'An amount in MAD as a string with at most two decimals, e.g. "12.50".'


class ProductIn(ApiModel):
    establishment: str = Field(max_length=20, examples=["CAS-AS"])
    name: str = Field(max_length=120, description="The product's name in French")
    name_ar: str = Field("", max_length=120)
    category: str = Field(max_length=20, examples=["food"])
    unit: str = Field("piece", max_length=10)
    price: str = Field(max_length=15, description=MONEY_DOC, examples=["12.50"])
    stock: int = Field(ge=0, le=100_000)
    max_per_week: int = Field(10, ge=1, le=100)


class ProductOut(BaseModel):
    id: int
    name: str
    name_ar: str
    category: str
    unit: str
    price: str
    available: bool
    stock: int
    max_per_week: int
    establishment: str


class ItemIn(ApiModel):
    product_id: int = Field(ge=1, le=2**31 - 1)
    quantity: int = Field(ge=1, le=50)


class OrderIn(ApiModel):
    detainee: str = Field(max_length=20, description="The detainee's registration number")
    items: list[ItemIn] = Field(min_length=1, max_length=40)
    payment: str = Field(max_length=30, description='"agency" or "account"', examples=["agency"])


class OrderItemOut(BaseModel):
    product_id: int
    name: str
    name_ar: str
    quantity: int
    unit_price: str
    amount: str


class OrderOut(BaseModel):
    reference: str
    status: str
    detainee: str
    establishment: str
    total: str
    currency: str
    payment: str
    pay_reference: str | None = None
    placed_at: str
    expires_at: str | None
    paid_at: str | None
    items: list[OrderItemOut]
    reason: str
    refund: str | None


class RefuseIn(ApiModel):
    reason: str = Field(max_length=300)


class DeliverIn(ApiModel):
    proof: str = Field(max_length=20, description='"signature" (with signed: true) or "pin"')
    pin: str = Field("", max_length=8)
    signed: bool = False


@bp.get("/catalogue")
@endpoint(
    "An establishment's shop catalogue",
    response=ProductOut,
    tags=["purchasing"],
    query={"establishment": "The establishment's code (required)"},
    paginated=True,
    errors=(400, 422),
)
def catalogue(user: User) -> dict[str, Any]:
    est = services.establishment_by_code(request.args.get("establishment", ""))
    if est is None:
        message = _("Choose an establishment.")
        raise ValidationFailed(message, fields={"establishment": message})
    page, per_page = pagination()
    rows, total = services.catalogue(est.id, page, per_page)
    return page_payload([services.product_json(p) for p in rows], total, page, per_page)


@bp.post("/products")
@endpoint(
    "Add a product to an establishment's shop",
    body=ProductIn,
    response=ProductOut,
    status=201,
    permission="purchasing.manage",
    tags=["purchasing"],
    errors=(403, 404, 409, 422),
)
def add_product(body: ProductIn, user: User) -> dict[str, Any]:
    return services.product_json(services.add_product(body.model_dump(), user))


@bp.post("/orders")
@endpoint(
    "Order for a linked detainee (whole or nothing; stock reserved at once)",
    body=OrderIn,
    response=OrderOut,
    status=201,
    permission="purchasing.order",
    tags=["purchasing"],
    errors=(403, 409, 422),
    description="409 `out_of_stock` when a product is short (nothing is ordered); 422 for a "
    "broken rule: `not_linked`, `weekly_cap`, `rule_broken` (a product's weekly cap, a "
    "forbidden category), `insufficient_funds` or `weekly_limit_exceeded` (paid from the "
    "account), `payment_unavailable`. Honours the `Idempotency-Key` header.",
)
@idempotent
def place_order(body: OrderIn, user: User) -> dict[str, Any]:
    order = services.place_order(
        user, body.detainee, [i.model_dump() for i in body.items], body.payment
    )
    return services.order_json(order)


@bp.get("/orders")
@endpoint(
    "Orders: a family's own, or the shop's of the user's establishments",
    response=OrderOut,
    tags=["purchasing"],
    query={"status": "Only orders in this status (shop staff)"},
    paginated=True,
    errors=(400, 403),
)
def list_orders(user: User) -> dict[str, Any]:
    page, per_page = pagination()
    if has_permission(user, "purchasing.view"):
        status = request.args.get("status") or None
        if status is not None and status not in services.STATUS_LABELS:
            message = _("Choose one of the allowed values.")
            raise ValidationFailed(message, fields={"status": message})
        rows, total = services.shop_orders(user, status=status, page=page, per_page=per_page)
    elif has_permission(user, "purchasing.order"):
        rows, total = services.family_orders(user, page, per_page)
    else:
        raise Forbidden(_("You are not allowed to do this."))
    return page_payload([services.order_json(o) for o in rows], total, page, per_page)


@bp.get("/orders/<reference>")
@endpoint(
    "One order (its family; the shop's staff)",
    response=OrderOut,
    tags=["purchasing"],
    errors=(403, 404),
)
def get_order(reference: str, user: User) -> dict[str, Any]:
    return services.order_json(services.get_order(reference, user))


@bp.post("/orders/<reference>/cancel")
@endpoint(
    "Cancel an order before preparation (its family, the shop): stock back, money refunded",
    response=OrderOut,
    tags=["purchasing"],
    errors=(403, 404, 409),
)
def cancel(reference: str, user: User) -> dict[str, Any]:
    return services.order_json(services.cancel(services.get_order(reference, user), user))


@bp.post("/orders/<reference>/prepare")
@endpoint(
    "The shop prepared a paid order",
    response=OrderOut,
    permission="purchasing.manage",
    tags=["purchasing"],
    errors=(403, 404, 409),
)
def prepare(reference: str, user: User) -> dict[str, Any]:
    return services.order_json(services.prepare(services.get_order(reference, user), user))


@bp.post("/orders/<reference>/deliver")
@endpoint(
    "The detainee received a prepared order (signature or the slip's PIN)",
    body=DeliverIn,
    response=OrderOut,
    permission="purchasing.manage",
    tags=["purchasing"],
    errors=(403, 404, 409, 422),
)
def deliver(reference: str, body: DeliverIn, user: User) -> dict[str, Any]:
    order = services.get_order(reference, user)
    return services.order_json(
        services.deliver(order, user, proof=body.proof, pin=body.pin, signed=body.signed)
    )


@bp.post("/orders/<reference>/refuse")
@endpoint(
    "A prepared order refused at delivery: stock back, money refunded the way it came",
    body=RefuseIn,
    response=OrderOut,
    permission="purchasing.manage",
    tags=["purchasing"],
    errors=(403, 404, 409, 422),
)
def refuse(reference: str, body: RefuseIn, user: User) -> dict[str, Any]:
    order = services.get_order(reference, user)
    return services.order_json(services.refuse(order, user, reason=body.reason))
