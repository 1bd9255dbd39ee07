"""Notifications: write to the outbox inside the transaction; deliver after commit.

A message is only a row until its transaction commits, so a rolled-back booking never sends a
confirmation. :func:`dispatch_pending` hands pending messages to the channel they name
(``plugin_notification_channels``); ``idmaj notifications send`` runs it, and so does every
request that enqueued something, right after its response is sent.
"""

from __future__ import annotations

import logging

from flask import current_app, g
from sqlalchemy import select

from core.contributions import NotificationChannel
from core.db import get_database, utcnow
from core.db import session as db_session
from core.identity.models import User
from core.notifications.models import OutboxMessage
from core.plugins import collect

log = logging.getLogger("idmaj.notifications")
MAX_ATTEMPTS = 5


def _log_send(message: OutboxMessage) -> None:
    log.info(
        "notification %s to %s: %s",
        message.kind,
        message.recipient or message.user_id,
        message.subject,
    )


LOG_CHANNEL = NotificationChannel(name="log", send=_log_send, order=1000)


def enqueue(
    *,
    kind: str,
    subject: str,
    body: str = "",
    user: User | None = None,
    recipient: str = "",
    channel: str = "log",
) -> OutboxMessage:
    """Queue a message in the caller's transaction."""
    msg = OutboxMessage(
        kind=kind,
        subject=str(subject)[:300],
        body=str(body),
        channel=channel,
        user_id=user.id if user is not None else None,
        recipient=recipient or (user.phone or user.username if user is not None else ""),
    )
    db_session().add(msg)
    db_session().flush()
    g.setdefault("_outbox_pending", True)
    return msg


def channels() -> dict[str, NotificationChannel]:
    found = {c.name: c for c in collect("plugin_notification_channels")}
    found.setdefault("log", LOG_CHANNEL)
    return found


def dispatch_pending(limit: int = 200) -> int:
    """Deliver pending messages in their own transaction; returns how many were sent."""
    db = get_database(current_app._get_current_object())  # type: ignore[attr-defined]
    known = channels()
    sent = 0
    with db.sessionmaker() as sess:
        rows = sess.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS)
            .order_by(OutboxMessage.id)
            .limit(limit)
        ).all()
        for msg in rows:
            chan = known.get(msg.channel)
            if chan is None:
                continue
            msg.attempts += 1
            try:
                chan.send(msg)
            except Exception as exc:  # a channel failing must not lose the message
                msg.last_error = f"{type(exc).__name__}: {exc}"[:500]
                continue
            msg.sent_at = utcnow()
            sent += 1
        sess.commit()
    return sent
