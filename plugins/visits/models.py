"""The visits module's tables (prefix ``visits_``).

Capacity and quotas are counters guarded in the database: ``visits_slots.booked`` is only ever
changed by a conditional ``UPDATE … WHERE booked + :n <= capacity`` (and a CHECK constraint
backs it), ``visits_quota_counters.used`` likewise against the weekly quota. Every ``status``
column holds the values of its enum below, and a CHECK constraint refuses any other.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow, value_enum
from core.detainees.models import Detainee
from core.establishments.models import Establishment
from core.identity.models import User
from core.scoping import EstablishmentScoped

SLOT_KINDS = ("ordinary", "supervised")


class SlotStatus(enum.StrEnum):
    open = "open"
    cancelled = "cancelled"


class RelationStatus(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class BookingStatus(enum.StrEnum):
    """Which status may follow which is ``services.TRANSITIONS``, the only place that says so."""

    confirmed = "confirmed"
    checked_in = "checked_in"
    cancelled = "cancelled"
    no_show = "no_show"
    completed = "completed"
    visitor_refused = "visitor_refused"
    detainee_refused = "detainee_refused"
    ended_early = "ended_early"


class VisitRules(EstablishmentScoped, Base):
    """The visit rules and public information of one establishment."""

    __tablename__ = "visits_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"), unique=True)
    max_adults: Mapped[int] = mapped_column(Integer, default=3)
    max_children: Mapped[int] = mapped_column(Integer, default=2)
    adult_age: Mapped[int] = mapped_column(Integer, default=18)
    window_open_days: Mapped[int] = mapped_column(Integer, default=14)
    window_close_hours: Mapped[int] = mapped_column(Integer, default=24)
    cancel_deadline_hours: Mapped[int] = mapped_column(Integer, default=12)
    quota_pretrial: Mapped[int] = mapped_column(Integer, default=2)
    quota_convicted: Mapped[int] = mapped_column(Integer, default=1)
    # how many of a detainee's weekly visits one family account may book (None = no share)
    max_weekly_per_visitor: Mapped[int | None] = mapped_column(Integer, default=None)
    # public information, in Arabic and French
    address: Mapped[str] = mapped_column(String(300), default="")
    visiting_days_ar: Mapped[str] = mapped_column(Text, default="")
    visiting_days_fr: Mapped[str] = mapped_column(Text, default="")
    conditions_ar: Mapped[str] = mapped_column(Text, default="")
    conditions_fr: Mapped[str] = mapped_column(Text, default="")
    documents_ar: Mapped[str] = mapped_column(Text, default="")
    documents_fr: Mapped[str] = mapped_column(Text, default="")
    items_ar: Mapped[str] = mapped_column(Text, default="")
    items_fr: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    establishment: Mapped[Establishment] = relationship(lazy="joined")

    def text(self, name: str, lang: str) -> str:
        ar, fr = getattr(self, f"{name}_ar"), getattr(self, f"{name}_fr")
        return (ar or fr) if lang == "ar" else (fr or ar)


class SessionTemplate(EstablishmentScoped, Base):
    """A weekly visiting session that generates slots (one per kind with a capacity)."""

    __tablename__ = "visits_session_templates"
    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_range"),
        CheckConstraint("capacity >= 0 AND capacity_supervised >= 0", name="capacity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    start_time: Mapped[str] = mapped_column(String(5))  # "HH:MM", local time
    end_time: Mapped[str] = mapped_column(String(5))
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    capacity_supervised: Mapped[int] = mapped_column(Integer, default=0)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Slot(EstablishmentScoped, Base):
    """A bookable visiting time at one establishment."""

    __tablename__ = "visits_slots"
    __table_args__ = (
        CheckConstraint("booked >= 0 AND booked <= capacity", name="not_overbooked"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        UniqueConstraint("establishment_id", "starts_at", "kind", "template_id"),
        Index("ix_visits_slots_est_start", "establishment_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"))
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("visits_session_templates.id", ondelete="SET NULL"), default=None
    )
    kind: Mapped[str] = mapped_column(String(16), default="ordinary")
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[SlotStatus] = mapped_column(
        value_enum(SlotStatus, 16, check="status"), default=SlotStatus.open
    )
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    establishment: Mapped[Establishment] = relationship(lazy="joined")

    @property
    def available(self) -> int:
        return max(0, self.capacity - self.booked) if self.status == SlotStatus.open else 0


class BlockedDate(EstablishmentScoped, Base):
    """A day without visits at one establishment (holiday, security operation…)."""

    __tablename__ = "visits_blocked_dates"
    __table_args__ = (UniqueConstraint("establishment_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"))
    day: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


LIVE_RELATION = "status IN ('pending', 'approved')"


class Relation(Base):
    """A visitor's request to be linked to a detainee, and its decision."""

    __tablename__ = "visits_relations"
    __table_args__ = (
        Index("ix_visits_relations_visitor_detainee", "visitor_id", "detainee_id"),
        # the office's queue pages through one status in date order; the flag counts rejections
        Index("ix_visits_relations_status_created", "status", "created_at"),
        Index("ix_visits_relations_visitor_status", "visitor_id", "status"),
        # one pending or approved link per visitor and detainee (issue 10 point 5)
        Index(
            "uq_visits_relations_live_visitor_detainee",
            "visitor_id",
            "detainee_id",
            unique=True,
            postgresql_where=text(LIVE_RELATION),
            sqlite_where=text(LIVE_RELATION),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("core_users.id", ondelete="CASCADE"))
    detainee_id: Mapped[int] = mapped_column(
        ForeignKey("core_detainees.id", ondelete="CASCADE"), index=True
    )
    relationship_kind: Mapped[str] = mapped_column("relationship", String(30))
    status: Mapped[RelationStatus] = mapped_column(
        value_enum(RelationStatus, 16, check="status"), default=RelationStatus.pending
    )
    reason: Mapped[str] = mapped_column(String(300), default="")
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None
    )
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    visitor: Mapped[User] = relationship(foreign_keys=[visitor_id], lazy="joined")
    detainee: Mapped[Detainee] = relationship(lazy="joined")


class Ban(EstablishmentScoped, Base):
    """A person may not visit an establishment until ``ends_on`` (inclusive; none = open).

    A ban is by person: ``national_id`` is the banned national identity card number (copied
    from the account banned), and it bars every visitor account holding that number and every
    companion named with it, at booking and at the gate (issue 10 point 4).
    """

    __tablename__ = "visits_bans"

    id: Mapped[int] = mapped_column(primary_key=True)
    visitor_id: Mapped[int] = mapped_column(
        ForeignKey("core_users.id", ondelete="CASCADE"), index=True
    )
    national_id: Mapped[str | None] = mapped_column(String(20), default=None, index=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"))
    reason: Mapped[str] = mapped_column(String(300))
    ends_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    lifted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    visitor: Mapped[User] = relationship(foreign_keys=[visitor_id], lazy="joined")
    establishment: Mapped[Establishment] = relationship(lazy="joined")


LIVE_BOOKING = "status IN ('confirmed', 'checked_in')"


class Booking(EstablishmentScoped, Base):
    """A booked visit; ``status`` moves only along ``services.TRANSITIONS``."""

    __tablename__ = "visits_bookings"
    __table_args__ = (
        Index("ix_visits_bookings_slot_status", "slot_id", "status"),
        Index("ix_visits_bookings_detainee", "detainee_id", "status"),
        Index("ix_visits_bookings_visitor", "visitor_id", "created_at"),
        # one live booking per detainee and slot, walk-ins included, guaranteed by the
        # database (issue 10 point 5; migrations 0003, 0006)
        Index(
            "uq_visits_bookings_live_slot_detainee",
            "slot_id",
            "detainee_id",
            unique=True,
            postgresql_where=text(LIVE_BOOKING),
            sqlite_where=text(LIVE_BOOKING),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("visits_slots.id"))
    establishment_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"))
    detainee_id: Mapped[int] = mapped_column(ForeignKey("core_detainees.id", ondelete="CASCADE"))
    visitor_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None
    )
    visitor_name: Mapped[str] = mapped_column(String(200))
    visitor_national_id: Mapped[str] = mapped_column(String(20), default="")
    adults: Mapped[int] = mapped_column(Integer, default=1)
    children: Mapped[int] = mapped_column(Integer, default=0)
    places: Mapped[int] = mapped_column(Integer, default=1)
    week_start: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[BookingStatus] = mapped_column(
        value_enum(BookingStatus, 20, check="status"), default=BookingStatus.confirmed
    )
    walk_in: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    checked_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    reminder_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)

    slot: Mapped[Slot] = relationship(lazy="joined")
    detainee: Mapped[Detainee] = relationship(lazy="joined")
    visitor: Mapped[User | None] = relationship(lazy="joined")
    companions: Mapped[list[Companion]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Companion.id"
    )


class Companion(Base):
    __tablename__ = "visits_companions"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("visits_bookings.id", ondelete="CASCADE"), index=True
    )
    full_name: Mapped[str] = mapped_column(String(200))
    national_id: Mapped[str] = mapped_column(String(20), default="")
    birth_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    is_adult: Mapped[bool] = mapped_column(Boolean, default=True)


class QuotaCounter(Base):
    """Visits counted against a detainee's weekly quota (advanced conditionally)."""

    __tablename__ = "visits_quota_counters"
    __table_args__ = (CheckConstraint("used >= 0", name="used_positive"),)

    detainee_id: Mapped[int] = mapped_column(
        ForeignKey("core_detainees.id", ondelete="CASCADE"), primary_key=True
    )
    week_start: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)


ALL_MODELS: list[type] = [
    VisitRules,
    SessionTemplate,
    Slot,
    BlockedDate,
    Relation,
    Ban,
    Booking,
    Companion,
    QuotaCounter,
]
