"""Remote purchasing's tables; every one starts with ``purchasing_``.

- :class:`Product` — the shop's catalogue at one establishment: names in Arabic and French, a
  category and unit (codes), a price in integer centimes, a stock that can never go below zero
  (``CHECK``; orders reserve with a conditional ``UPDATE … WHERE stock >= :q``), availability
  and a per-detainee weekly quantity cap.
- :class:`ShopRules` — an establishment's rules: the weekly value cap per detainee, the
  categories nobody there may order, how long an order may wait for its payment.
- :class:`Restriction` — a category forbidden to one detainee (set by the director).
- :class:`Order` / :class:`OrderLine` — a family's order for a detainee, its lines with the
  price and names as they were when ordered. Its status follows ``services.orders.TRANSITIONS``.
- :class:`Settlement` / :class:`SettlementLine` — a payment agency's settlement file imported
  by the shop, and what became of each of its lines.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow, value_enum
from core.detainees.models import Detainee
from core.establishments.models import Establishment
from core.scoping import EstablishmentScoped

CATEGORIES = ("food", "drinks", "hygiene", "clothing", "stationery", "phone_cards", "tobacco")
UNITS = ("piece", "pack", "kg", "g500", "litre", "box")


class OrderStatus(enum.StrEnum):
    """Which status may follow which is ``services.orders.TRANSITIONS``, the only place."""

    awaiting_payment = "awaiting_payment"
    paid = "paid"
    prepared = "prepared"
    delivered = "delivered"
    refused = "refused"
    cancelled = "cancelled"
    expired = "expired"


class LineOutcome(enum.StrEnum):
    paid = "paid"
    duplicate = "duplicate"
    unknown = "unknown"
    wrong_amount = "wrong_amount"
    not_awaiting = "not_awaiting"
    malformed = "malformed"


class Product(EstablishmentScoped, Base):
    __tablename__ = "purchasing_products"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price_centimes > 0", name="price_positive"),
        CheckConstraint("max_per_week >= 1", name="cap_positive"),
        UniqueConstraint("establishment_id", "name_fr"),
        Index("ix_purchasing_products_est_category", "establishment_id", "category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"))
    name_fr: Mapped[str] = mapped_column(String(120))
    name_ar: Mapped[str] = mapped_column(String(120), default="")
    category: Mapped[str] = mapped_column(String(20))
    unit: Mapped[str] = mapped_column(String(10), default="piece")
    price_centimes: Mapped[int]
    stock: Mapped[int] = mapped_column(default=0)
    max_per_week: Mapped[int] = mapped_column(default=10)
    available: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    establishment: Mapped[Establishment] = relationship(lazy="joined")

    def name(self, locale: str | None = None) -> str:
        return (self.name_ar or self.name_fr) if locale == "ar" else self.name_fr


class ShopRules(EstablishmentScoped, Base):
    __tablename__ = "purchasing_rules"
    __table_args__ = (
        CheckConstraint("weekly_cap_centimes > 0", name="cap_positive"),
        CheckConstraint("payment_hours >= 1", name="payment_hours_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"), unique=True)
    weekly_cap_centimes: Mapped[int] = mapped_column(default=50_000)
    payment_hours: Mapped[int] = mapped_column(default=48)
    # categories nobody at this establishment may order, comma-separated codes
    forbidden_categories: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Restriction(Base):
    __tablename__ = "purchasing_restrictions"
    __table_args__ = (UniqueConstraint("detainee_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    detainee_id: Mapped[int] = mapped_column(ForeignKey("core_detainees.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Order(EstablishmentScoped, Base):
    __tablename__ = "purchasing_orders"
    __table_args__ = (
        CheckConstraint("total_centimes > 0", name="total_positive"),
        Index("ix_purchasing_orders_est_status", "establishment_id", "status", "placed_at"),
        Index("ix_purchasing_orders_detainee_placed", "detainee_id", "placed_at"),
        Index("ix_purchasing_orders_family", "family_id", "placed_at"),
        Index("ix_purchasing_orders_expiry", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"))
    detainee_id: Mapped[int] = mapped_column(ForeignKey("core_detainees.id"))
    family_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[OrderStatus] = mapped_column(
        value_enum(OrderStatus, 20, check="status"), default=OrderStatus.awaiting_payment
    )
    payment_method: Mapped[str] = mapped_column(String(30))
    # what the family pays with at an agency; unique, so one settlement line matches one order
    pay_reference: Mapped[str | None] = mapped_column(String(30), unique=True, default=None)
    payment_receipt: Mapped[str] = mapped_column(String(60), default="")
    refund_receipt: Mapped[str] = mapped_column(String(60), default="")
    total_centimes: Mapped[int]
    placed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    prepared_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    delivery_pin: Mapped[str] = mapped_column(String(8), default="")
    delivery_proof: Mapped[str] = mapped_column(String(20), default="")
    # a code (transfer, release, expired, family, shop…) or the shop's words for a refusal
    reason: Mapped[str] = mapped_column(String(300), default="")

    establishment: Mapped[Establishment] = relationship(lazy="joined")
    detainee: Mapped[Detainee] = relationship(lazy="joined")
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="parent_order", lazy="selectin", order_by="OrderLine.id"
    )


class OrderLine(Base):
    __tablename__ = "purchasing_order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        UniqueConstraint("order_id", "product_id"),
        Index("ix_purchasing_order_lines_product", "product_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchasing_orders.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("purchasing_products.id"))
    quantity: Mapped[int]
    unit_price_centimes: Mapped[int]
    name_fr: Mapped[str] = mapped_column(String(120))
    name_ar: Mapped[str] = mapped_column(String(120), default="")
    category: Mapped[str] = mapped_column(String(20))

    # not "order": the core sorts what plugin hooks return by an attribute of that name
    parent_order: Mapped[Order] = relationship(back_populates="lines")

    def name(self, locale: str | None = None) -> str:
        return (self.name_ar or self.name_fr) if locale == "ar" else self.name_fr


class Settlement(EstablishmentScoped, Base):
    __tablename__ = "purchasing_settlements"

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"))
    filename: Mapped[str] = mapped_column(String(200), default="")
    imported_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None
    )
    imported_by: Mapped[str] = mapped_column(String(80), default="")
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lines: Mapped[list[SettlementLine]] = relationship(
        lazy="selectin", order_by="SettlementLine.line_no"
    )


class SettlementLine(Base):
    __tablename__ = "purchasing_settlement_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    settlement_id: Mapped[int] = mapped_column(
        ForeignKey("purchasing_settlements.id", ondelete="CASCADE"), index=True
    )
    line_no: Mapped[int]
    pay_reference: Mapped[str] = mapped_column(String(60), default="")
    amount: Mapped[str] = mapped_column(String(30), default="")
    outcome: Mapped[LineOutcome] = mapped_column(value_enum(LineOutcome, 20, check="outcome"))
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("purchasing_orders.id", ondelete="SET NULL"), default=None
    )
    note: Mapped[str] = mapped_column(Text, default="")


MODELS: list[type] = [
    Product,
    ShopRules,
    Restriction,
    Order,
    OrderLine,
    Settlement,
    SettlementLine,
]
