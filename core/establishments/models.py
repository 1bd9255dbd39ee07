"""Establishments: the prisons and centres of the administration."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow, value_enum


class EstablishmentKind(enum.StrEnum):
    local_prison = "local_prison"
    central_prison = "central_prison"
    agricultural_prison = "agricultural_prison"
    reform_centre = "reform_centre"


class Establishment(Base):
    __tablename__ = "core_establishments"
    __table_args__ = (CheckConstraint("capacity >= 0", name="capacity_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name_fr: Mapped[str] = mapped_column(String(200))
    name_ar: Mapped[str] = mapped_column(String(200))
    kind: Mapped[EstablishmentKind] = mapped_column(value_enum(EstablishmentKind, 32))
    region: Mapped[str] = mapped_column(String(120), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    # the city in Arabic, shown on Arabic pages; ``city`` (Latin script) on the others
    city_ar: Mapped[str] = mapped_column(String(120), default="", server_default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    capacity: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def name(self, locale: str | None = None) -> str:
        return self.name_ar if (locale or "").startswith("ar") and self.name_ar else self.name_fr

    def city_name(self, locale: str | None = None) -> str:
        """The city in the page's language: Arabic on Arabic pages when recorded."""
        return self.city_ar if (locale or "").startswith("ar") and self.city_ar else self.city

    def __repr__(self) -> str:
        return f"<Establishment {self.code}>"
