"""Tables of the API layer: idempotency keys (replayable results of retried writes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigId, UTCDateTime, utcnow


class IdempotencyKey(Base):
    """One ``Idempotency-Key`` a user sent to one write endpoint, with the first response.

    The row is inserted *before* the work, in the same transaction: the unique constraint makes
    a concurrent retry wait for (or fail against) the first request, never run twice.
    ``response_status`` is ``None`` only while the first request is still running.
    """

    __tablename__ = "core_idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "scope", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int] = mapped_column(ForeignKey("core_users.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(300))  # "POST /api/v1/…"
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(default=None)
    response_body: Mapped[Any] = mapped_column(JSON, default=None, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
