"""Transfers (ترحيل / transfèrement): moving a detainee between establishments, to court, to
hospital or to another authority.

- :class:`Transfer` — one move, from request to completion; its ``status`` follows the state
  machine of :mod:`plugins.transfers.services.machine` (the only place that says which status
  may follow which). A detainee has at most one *active* transfer: a partial unique index
  (``uq_transfers_transfers_active_detainee``) on SQLite and PostgreSQL.
- :class:`TransferEvent` — the timeline: one row per transition (who, when, from, to, note).
- :class:`TransferOverride` — a blocker a director decided to go ahead over, with the reason.
- :class:`EscortRecord` — risk flags and property (bags, seal numbers) of the move.
- :class:`RemoteHearing` — a court hearing held by video link (the digital court): no move.
- :class:`BulkBatch` — a bulk transfer's request and its summary.

Reasons, kinds, refusal reasons and statuses are stored as codes and translated when shown.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow, value_enum
from core.detainees.models import Detainee
from core.establishments.models import Establishment
from core.scoping import EstablishmentScoped


class TransferStatus(enum.StrEnum):
    """Which status may follow which is ``services.machine.TRANSITIONS``, the only place."""

    requested = "requested"
    approved = "approved"
    accepted = "accepted"
    scheduled = "scheduled"
    in_transit = "in_transit"
    completed = "completed"
    refused = "refused"
    cancelled = "cancelled"


ACTIVE_STATUSES = ("requested", "approved", "accepted", "scheduled", "in_transit")
ACTIVE_WHERE = "status IN ('requested', 'approved', 'accepted', 'scheduled', 'in_transit')"


class MoveKind(enum.StrEnum):
    transfer = "transfer"
    court = "court"
    hospital = "hospital"
    handover = "handover"


class Reason(enum.StrEnum):
    security = "security"
    overcrowding = "overcrowding"
    closer_to_family = "closer_to_family"
    medical = "medical"
    court = "court"
    programme = "programme"
    disciplinary = "disciplinary"
    detainee_request = "detainee_request"
    other = "other"


class RefusalReason(enum.StrEnum):
    no_space = "no_space"
    more_information = "more_information"
    security = "security"


class Transfer(Base):
    """One move. Visible to staff of its origin or its destination (``services.visible``)."""

    __tablename__ = "transfers_transfers"
    __table_args__ = (
        Index(
            "uq_transfers_transfers_active_detainee",
            "detainee_id",
            unique=True,
            sqlite_where=text(ACTIVE_WHERE),
            postgresql_where=text(ACTIVE_WHERE),
        ),
        Index("ix_transfers_transfers_origin_status", "origin_id", "status"),
        Index("ix_transfers_transfers_destination_status", "destination_id", "status"),
        Index("ix_transfers_transfers_scheduled_for", "scheduled_for"),
        CheckConstraint("reason <> 'other' OR reason_text <> ''", name="other_has_text"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    detainee_id: Mapped[int] = mapped_column(ForeignKey("core_detainees.id", ondelete="CASCADE"))
    origin_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"))
    destination_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"))
    kind: Mapped[MoveKind] = mapped_column(value_enum(MoveKind, 16, check="kind"))
    reason: Mapped[Reason] = mapped_column(value_enum(Reason, 24, check="reason"))
    reason_text: Mapped[str] = mapped_column(String(300), default="")
    place: Mapped[str] = mapped_column(String(200), default="")  # the court, hospital, authority
    note: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[TransferStatus] = mapped_column(
        value_enum(TransferStatus, 16, check="status"), default=TransferStatus.requested
    )
    planned_for: Mapped[dt.date | None] = mapped_column(Date, default=None)
    judicial_authorisation: Mapped[str] = mapped_column(String(100), default="")
    scheduled_for: Mapped[dt.date | None] = mapped_column(Date, default=None)
    escort: Mapped[str] = mapped_column(String(300), default="")
    vehicle: Mapped[str] = mapped_column(String(60), default="")
    refusal_reason: Mapped[RefusalReason | None] = mapped_column(
        value_enum(RefusalReason, 24, check="refusal_reason"), default=None
    )
    closing_note: Mapped[str] = mapped_column(String(300), default="")  # refusal/cancel text
    bulk_id: Mapped[int | None] = mapped_column(
        ForeignKey("transfers_bulk_batches.id", ondelete="SET NULL"), default=None, index=True
    )
    requested_by: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    departed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)

    detainee: Mapped[Detainee] = relationship(lazy="joined")
    origin: Mapped[Establishment] = relationship(foreign_keys=[origin_id], lazy="joined")
    destination: Mapped[Establishment] = relationship(foreign_keys=[destination_id], lazy="joined")
    events: Mapped[list[TransferEvent]] = relationship(
        back_populates="transfer", order_by="TransferEvent.id", cascade="all, delete-orphan"
    )
    overrides: Mapped[list[TransferOverride]] = relationship(
        order_by="TransferOverride.id", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:
        return self.status.value in ACTIVE_STATUSES

    @property
    def moves_detainee(self) -> bool:
        """A move to another establishment changes where the detainee is held; a court or
        hospital trip that returns to the origin does not."""
        return self.destination_id != self.origin_id

    def __repr__(self) -> str:
        return f"<Transfer {self.id} {self.status}>"


class TransferEvent(Base):
    """One step of a transfer's timeline."""

    __tablename__ = "transfers_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(
        ForeignKey("transfers_transfers.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(24))  # request, approve, … (machine actions)
    from_status: Mapped[str] = mapped_column(String(16), default="")
    to_status: Mapped[str] = mapped_column(String(16))
    actor_username: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    transfer: Mapped[Transfer] = relationship(back_populates="events")


class TransferOverride(Base):
    """A director went ahead over an overridable blocker, saying why (audited)."""

    __tablename__ = "transfers_overrides"
    __table_args__ = (UniqueConstraint("transfer_id", "module", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(
        ForeignKey("transfers_transfers.id", ondelete="CASCADE")
    )
    module: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(60))
    message: Mapped[str] = mapped_column(String(500), default="")
    reason: Mapped[str] = mapped_column(String(300))
    actor_username: Mapped[str] = mapped_column(String(80))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EscortRecord(Base):
    """What the escort must know about a move: risks and property. The health section
    (fit / needs) comes from the ``transfers_escort_health`` hook when shown, never stored."""

    __tablename__ = "transfers_escort_records"

    transfer_id: Mapped[int] = mapped_column(
        ForeignKey("transfers_transfers.id", ondelete="CASCADE"), primary_key=True
    )
    risk_escape: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_violence: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_self_harm: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_separately: Mapped[bool] = mapped_column(Boolean, default=False)
    bags: Mapped[int] = mapped_column(Integer, default=0)
    seal_numbers: Mapped[str] = mapped_column(String(300), default="")
    notes: Mapped[str] = mapped_column(String(500), default="")
    updated_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (CheckConstraint("bags >= 0 AND bags <= 99", name="bags_range"),)


class RemoteHearing(EstablishmentScoped, Base):
    """A court hearing held by video link from the establishment: no move happened."""

    __tablename__ = "transfers_remote_hearings"
    __table_args__ = (
        Index("ix_transfers_remote_hearings_est_day", "establishment_id", "hearing_on"),
        CheckConstraint("escort_hours >= 0 AND escort_hours <= 72", name="hours_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"))
    detainee_id: Mapped[int] = mapped_column(ForeignKey("core_detainees.id", ondelete="CASCADE"))
    transfer_id: Mapped[int | None] = mapped_column(
        ForeignKey("transfers_transfers.id", ondelete="SET NULL"), default=None
    )
    court: Mapped[str] = mapped_column(String(200))
    hearing_on: Mapped[dt.date] = mapped_column(Date)
    case_reference: Mapped[str] = mapped_column(String(60), default="")
    escort_hours: Mapped[int] = mapped_column(Integer, default=6)
    recorded_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    detainee: Mapped[Detainee] = relationship(lazy="joined")


class BulkBatch(Base):
    """A bulk transfer (a new prison opening): one request per detainee, and the summary."""

    __tablename__ = "transfers_bulk_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    origin_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"))
    destination_id: Mapped[int] = mapped_column(ForeignKey("core_establishments.id"))
    reason: Mapped[Reason] = mapped_column(value_enum(Reason, 24, check="reason"))
    reason_text: Mapped[str] = mapped_column(String(300), default="")
    created_by: Mapped[str] = mapped_column(String(80))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # a long list is worked through by the task queue (``transfers.bulk``), a chunk at a time:
    # ``numbers`` waits there, ``position`` says how far it went, ``done`` when finished
    numbers: Mapped[list] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)

    origin: Mapped[Establishment] = relationship(foreign_keys=[origin_id], lazy="joined")
    destination: Mapped[Establishment] = relationship(foreign_keys=[destination_id], lazy="joined")


MODELS: list[type] = [
    BulkBatch,
    Transfer,
    TransferEvent,
    TransferOverride,
    EscortRecord,
    RemoteHearing,
]
