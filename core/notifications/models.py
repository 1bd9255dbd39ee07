"""The outbox: messages written in the transaction of the change, delivered after commit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow


class OutboxMessage(Base):
    __tablename__ = "core_outbox"
    __table_args__ = (Index("ix_core_outbox_pending", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(40), default="log")
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_users.id", ondelete="SET NULL"), default=None, index=True
    )
    recipient: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(80))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    # retries: a failed send waits until next_attempt_at (back-off doubling each try); after
    # NOTIFY_MAX_ATTEMPTS tries the message ends failed (failed_at set), for an operator
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
