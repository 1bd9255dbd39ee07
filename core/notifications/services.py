"""Notifications: write to the outbox inside the transaction; deliver after commit.

A message is only a row until its transaction commits, so a rolled-back booking never sends a
confirmation. :func:`dispatch_pending` hands pending messages to the channel they name
(``plugin_notification_channels``); the worker runs it every minute (the core's periodic task
``core.notifications``), ``idmaj notifications send`` runs it, and so does every request that
enqueued something, right after its response is sent.

Never twice: a dispatcher *claims* the messages it sends — ``SELECT … FOR UPDATE SKIP LOCKED``
on PostgreSQL, so two workers take disjoint messages; SQLite's ``BEGIN IMMEDIATE`` serialises
dispatchers — and marks them sent in the same transaction.

Retries: a channel that raises leaves the message pending with ``last_error``; it is tried
again after ``NOTIFY_RETRY_SECONDS`` doubled at each try (``next_attempt_at``), and after
``NOTIFY_MAX_ATTEMPTS`` tries it ends ``failed`` (``failed_at``): ``idmaj notifications
failed`` lists those.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from flask import current_app, g
from sqlalchemy import Select, and_, func, or_, select

from core.audit import services as audit
from core.contributions import NotificationChannel
from core.db import get_database, insert_plain, utcnow
from core.db import session as db_session
from core.identity.models import User
from core.identity.services import require
from core.notifications.models import OutboxMessage
from core.paging import fetch_page
from core.plugins import collect

log = logging.getLogger("idmaj.notifications")
MAX_ATTEMPTS = 5  # the default of NOTIFY_MAX_ATTEMPTS
RETRY_SECONDS = 60  # the default of NOTIFY_RETRY_SECONDS
MAX_DELAY = dt.timedelta(days=1)


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
    """Queue a message in the caller's transaction (one ``INSERT``; the message returned is
    not in the session: its id is set, and it is never changed by the request)."""
    msg = OutboxMessage(
        kind=kind,
        subject=str(subject)[:300],
        body=str(body),
        channel=channel,
        user_id=user.id if user is not None else None,
        recipient=recipient or (user.phone or user.username if user is not None else ""),
    )
    insert_plain(db_session(), [msg])
    g.setdefault("_outbox_pending", True)
    return msg


def channels() -> dict[str, NotificationChannel]:
    found = {c.name: c for c in collect("plugin_notification_channels")}
    found.setdefault("log", LOG_CHANNEL)
    return found


def retry_delay(attempts: int, base_seconds: int = RETRY_SECONDS) -> dt.timedelta:
    """How long a message waits after its ``attempts``-th failed try: base, 2×base, 4×base…"""
    return min(dt.timedelta(seconds=base_seconds * 2 ** max(attempts - 1, 0)), MAX_DELAY)


def pending_query(now: dt.datetime, names: list[str], max_attempts: int) -> Select[Any]:
    """The messages a dispatcher may send now: not sent, not failed, due, on a known channel."""
    return (
        select(OutboxMessage)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed_at.is_(None),
            OutboxMessage.attempts < max_attempts,
            OutboxMessage.channel.in_(names),
            or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        )
        .order_by(OutboxMessage.id)
    )


def deliver_soon(app: Any) -> None:
    """After a request that wrote to the outbox: ask a worker to deliver now.

    Queuing the delivery task costs about 0.2 ms; delivering in the request cost a transaction
    of its own (claim, send, mark sent: 9 % of a booking's CPU), spent before the worker could
    take the next request. With ``TASKS_IMMEDIATE`` (tests) the task runs here at once. If the
    queue cannot be reached, the message is delivered here as before; either way the minute's
    periodic ``core.notifications`` task picks up whatever is left.
    """
    from core.tasks import get_queue

    try:
        get_queue(app).enqueue("core.notifications")
        return
    except Exception:
        log.exception("could not queue the outbox delivery: delivering in the request")
    try:
        dispatch_pending()
    except Exception:  # delivery is retried by `idmaj worker` (core.notifications)
        log.exception("outbox dispatch failed")


def dispatch_pending(limit: int = 200) -> int:
    """Deliver pending messages in their own transaction; returns how many were sent."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    db = get_database(app)
    max_attempts = int(app.config.get("NOTIFY_MAX_ATTEMPTS") or MAX_ATTEMPTS)
    base = int(app.config.get("NOTIFY_RETRY_SECONDS") or RETRY_SECONDS)
    known = channels()
    sent = 0
    with db.sessionmaker() as sess:
        now = utcnow()
        # claimed: locked until commit, skipped (not waited for) by any other dispatcher
        rows = sess.scalars(
            pending_query(now, sorted(known), max_attempts)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for msg in rows:
            chan = known[msg.channel]
            msg.attempts += 1
            try:
                chan.send(msg)
            except Exception as exc:  # a channel failing must not lose the message
                msg.last_error = f"{type(exc).__name__}: {exc}"[:500]
                if msg.attempts >= max_attempts:
                    msg.failed_at = utcnow()
                    log.warning("notification %s failed for good: %s", msg.id, msg.last_error)
                else:
                    msg.next_attempt_at = utcnow() + retry_delay(msg.attempts, base)
                continue
            msg.sent_at = utcnow()
            msg.next_attempt_at = None
            sent += 1
        sess.commit()
    return sent


def _failed() -> Select[Any]:
    return select(OutboxMessage).where(OutboxMessage.failed_at.is_not(None))


def failed_messages(limit: int = 100) -> list[OutboxMessage]:
    """Messages that ended failed, newest first (for an operator)."""
    rows, _total = failed_page(1, limit)
    return rows


def failed_page(page: int, per_page: int) -> tuple[list[OutboxMessage], int]:
    """One page of the messages that ended failed, newest first, and how many there are."""
    return fetch_page(
        db_session(),
        _failed(),
        (OutboxMessage.failed_at.desc(), OutboxMessage.id.desc()),
        page,
        per_page,
    )


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    retrying: int
    failed: int
    sent_last_day: int


def outbox_counts() -> OutboxCounts:
    """What the outbox holds now, for the operator's page (one query)."""
    since = utcnow() - dt.timedelta(days=1)
    unsent = and_(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
    row = (
        db_session()
        .execute(
            select(
                func.count().filter(unsent),
                func.count().filter(unsent, OutboxMessage.attempts > 0),
                func.count().filter(OutboxMessage.failed_at.is_not(None)),
                func.count().filter(OutboxMessage.sent_at >= since),
            ).select_from(OutboxMessage)
        )
        .one()
    )
    return OutboxCounts(*(int(v or 0) for v in row))


def retry_failed(message_ids: list[int], actor: Any) -> int:
    """Put failed messages back to pending with a fresh count of tries, audited (the caller
    commits). Only messages that ended failed are touched; the others are ignored."""
    require(actor, "notifications.manage")
    rows = db_session().scalars(_failed().where(OutboxMessage.id.in_(message_ids))).all()
    for msg in rows:
        msg.failed_at = None
        msg.next_attempt_at = None
        msg.attempts = 0
        audit.record(
            "notification.retry",
            "notification",
            msg.id,
            summary={"channel": msg.channel, "kind": msg.kind, "last_error": msg.last_error},
            actor=actor,
        )
    db_session().flush()
    return len(rows)
