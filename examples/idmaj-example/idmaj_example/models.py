"""The catalogue's table. Every table of the plugin starts with ``example_``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow

CATEGORIES = ("food", "hygiene", "stationery")


class ExampleItem(Base):
    """An item families may order for a detainee; the price is in integer centimes."""

    __tablename__ = "example_items"
    __table_args__ = (CheckConstraint("price_centimes > 0", name="price_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    category: Mapped[str] = mapped_column(String(20))
    price_centimes: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
