"""Complaints (شكايات / plaintes): every complaint received, routed, answered on time, counted.

- :class:`Complaint` — one complaint about a detainee's establishment; its ``status`` follows
  ``services.workflow.TRANSITIONS`` (the only place that says which status may follow which).
- :class:`Entry` — the complaint's timeline: answers the author sees, internal notes, every
  change of status, routing or assignment (``kind`` is a code translated when shown).
- :class:`Attachment` — a file sent with the complaint (PDF, JPEG, PNG; bytes in the database,
  so it commits or rolls back with the complaint).
- :class:`NamedStaff` — staff members named in a complaint: never assigned to it.
- :class:`DailyCount` — complaints filed per author and local day (a conditional counter).
- :class:`Holiday`, :class:`CalendarYear` — the working-day calendar the central
  administration keeps (proposed from ``holidays.Morocco``, corrected when the moon is sighted).
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
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, BigId, UTCDateTime, utcnow, value_enum
from core.detainees.models import Detainee
from core.establishments.models import Establishment
from core.identity.models import User
from core.scoping import EstablishmentScoped


class Status(enum.StrEnum):
    """Which status may follow which is ``services.workflow.TRANSITIONS``."""

    received = "received"
    acknowledged = "acknowledged"
    in_review = "in_review"
    answered = "answered"
    appealed = "appealed"
    appeal_review = "appeal_review"
    closed = "closed"
    inadmissible = "inadmissible"
    withdrawn = "withdrawn"


class Outcome(enum.StrEnum):
    none = ""
    founded = "founded"
    partly_founded = "partly_founded"
    unfounded = "unfounded"


class Channel(enum.StrEnum):
    """How the complaint reached the administration."""

    online = "online"
    written = "written"
    oral = "oral"
    phone = "phone"
    complaint_box = "complaint_box"


class AppealLevel(enum.StrEnum):
    none = ""
    regional = "regional"
    central = "central"


class EntryKind(enum.StrEnum):
    answer = "answer"  # seen by the author
    note = "note"  # staff only
    status = "status"  # a change of status (with an optional comment)
    reroute = "reroute"  # another category / office, with a comment
    assign = "assign"
    appeal = "appeal"  # the author's reason
    reminder = "reminder"
    escalation = "escalation"
    central_escalation = "central_escalation"
    referral = "referral"  # a regional reviewer refers the appeal up to the central level


class Complaint(EstablishmentScoped, Base):
    __tablename__ = "complaints_complaints"
    __table_args__ = (
        Index("ix_complaints_complaints_est_status_due", "establishment_id", "status", "due_on"),
        Index("ix_complaints_complaints_author", "author_id", "received_at"),
        Index("ix_complaints_complaints_detainee", "detainee_id", "received_at"),
        CheckConstraint("length(subject) > 0", name="subject_not_empty"),
        CheckConstraint("length(body) > 0", name="body_not_empty"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("core_establishments.id", ondelete="RESTRICT")
    )
    detainee_id: Mapped[int] = mapped_column(ForeignKey("core_detainees.id", ondelete="RESTRICT"))
    # the family member who filed online; None when staff filed on the detainee's behalf
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None
    )
    filed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None
    )
    channel: Mapped[Channel] = mapped_column(value_enum(Channel, 20, check="channel"))
    category: Mapped[str] = mapped_column(String(60))
    office: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[Status] = mapped_column(
        value_enum(Status, 20, check="status"), default=Status.received
    )
    outcome: Mapped[Outcome] = mapped_column(
        value_enum(Outcome, 20, check="outcome"), default=Outcome.none
    )
    inadmissible_reason: Mapped[str] = mapped_column(String(40), default="")
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None
    )
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_on: Mapped[dt.date] = mapped_column(Date)
    # the due date set at filing (due_on moves with an appeal): "answered on time" uses it
    first_due_on: Mapped[dt.date] = mapped_column(Date)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    first_answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    appealed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    appeal_level: Mapped[AppealLevel] = mapped_column(
        value_enum(AppealLevel, 20, check="appeal_level"), default=AppealLevel.none
    )
    reminded_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    # still overdue COMPLAINTS_CENTRAL_ESCALATION_DAYS working days after the due date
    central_escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    establishment: Mapped[Establishment] = relationship(lazy="joined")
    detainee: Mapped[Detainee] = relationship(lazy="joined")
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    filed_by: Mapped[User | None] = relationship(foreign_keys=[filed_by_id])
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])
    entries: Mapped[list[Entry]] = relationship(
        back_populates="complaint", order_by="Entry.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="complaint", order_by="Attachment.id", cascade="all, delete-orphan"
    )
    named_staff: Mapped[list[NamedStaff]] = relationship(cascade="all, delete-orphan")


class Entry(Base):
    __tablename__ = "complaints_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaints_complaints.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[EntryKind] = mapped_column(value_enum(EntryKind, 20, check="kind"))
    visible_to_author: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text, default="")
    from_status: Mapped[str] = mapped_column(String(20), default="")
    to_status: Mapped[str] = mapped_column(String(20), default="")
    detail: Mapped[str] = mapped_column(String(80), default="")  # a code (category, outcome…)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None
    )
    actor_username: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    complaint: Mapped[Complaint] = relationship(back_populates="entries")


class Attachment(Base):
    __tablename__ = "complaints_attachments"
    __table_args__ = (CheckConstraint("size > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaints_complaints.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    complaint: Mapped[Complaint] = relationship(back_populates="attachments")


class NamedStaff(Base):
    __tablename__ = "complaints_named_staff"

    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaints_complaints.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("core_users.id", ondelete="CASCADE"), primary_key=True
    )

    user: Mapped[User] = relationship(lazy="joined")


class DailyCount(Base):
    """How many complaints one author filed on one local day (the daily limit's counter)."""

    __tablename__ = "complaints_daily_counts"
    __table_args__ = (CheckConstraint("filed >= 0", name="filed_not_negative"),)

    author_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    filed: Mapped[int] = mapped_column(Integer, default=0)


class Holiday(Base):
    """A public holiday (no working day) of the national calendar."""

    __tablename__ = "complaints_holidays"
    __table_args__ = (UniqueConstraint("day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    name_ar: Mapped[str] = mapped_column(String(120), default="")
    name_fr: Mapped[str] = mapped_column(String(120), default="")
    name_en: Mapped[str] = mapped_column(String(120), default="")
    estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def name(self, lang: str) -> str:
        return {"ar": self.name_ar, "fr": self.name_fr}.get(lang, self.name_en) or self.name_en


class CalendarYear(Base):
    """A year whose holidays were proposed into the table: from then on the table is the
    calendar of that year (a year never proposed uses ``holidays.Morocco`` as it is)."""

    __tablename__ = "complaints_calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    proposed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    proposed_by: Mapped[str] = mapped_column(String(80), default="")


MODELS: list[type] = [
    Complaint,
    Entry,
    Attachment,
    NamedStaff,
    DailyCount,
    Holiday,
    CalendarYear,
]
