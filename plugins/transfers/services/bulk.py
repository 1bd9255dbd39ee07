"""Bulk transfers (a new prison opening): a list of registration numbers, one request per
detainee, each requested, refused or vetoed on its own; the summary is kept on the batch."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from core.audit import services as audit
from core.db import session as db_session
from core.detainees.models import Detainee
from core.errors import Blocked, DomainError, Forbidden
from core.identity.services import require
from core.principals import Principal
from core.scoping import can_see_establishment
from core.validation import ascii_digits
from plugins.transfers.models import BulkBatch
from plugins.transfers.services import workflow
from plugins.transfers.services.common import establishment_by_code, raise_if

MAX_BULK = 5000
SYNC_LIMIT = 100  # a longer list goes to the task queue (a page must answer quickly)
CHUNK = 200
RN_RE = re.compile(r"^\d{4}-\d{6,}$")


@dataclass
class BulkResult:
    batch: BulkBatch | None
    requested: list[tuple[str, int]] = field(default_factory=list)  # (rn, transfer id)
    blocked: list[tuple[str, str]] = field(default_factory=list)  # (rn, why)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (rn, why)


def parse_numbers(text: Any) -> list[str]:
    """Registration numbers from a pasted list (lines, commas, spaces; Arabic-Indic digits
    read), in order, without repeats."""
    seen: dict[str, None] = {}
    for token in re.split(r"[\s,;]+", ascii_digits(str(text or ""))):
        if token:
            seen.setdefault(token.strip(), None)
    return list(seen)


def create_batch(
    origin_code: Any,
    destination_code: Any,
    numbers: list[str],
    data: dict[str, Any],
    actor: Principal,
) -> BulkBatch:
    """Check and keep a bulk transfer (audited); its requests are made by
    :func:`process_batch` — at once for a short list, by the task queue for a long one."""
    require(actor, "transfers.request")
    errors: dict[str, str] = {}
    try:
        origin = establishment_by_code(origin_code, "origin")
    except DomainError as exc:
        errors.update(exc.fields)
        origin = None
    try:
        destination = establishment_by_code(destination_code, "destination")
    except DomainError as exc:
        errors.update(exc.fields)
        destination = None
    if not numbers:
        errors["numbers"] = _("Give at least one registration number.")
    elif len(numbers) > MAX_BULK:
        errors["numbers"] = ngettext(
            "At most %(num)d detainee at once.", "At most %(num)d detainees at once.", MAX_BULK
        )
    raise_if(errors)
    assert origin is not None and destination is not None
    if not can_see_establishment(actor, origin.id):
        raise Forbidden(_("You are not allowed to do this."))
    request = _request_data(destination.code, data)
    workflow.validate_request(request, origin.id)  # the shared fields, once
    sess = db_session()
    batch = BulkBatch(
        origin_id=origin.id,
        destination_id=destination.id,
        reason=request["reason"],
        reason_text=request["reason_text"] if request["reason"] == "other" else "",
        created_by=getattr(actor, "username", "") or "system",
        created_by_id=getattr(actor, "id", None),
        numbers=[str(n)[:40] for n in numbers],
        position=0,
        done=False,
        summary={
            "requested": 0,
            "blocked": [],
            "refused": [],
            "blocked_count": 0,
            "refused_count": 0,
        },
    )
    sess.add(batch)
    sess.flush()
    audit.record(
        "transfers.bulk",
        "transfers_bulk",
        str(batch.id),
        establishment_id=origin.id,
        summary={"destination": destination.code, "detainees": len(numbers)},
        actor=actor,
    )
    return batch


def _request_data(destination_code: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "transfer",
        "destination": destination_code,
        "reason": data.get("reason") or "",
        "reason_text": data.get("reason_text") or "",
        "note": data.get("note") or "",
    }


def process_batch(batch: BulkBatch, actor: Principal, limit: int | None = None) -> BulkResult:
    """Request the transfers of the batch's next ``limit`` numbers (all without a limit), each
    in its own savepoint: a vetoed or refused one is listed with its reason, the others go on.
    The position moves in the same transaction, so a number is never requested twice."""
    sess = db_session()
    numbers = list(batch.numbers or [])
    end = len(numbers) if limit is None else min(len(numbers), batch.position + limit)
    chunk = numbers[batch.position : end]
    request = _request_data(
        batch.destination.code,
        {
            "reason": getattr(batch.reason, "value", batch.reason),
            "reason_text": batch.reason_text,
        },
    )
    result = BulkResult(batch)
    valid = [n for n in chunk if RN_RE.match(n)]
    for n in chunk:
        if not RN_RE.match(n):
            result.refused.append((n, _("This is not a registration number.")))
    found = {
        d.registration_number: d
        for d in sess.scalars(
            select(Detainee).where(
                Detainee.registration_number.in_(valid),
                Detainee.establishment_id == batch.origin_id,
            )
        )
    }
    for n in valid:
        det = found.get(n)
        if det is None:
            result.refused.append((n, _("No detainee with this number is held at the origin.")))
            continue
        try:
            with sess.begin_nested():
                transfer = workflow.request_transfer(det, request, actor, bulk_id=batch.id)
            result.requested.append((n, transfer.id))
        except Blocked as exc:
            result.blocked.append((n, "; ".join(exc.reasons)))
        except DomainError as exc:
            result.refused.append((n, str(exc.message)))
    summary = dict(batch.summary or {})
    summary["requested"] = int(summary.get("requested", 0)) + len(result.requested)
    summary["blocked"] = (list(summary.get("blocked", [])) + [list(x) for x in result.blocked])[
        :500
    ]
    summary["refused"] = (list(summary.get("refused", [])) + [list(x) for x in result.refused])[
        :500
    ]
    summary["blocked_count"] = int(summary.get("blocked_count", 0)) + len(result.blocked)
    summary["refused_count"] = int(summary.get("refused_count", 0)) + len(result.refused)
    batch.summary = summary
    batch.position = end
    batch.done = end >= len(numbers)
    sess.flush()
    return result


def bulk_request(
    origin_code: Any,
    destination_code: Any,
    numbers: list[str],
    data: dict[str, Any],
    actor: Principal,
) -> BulkResult:
    """A bulk transfer done at once, in the caller's transaction (short lists, the benchmark)."""
    batch = create_batch(origin_code, destination_code, numbers, data, actor)
    return process_batch(batch, actor)


def run_queued_batches(chunk: int = CHUNK) -> int:
    """The ``transfers.bulk`` periodic task: work through the batches left for the queue, a
    chunk at a time (committed after each, as the person who made the batch: their
    permissions and scope, their name in the audit trail). Returns the numbers handled."""
    from core.identity.models import User
    from core.principals import acting_as

    sess = db_session()
    handled = 0
    for batch_id in list(
        sess.scalars(select(BulkBatch.id).where(BulkBatch.done.is_(False)).order_by(BulkBatch.id))
    ):
        batch = sess.get(BulkBatch, batch_id)
        user = sess.get(User, batch.created_by_id) if batch and batch.created_by_id else None
        if batch is None or user is None or not user.is_active:
            if batch is not None:
                batch.done = True  # nobody left to act for: stop, as it stands
                sess.commit()
            continue
        while not batch.done:
            before = batch.position
            with acting_as(user):
                process_batch(batch, user, limit=chunk)
            handled += batch.position - before
            sess.commit()
    return handled


@dataclass
class ApprovalResult:
    approved: list[int] = field(default_factory=list)
    blocked: list[tuple[str, str]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def bulk_approve(
    batch: BulkBatch, actor: Principal, *, judicial_authorisation: Any = ""
) -> ApprovalResult:
    """The origin's director approves a bulk transfer's requests, each on its own (its own
    savepoint, its own vetoes; a pretrial detainee needs the reference given): the others go
    on when one is blocked or refused."""
    from plugins.transfers.models import Transfer

    require(actor, "transfers.approve")
    if not can_see_establishment(actor, batch.origin_id):
        raise Forbidden(_("You are not allowed to do this."))
    sess = db_session()
    result = ApprovalResult()
    pending = sess.scalars(
        select(Transfer)
        .where(Transfer.bulk_id == batch.id, Transfer.status == "requested")
        .order_by(Transfer.id)
    ).unique()
    for transfer in list(pending):
        rn = transfer.detainee.registration_number
        try:
            with sess.begin_nested():
                workflow.approve(transfer, actor, judicial_authorisation=judicial_authorisation)
            result.approved.append(transfer.id)
        except Blocked as exc:
            result.blocked.append((rn, "; ".join(exc.reasons)))
        except DomainError as exc:
            why = "; ".join(str(m) for m in exc.fields.values()) or str(exc.message)
            result.refused.append((rn, why))
    return result
