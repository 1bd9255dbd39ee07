"""The sealer: chains the unsealed audit events and signs a checkpoint, in the background.

Writers only INSERT their events (``hash`` NULL) at commit, without any lock. The sealer — run
by ``idmaj audit seal`` or as a periodic task of the worker, every few seconds — takes a lock
only sealers take (``pg_advisory_xact_lock`` on PostgreSQL; on SQLite the ``BEGIN IMMEDIATE``
every transaction starts with), then in ONE transaction:

1. reads the head of the chain (the sealed event with the highest ``chain_index``);
2. takes up to ``batch_size`` unsealed events in ``id`` order and gives each the next
   ``chain_index``, the previous hash and its own hash;
3. writes a checkpoint (up-to index, last event, head hash, count, time) signed with
   HMAC-SHA256 and the audit key;
4. commits, then appends the checkpoint to the anchor file (a file outside the database).

**Gaps and late commits.** The position in the chain is given by the sealer, not by the
sequence of ``id``: an event whose ``id`` was taken before a higher one but which commits after
it is simply not there yet when the batch is read, and is chained by a later run — after the
higher one. So the sealer never waits for an in-flight ``id``, never skips one, and the chain
has no gap by construction (``chain_index`` is 1, 2, 3…, unique). The chain order is therefore
"order of sealing" (nearly always the ``id`` order).

A crash mid-batch loses nothing: the batch is one transaction, rolled back whole, and the next
run starts again from the head. A crash after the commit but before the anchor file was written
is repaired by the next run, which appends every checkpoint the file does not have yet.
"""

from __future__ import annotations

import json
import os
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.audit import services
from core.audit.models import AuditCheckpoint, AuditEvent
from core.db import session as db_session
from core.db import utcnow
from core.files import open_private_append

SEALER_LOCK_KEY = 0x1D3A_A0D1  # pg_advisory_xact_lock key, taken by sealers only


def _take_sealer_lock(sess: Session) -> None:
    if sess.get_bind().dialect.name == "postgresql":
        sess.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEALER_LOCK_KEY})
    # SQLite: every transaction starts with BEGIN IMMEDIATE, one writer at a time


def seal_pending(batch_size: int = 5000, *, sess: Session | None = None) -> int:
    """Chain up to ``batch_size`` unsealed events and sign a checkpoint; commit; return how
    many events were sealed (0: nothing to do)."""
    sess = sess or db_session()
    try:
        _take_sealer_lock(sess)
        head = sess.execute(
            select(AuditEvent.chain_index, AuditEvent.hash, AuditEvent.id)
            .where(AuditEvent.chain_index.is_not(None))
            .order_by(AuditEvent.chain_index.desc())
            .limit(1)
        ).first()
        index, prev, last_id = head if head else (0, services.GENESIS_HASH, 0)
        signed = sess.scalar(select(func.max(AuditCheckpoint.up_to_index))) or 0
        batch = list(
            sess.scalars(
                select(AuditEvent)
                .where(AuditEvent.hash.is_(None))
                .order_by(AuditEvent.id)
                .limit(batch_size)
            )
        )
        for event in batch:
            index += 1
            event.chain_index = index
            event.prev_hash = prev
            event.hash = services.compute_hash(event)
            prev = event.hash
            last_id = event.id
        # a checkpoint per batch, and one for a chain no checkpoint covers yet (the events
        # chained before the sealer existed, at its first run)
        if index > signed:
            sess.flush()
            now = utcnow()
            key = _key()
            sess.add(
                AuditCheckpoint(
                    up_to_index=index,
                    last_event_id=last_id,
                    head_hash=prev,
                    count=index,
                    created_at=now,
                    signature=services.sign_checkpoint(key, index, last_id, prev, index, now),
                )
            )
            sess.flush()
        sess.commit()
    except BaseException:
        sess.rollback()
        raise
    anchor_checkpoints(sess)
    return len(batch)


def seal_all(batch_size: int = 5000, *, sess: Session | None = None) -> int:
    """Seal until nothing is left (the CLI's ``--all``; tests)."""
    total = 0
    while n := seal_pending(batch_size, sess=sess):
        total += n
    return total


def _key() -> str:
    from flask import current_app

    return current_app.config["AUDIT_KEY"]


def anchor_checkpoints(sess: Session | None = None) -> int:
    """Append to the anchor file every checkpoint it does not have yet; return how many."""
    sess = sess or db_session()
    path = services.anchor_path()
    lines = services.read_anchors(path)
    last = max((line.get("id", 0) for line in lines), default=0)
    missing = list(
        sess.scalars(
            select(AuditCheckpoint).where(AuditCheckpoint.id > last).order_by(AuditCheckpoint.id)
        )
    )
    out: list[dict[str, Any]] = [services.checkpoint_as_json(cp) for cp in missing]
    sess.rollback()  # end the read transaction: no lock kept while writing the file
    if not out:
        return 0
    with os.fdopen(open_private_append(path), "a", encoding="utf-8") as fh:
        for row in out:
            fh.write(json.dumps(row, sort_keys=True) + "\n")
        fh.flush()
    return len(out)
