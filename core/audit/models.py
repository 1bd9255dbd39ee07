"""The audit trail: append-only events, hash-chained in the background by the sealer, and the
signed checkpoints the sealer writes (see ``core.audit.sealer``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigId, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "core_audit_events"
    __table_args__ = (
        Index("ix_core_audit_events_object", "object_type", "object_id"),
        Index("ix_core_audit_events_establishment_time", "establishment_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None, index=True
    )
    actor_username: Mapped[str] = mapped_column(String(80), default="")
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(80), default="")
    establishment_id: Mapped[int | None] = mapped_column(default=None)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[str] = mapped_column(String(64), default="")
    # NULL until the sealer chains the event: its position in the chain (1, 2, 3… without a
    # gap), the previous event's hash and its own. Unique: the chain cannot fork.
    chain_index: Mapped[int | None] = mapped_column(BigInteger, default=None, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    hash: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)


class AuditCheckpoint(Base):
    """What the sealer signed at the end of a batch: the chain up to ``up_to_index`` ends with
    ``head_hash`` at event ``last_event_id``. Also appended to the anchor file."""

    __tablename__ = "core_audit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    up_to_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    signature: Mapped[str] = mapped_column(String(128))
