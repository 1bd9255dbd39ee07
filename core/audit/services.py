"""Writing and verifying the audit trail.

Every change, and every read a plugin marks sensitive, calls :func:`record` inside the same
transaction. Events are hash-chained: each stores the previous event's hash and its own hash over
its content. :func:`record` only queues the event on the session; when the transaction commits,
the queued events are chained and written under a lock of the single ``core_audit_head`` row,
so the chain never forks under concurrency, writers queue for it only during their commit, and
an event recorded in a rolled-back transaction or savepoint is never written. :func:`verify`
walks the chain and names the first event
edited, inserted or deleted by hand.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.audit.models import AuditEvent, AuditHead
from core.db import session as db_session
from core.db import utcnow

GENESIS_HASH = "0" * 64


def _canonical(event: AuditEvent) -> bytes:
    occurred = (
        event.occurred_at.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
    )
    payload = {
        "occurred_at": occurred,
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "establishment_id": event.establishment_id,
        "summary": event.summary,
        "ip": event.ip,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def _lock_head(sess: Session) -> AuditHead:
    """Lock the single head row (creating it once, race-free) and return it fresh."""
    stmt = (
        select(AuditHead)
        .where(AuditHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    head = sess.execute(stmt).scalar_one_or_none()
    if head is None:
        dialect = sess.get_bind().dialect.name
        ins = pg_insert if dialect == "postgresql" else sqlite_insert
        sess.execute(
            ins(AuditHead)
            .values(id=1, last_event_id=0, last_hash=GENESIS_HASH)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        head = sess.execute(stmt).scalar_one()
    return head


def record(
    action: str,
    object_type: str,
    object_id: Any = "",
    *,
    establishment_id: int | None = None,
    summary: Mapping[str, Any] | None = None,
    actor: Any = None,
    sess: Session | None = None,
) -> AuditEvent:
    """Append one event to the trail, in the caller's transaction.

    :param action: ``"<area>.<verb>"``, e.g. ``"detainee.admit"``, ``"health.file.read"``.
    :param summary: what changed (``{"field": [old, new]}``) or what was read; no secrets.
    :param actor: the user acting; defaults to the signed-in user of the request.
    """
    sess = sess or db_session()
    if actor is None and has_request_context() and current_user and not current_user.is_anonymous:
        actor = current_user
    ip = ""
    if has_request_context():
        ip = request.remote_addr or ""
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_username=getattr(actor, "username", "") or "",
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else "",
        establishment_id=establishment_id,
        summary=_json_safe(dict(summary or {})),
        ip=ip,
    )
    # chained and written when the transaction commits (see _chain_pending_events)
    sess.info.setdefault(_PENDING, []).append((event, sess.get_nested_transaction()))
    return event


_PENDING = "idmaj.audit.pending"


def pending_events(sess: Session) -> list[AuditEvent]:
    """Events recorded in this session's transaction and not yet written (they are written
    at commit, or dropped with a rollback)."""
    return [event for event, _tx in sess.info.get(_PENDING, [])]


@sa_event.listens_for(Session, "before_commit")
def _chain_pending_events(sess: Session) -> None:
    """Write the transaction's events at commit time, chained under the head row's lock.

    Locking the head only here, at the very end of the transaction, keeps the section in
    which writers queue for the chain as short as possible (and always last, so it cannot
    take part in a lock-order deadlock with a module's own row locks).
    """
    pending = sess.info.pop(_PENDING, None)
    if not pending:
        return
    head = _lock_head(sess)
    for event, _tx in pending:
        event.prev_hash = head.last_hash
        event.hash = compute_hash(event)
        sess.add(event)
        sess.flush()
        head.last_hash = event.hash
        head.last_event_id = event.id
    sess.flush()


@sa_event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back_events(sess: Session, previous_transaction: Any) -> None:
    """Events recorded inside a rolled-back savepoint (or transaction) never happened."""
    pending = sess.info.get(_PENDING)
    if not pending:
        return
    if not previous_transaction.nested:
        sess.info.pop(_PENDING, None)
        return

    def inside(tx: Any) -> bool:
        while tx is not None:
            if tx is previous_transaction:
                return True
            tx = tx.parent
        return False

    sess.info[_PENDING] = [(ev, tx) for ev, tx in pending if not inside(tx)]


def record_read(object_type: str, object_id: Any, **kwargs: Any) -> AuditEvent:
    """Audit a read of sensitive data (a health file, an account statement…)."""
    return record(f"{object_type}.read", object_type, object_id, **kwargs)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_event_id: int | None = None
    reason: str = ""


def _iter_events(sess: Session, batch: int = 5000) -> Iterator[AuditEvent]:
    last = 0
    while True:
        rows = (
            sess.execute(
                select(AuditEvent).where(AuditEvent.id > last).order_by(AuditEvent.id).limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            return
        last = rows[-1].id
        for row in rows:
            yield row
            sess.expunge(row)


def verify(sess: Session | None = None) -> VerifyResult:
    """Walk the whole chain; report the first event whose hash or link is wrong."""
    sess = sess or db_session()
    prev = GENESIS_HASH
    count = 0
    last_id = 0
    for event in _iter_events(sess):
        count += 1
        if event.prev_hash != prev:
            return VerifyResult(
                False,
                count,
                event.id,
                "link to the previous event is broken (an event before it was deleted or inserted)",
            )
        if compute_hash(event) != event.hash:
            return VerifyResult(False, count, event.id, "content was edited after it was written")
        prev = event.hash
        last_id = event.id
    head = sess.get(AuditHead, 1, populate_existing=True)
    if head is not None and (head.last_hash != prev or head.last_event_id != last_id):
        return VerifyResult(
            False, count, head.last_event_id, "the last events of the chain were deleted"
        )
    return VerifyResult(True, count)
