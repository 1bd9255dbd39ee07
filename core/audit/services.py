"""Writing and verifying the audit trail.

Every change, and every read a plugin marks sensitive, calls :func:`record` inside the same
transaction. :func:`record` only queues the event on the session; when the transaction commits,
the queued events are inserted — one INSERT, no lock: writers never wait for each other — and an
event recorded in a rolled-back transaction or savepoint is never written. The events are then
hash-chained in the background by the sealer (:mod:`core.audit.sealer`), which also signs a
checkpoint per batch and anchors it in a file outside the database. :func:`verify` walks the
chain, checks every checkpoint's signature and the anchor file, and names the first event
edited, inserted, deleted or reordered by hand.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app, has_request_context, request
from flask_login import current_user
from sqlalchemy import Engine, func, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from core.audit.models import AuditCheckpoint, AuditEvent
from core.db import insert_plain, utcnow
from core.db import session as db_session

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
    if not sess.in_transaction():
        sess.begin()  # so that a rollback before any SQL still drops the event
    # written when the transaction commits (see _write_pending_events), chained by the sealer
    sess.info.setdefault(_PENDING, []).append((event, sess.get_nested_transaction()))
    return event


_PENDING = "idmaj.audit.pending"


def pending_events(sess: Session) -> list[AuditEvent]:
    """Events recorded in this session's transaction and not yet written (they are written
    at commit, or dropped with a rollback)."""
    return [event for event, _tx in sess.info.get(_PENDING, [])]


@sa_event.listens_for(Session, "before_commit")
def _write_pending_events(sess: Session) -> None:
    """Insert the transaction's events at commit time, unsealed (``hash`` NULL): no lock, so
    the writers of the country never queue for one another; the sealer chains them later."""
    pending = sess.info.pop(_PENDING, None)
    if not pending:
        return
    # one INSERT, not a flush of the unit of work (an event is never changed once recorded)
    insert_plain(sess, [event for event, _tx in pending])


@sa_event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back_events(sess: Session, previous_transaction: Any) -> None:
    """Events recorded inside a rolled-back savepoint (or transaction) never happened."""
    pending = sess.info.get(_PENDING)
    if not pending:
        return
    if not previous_transaction.nested or previous_transaction.parent is None:
        # the whole transaction (a session joined to an outer savepoint has a "nested" root)
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
    checkpoints: int = 0
    unsealed: int = 0


def _checkpoint_payload(
    up_to_index: int, last_event_id: int, head_hash: str, count: int, created_at: dt.datetime
) -> bytes:
    when = created_at.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
    payload = {
        "up_to_index": up_to_index,
        "last_event_id": last_event_id,
        "head_hash": head_hash,
        "count": count,
        "created_at": when,
    }
    return json.dumps(payload, sort_keys=True).encode()


def sign_checkpoint(
    key: str,
    up_to_index: int,
    last_event_id: int,
    head_hash: str,
    count: int,
    created_at: dt.datetime,
) -> str:
    """HMAC-SHA256 of the checkpoint's fields with the audit key (``IDMAJ_AUDIT_KEY``)."""
    payload = _checkpoint_payload(up_to_index, last_event_id, head_hash, count, created_at)
    return hmac.new(key.encode(), payload, hashlib.sha256).hexdigest()


def _signature_ok(key: str, cp: AuditCheckpoint) -> bool:
    expected = sign_checkpoint(
        key, cp.up_to_index, cp.last_event_id, cp.head_hash, cp.count, cp.created_at
    )
    return hmac.compare_digest(expected, cp.signature or "")


def checkpoint_as_json(cp: AuditCheckpoint) -> dict[str, Any]:
    """One line of the anchor file."""
    return {
        "id": cp.id,
        "up_to_index": cp.up_to_index,
        "last_event_id": cp.last_event_id,
        "head_hash": cp.head_hash,
        "count": cp.count,
        "created_at": cp.created_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "signature": cp.signature,
    }


def anchor_path() -> Path:
    return Path(current_app.config["AUDIT_ANCHOR_FILE"])


def read_anchors(path: Path | None = None) -> list[dict[str, Any]]:
    path = path or anchor_path()
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _iter_chain(sess: Session, batch: int = 5000) -> Iterator[AuditEvent]:
    """The sealed events in chain order."""
    last = 0
    while True:
        rows = (
            sess.execute(
                select(AuditEvent)
                .where(AuditEvent.chain_index > last)
                .order_by(AuditEvent.chain_index)
                .limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            return
        last = rows[-1].chain_index or 0
        for row in rows:
            yield row
            sess.expunge(row)


def verify(sess: Session | None = None) -> VerifyResult:
    """Walk the chain, check every checkpoint's signature and the anchor file; report the
    first event edited, inserted, deleted or reordered.

    On PostgreSQL, in a transaction of its own, verification reads one snapshot (REPEATABLE
    READ): a sealer committing meanwhile cannot make it see events without their checkpoint.
    """
    sess = sess or db_session()
    bind = sess.get_bind()
    own = (
        bind.dialect.name == "postgresql"
        and isinstance(bind, Engine)  # not a session joined to an outer transaction (tests)
        and not sess.in_transaction()
    )
    if own:
        sess.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    try:
        return _verify(sess)
    finally:
        if own:
            sess.rollback()


def _verify(sess: Session) -> VerifyResult:
    key = current_app.config["AUDIT_KEY"]
    checkpoints = list(sess.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.up_to_index)))
    for cp in checkpoints:
        if not _signature_ok(key, cp):
            return VerifyResult(
                False,
                0,
                cp.last_event_id,
                f"checkpoint {cp.id} has a wrong signature (the chain was rewritten in the "
                "database)",
            )
    pending_cps = iter(checkpoints)
    next_cp = next(pending_cps, None)
    prev = GENESIS_HASH
    count = 0
    first_of_range: int | None = None
    for event in _iter_chain(sess):
        count += 1
        if first_of_range is None:
            first_of_range = event.id
        if event.chain_index != count:
            return VerifyResult(
                False,
                count,
                event.id,
                "an event before it in the chain was deleted (its position is "
                f"{event.chain_index}, expected {count})",
            )
        if event.prev_hash != prev:
            return VerifyResult(
                False,
                count,
                event.id,
                "link to the previous event is broken (an event before it was deleted, "
                "inserted or moved)",
            )
        if compute_hash(event) != event.hash:
            return VerifyResult(False, count, event.id, "content was edited after it was written")
        prev = event.hash
        while next_cp is not None and next_cp.up_to_index == count:
            if next_cp.head_hash != prev or next_cp.last_event_id != event.id:
                return VerifyResult(
                    False,
                    count,
                    first_of_range,
                    f"the events up to {event.id} do not match signed checkpoint {next_cp.id} "
                    "(rewritten and rehashed, or reordered)",
                )
            first_of_range = None
            next_cp = next(pending_cps, None)
    if next_cp is not None:
        return VerifyResult(
            False,
            count,
            next_cp.last_event_id,
            f"the last events of the chain were deleted (signed checkpoint {next_cp.id} "
            f"covers {next_cp.up_to_index} events, {count} remain)",
        )
    signed_up_to = checkpoints[-1].up_to_index if checkpoints else 0
    if count > signed_up_to:
        unsigned = sess.scalar(
            select(AuditEvent.id).where(AuditEvent.chain_index == signed_up_to + 1)
        )
        return VerifyResult(
            False,
            count,
            unsigned,
            "sealed events that no signed checkpoint covers were added to the chain (right "
            "after the upgrade to the sealer, run `idmaj audit seal` once first)",
        )
    stray = sess.scalar(
        select(AuditEvent.id)
        .where(AuditEvent.chain_index.is_(None), AuditEvent.hash.is_not(None))
        .order_by(AuditEvent.id)
        .limit(1)
    )
    if stray is not None:
        return VerifyResult(False, count, stray, "an event was inserted outside the chain")
    by_id = {cp.id: cp for cp in checkpoints}
    for line in read_anchors():
        cp = by_id.get(line.get("id"))
        if cp is None or checkpoint_as_json(cp) != line:
            return VerifyResult(
                False,
                count,
                line.get("last_event_id"),
                f"checkpoint {line.get('id')} of the anchor file is missing or different in "
                "the database (events or checkpoints were deleted or rewritten)",
            )
    unsealed = (
        sess.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.hash.is_(None)))
        or 0
    )
    return VerifyResult(True, count, checkpoints=len(checkpoints), unsealed=unsealed)
